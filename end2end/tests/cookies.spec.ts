import { test, expect, type BrowserContext, type Page } from '@playwright/test';
import {
  expectNoFullReload,
  gotoHydrated,
  markWindow,
  nativePost,
  numberIn,
  recordPosts,
  waitForHydration,
} from './helpers';

// demo-contract.md, `/cookies`: cookies set and deleted inside an action.

/** The browser's own cookie `name`, if any. */
async function nameCookie(context: BrowserContext) {
  return (await context.cookies()).find((c) => c.name === 'name');
}

/** Clicks a cookie button and waits for its server function's response. */
async function clickAndAwait(page: Page, testId: string, endpoint: string) {
  const response = page.waitForResponse(
    (r) => new URL(r.url()).pathname === endpoint && r.request().method() === 'POST',
  );
  await page.getByTestId(testId).click();
  await response;
}

test.beforeEach(async ({ context }) => {
  await context.clearCookies();
});

test.describe('with JavaScript', () => {
  // contract: "`[data-testid=cookie-value]` shows the value of the cookie `name` as read by the server during rendering, or `(none)`."
  test('without the cookie the page shows (none)', async ({ page }) => {
    await gotoHydrated(page, '/cookies');
    await expect(page.getByTestId('cookie-value')).toHaveText('(none)');
  });

  // contract: "`[data-testid=cookie-value]` shows the value of the cookie `name` as read by the server during rendering"
  test('a cookie the page script cannot read (HttpOnly) is still shown: the server read it', async ({
    page,
    context,
    baseURL,
  }) => {
    await context.addCookies([{ name: 'name', value: 'Zed', url: baseURL!, httpOnly: true }]);
    await gotoHydrated(page, '/cookies');
    await expect(page.getByTestId('cookie-value')).toHaveText('Zed');
  });

  // contract: "`button[data-testid=set-cookie]` sets `name=Delba`; `button[data-testid=delete-cookie]` deletes it. After either, the server-rendered value updates without a full page load."
  // contract: "`[data-testid=client-counter]` with `button[data-testid=client-increment]` is client-only state; it keeps its value across both actions."
  test('set and delete update the value in place, and the client counter keeps its value', async ({
    page,
    context,
  }) => {
    await gotoHydrated(page, '/cookies');
    const value = page.getByTestId('cookie-value');
    const counter = page.getByTestId('client-counter');
    await expect(value).toHaveText('(none)');

    const start = await numberIn(page, 'client-counter');
    for (let i = 1; i <= 3; i++) {
      await page.getByTestId('client-increment').click();
      await expect(counter).toHaveText(new RegExp(`(^|\\D)${start + i}$`));
    }
    const counted = new RegExp(`(^|\\D)${start + 3}$`);

    const sets = recordPosts(page, '/api/set_name_cookie');
    const deletes = recordPosts(page, '/api/delete_name_cookie');
    await markWindow(page);

    await clickAndAwait(page, 'set-cookie', '/api/set_name_cookie');
    await expect(value).toHaveText('Delba');
    expect((await nameCookie(context))?.value).toBe('Delba');
    await expect(counter).toHaveText(counted);
    await expectNoFullReload(page);

    await clickAndAwait(page, 'delete-cookie', '/api/delete_name_cookie');
    await expect(value).toHaveText('(none)');
    expect(await nameCookie(context)).toBeUndefined();
    await expect(counter).toHaveText(counted);
    await expectNoFullReload(page);

    expect(sets).toHaveLength(1);
    expect(deletes).toHaveLength(1);
  });

  // contract: "`button[data-testid=set-cookie]` sets `name=Delba`; `button[data-testid=delete-cookie]` deletes it."
  test('the cookie is really set and deleted in the browser: a reload reads it back', async ({
    page,
    context,
  }) => {
    await gotoHydrated(page, '/cookies');
    await clickAndAwait(page, 'set-cookie', '/api/set_name_cookie');
    await expect(page.getByTestId('cookie-value')).toHaveText('Delba');
    await page.reload();
    await waitForHydration(page);
    await expect(page.getByTestId('cookie-value')).toHaveText('Delba');
    expect((await nameCookie(context))?.value).toBe('Delba');

    await clickAndAwait(page, 'delete-cookie', '/api/delete_name_cookie');
    await expect(page.getByTestId('cookie-value')).toHaveText('(none)');
    await page.reload();
    await waitForHydration(page);
    await expect(page.getByTestId('cookie-value')).toHaveText('(none)');
    expect(await nameCookie(context)).toBeUndefined();
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  // contract: "`[data-testid=cookie-value]` shows the value of the cookie `name` as read by the server during rendering, or `(none)`."
  test('the server renders the cookie value, or (none)', async ({ page, context, baseURL }) => {
    await page.goto('/cookies');
    await expect(page.getByTestId('cookie-value')).toHaveText('(none)');
    await context.addCookies([{ name: 'name', value: 'Zed', url: baseURL! }]);
    await page.goto('/cookies');
    await expect(page.getByTestId('cookie-value')).toHaveText('Zed');
  });

  // contract: "`button[data-testid=set-cookie]` sets `name=Delba`; `button[data-testid=delete-cookie]` deletes it. After either, the server-rendered value updates"
  test('set and delete work as native form submissions', async ({ page, context }) => {
    await page.goto('/cookies');
    const value = page.getByTestId('cookie-value');
    await expect(value).toHaveText('(none)');

    const setPost = nativePost(page);
    await page.getByTestId('set-cookie').click();
    await setPost;
    await expect(value).toHaveText('Delba');
    expect((await nameCookie(context))?.value).toBe('Delba');

    const deletePost = nativePost(page);
    await page.getByTestId('delete-cookie').click();
    await deletePost;
    await expect(value).toHaveText('(none)');
    expect(await nameCookie(context)).toBeUndefined();
  });
});
