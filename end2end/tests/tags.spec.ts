import { test, expect, type APIRequestContext, type Page, type Response } from '@playwright/test';
import {
  expectNoFullReload,
  gotoHydrated,
  markWindow,
  nativePost,
  numberIn,
  recordPosts,
  waitForHydration,
} from './helpers';

// demo-contract.md, `/tags`: tagged cache, revalidated and updated.
//
// The stored value is a counter: every change (silent, update_tag or
// revalidate_tag) adds one to it.

const SILENTLY = '/api/change_price_silently';
const UPDATE_TAG = '/api/change_price_and_update_tag';
const REVALIDATE_TAG = '/api/change_price_and_revalidate_tag';

/**
 * Brings the cache in line with the store whatever earlier tests (or runs)
 * left behind: update_tag expires the tag `price`, so the next read is the
 * stored value. (It also adds one to the stored value; tests only count from
 * what the page shows afterwards.)
 */
async function syncPriceCache(request: APIRequestContext) {
  const response = await request.post(UPDATE_TAG);
  expect(response.status(), `POST ${UPDATE_TAG}`).toBe(200);
}

/** The price as `get_price` reads it (through the cache). */
async function getPrice(request: APIRequestContext): Promise<number> {
  const response = await request.post('/api/get_price');
  expect(response.status(), 'POST /api/get_price').toBe(200);
  return Number(await response.json());
}

/** Clicks a change button and waits for its server function's response. */
async function clickAndAwait(page: Page, testId: string, endpoint: string): Promise<Response> {
  const response = page.waitForResponse(
    (r) => new URL(r.url()).pathname === endpoint && r.request().method() === 'POST',
  );
  await page.getByTestId(testId).click();
  const settled = await response;
  expect(settled.status(), `POST ${endpoint}`).toBe(200);
  return settled;
}

/** The cached value, after a reload of the page. */
async function valueAfterReload(page: Page): Promise<number> {
  await page.reload();
  await waitForHydration(page);
  return numberIn(page, 'cached-value');
}

test.describe('with JavaScript', () => {
  // contract: "`[data-testid=cached-value]` shows a value read through the tagged data cache under the tag `price`."
  test('the page shows the cached value as a number, the same one get_price reads', async ({
    page,
    request,
  }) => {
    await syncPriceCache(request);
    await gotoHydrated(page, '/tags');
    const value = page.getByTestId('cached-value');
    await expect(value).toHaveText(/^\s*\d+\s*$/);
    expect(await getPrice(request)).toBe(await numberIn(page, 'cached-value'));
  });

  // contract: "`button[data-testid=change-silently]` changes the stored value without touching the cache: the page keeps showing the cached (stale) value."
  // contract: "`button[data-testid=change-and-update-tag]` changes the stored value and expires the tag `price` at once: the page shows the new value after that one action."
  test('a silent change keeps the cached value, even after a reload; update_tag then shows old+2 in place', async ({
    page,
    request,
  }) => {
    await syncPriceCache(request);
    await gotoHydrated(page, '/tags');
    const value = page.getByTestId('cached-value');
    const old = await numberIn(page, 'cached-value');
    const silents = recordPosts(page, SILENTLY);
    const updates = recordPosts(page, UPDATE_TAG);
    await markWindow(page);

    await clickAndAwait(page, 'change-silently', SILENTLY);
    // Deliberate: give any follow-up read a moment to land before asserting nothing changed.
    await page.waitForTimeout(300);
    await expect(value).toHaveText(String(old));
    await expectNoFullReload(page);
    expect(silents).toHaveLength(1);

    // A new render (and a plain read) still gets the cached value.
    expect(await valueAfterReload(page)).toBe(old);
    expect(await getPrice(request)).toBe(old);

    // update_tag: the stored value (old + 1 silent + 1 now) shows after this one action.
    await markWindow(page);
    await clickAndAwait(page, 'change-and-update-tag', UPDATE_TAG);
    await expect(value).toHaveText(String(old + 2));
    await expectNoFullReload(page);
    expect(updates).toHaveLength(1);

    // It stays fresh: a reload and a plain read agree.
    expect(await valueAfterReload(page)).toBe(old + 2);
    expect(await getPrice(request)).toBe(old + 2);
  });

  // contract: "`button[data-testid=change-and-update-tag]` changes the stored value and expires the tag `price` at once: the page shows the new value after that one action."
  test('update_tag alone shows old+1 at once, without a full page load', async ({
    page,
    request,
  }) => {
    await syncPriceCache(request);
    await gotoHydrated(page, '/tags');
    const old = await numberIn(page, 'cached-value');
    const updates = recordPosts(page, UPDATE_TAG);
    await markWindow(page);

    await clickAndAwait(page, 'change-and-update-tag', UPDATE_TAG);
    await expect(page.getByTestId('cached-value')).toHaveText(String(old + 1));
    await expectNoFullReload(page);
    expect(updates).toHaveLength(1);
    expect(await getPrice(request)).toBe(old + 1);
  });

  // Beyond the contract: the demo's third button, revalidate_tag (stale-while-revalidate).
  // Last in this file: it leaves the cache fresh again once the poll succeeds.
  test('revalidate_tag: a later read is fresh (old+1), the first may still be stale', async ({
    page,
    request,
  }) => {
    await syncPriceCache(request);
    await gotoHydrated(page, '/tags');
    const value = page.getByTestId('cached-value');
    const old = await numberIn(page, 'cached-value');

    await clickAndAwait(page, 'change-and-revalidate-tag', REVALIDATE_TAG);
    // Right after the action the page shows either the stale value or the fresh one, nothing else.
    await expect(value).toHaveText(/^\s*\d+\s*$/);
    expect([old, old + 1]).toContain(await numberIn(page, 'cached-value'));

    // The background refresh lands: a later render shows old+1.
    await expect
      .poll(() => valueAfterReload(page), {
        message: 'a reload eventually shows the revalidated value',
        intervals: [250, 500, 1000, 1000],
        timeout: 10_000,
      })
      .toBe(old + 1);
    expect(await getPrice(request)).toBe(old + 1);
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  // contract: "`button[data-testid=change-and-update-tag]` changes the stored value and expires the tag `price` at once: the page shows the new value after that one action."
  test('change-and-update-tag posts the form natively and the returned page shows old+1', async ({
    page,
    request,
  }) => {
    await syncPriceCache(request);
    await page.goto('/tags');
    const old = await numberIn(page, 'cached-value');

    const post = nativePost(page);
    await page.getByTestId('change-and-update-tag').click();
    await post;

    await expect(page.getByTestId('cached-value')).toHaveText(String(old + 1));
    expect(new URL(page.url()).pathname).toBe('/tags');
    expect(await getPrice(request)).toBe(old + 1);
  });
});
