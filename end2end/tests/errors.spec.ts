import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { expectNoFullReload, functionStatus, gotoHydrated, markWindow, nativePostResponse } from './helpers';

// demo-contract.md, `/errors`: expected and unexpected failures.

/** What the panicking function says: logged by the server, never shown. */
const PANIC_MESSAGE = 'the warehouse database is on fire';

/** The server's log (`cargo xtask test` passes its path). */
function serverLog(): string {
  const path = process.env.SERVER_LOG;
  expect(path, 'SERVER_LOG names the server\'s log file').toBeTruthy();
  return readFileSync(path!, 'utf8');
}

/** The log line holding `id`, once the server has written it. */
async function loggedLine(id: string): Promise<string> {
  let line = '';
  await expect
    .poll(() => {
      line = serverLog().split('\n').find((l) => l.includes(id)) ?? '';
      return line;
    }, { message: `the server logged error id ${id}` })
    .not.toBe('');
  return line;
}

async function expectBoundaryWithLoggedId(page: Page): Promise<string> {
  const boundary = page.getByTestId('error-boundary');
  await expect(boundary).toBeVisible();
  const id = ((await boundary.getByTestId('error-id').textContent()) ?? '').trim();
  expect(id).toMatch(/^[0-9a-f]{12}$/);
  // The id the server logged the panic with, with its full message...
  expect(await loggedLine(id)).toContain(PANIC_MESSAGE);
  // ...which the browser never sees (the test server is a release build).
  await expect(boundary).not.toContainText('fire');
  expect(await page.content()).not.toContain(PANIC_MESSAGE);
  return id;
}

test.describe('with JavaScript', () => {
  // contract: "`button[data-testid=fail-expected]` calls a function that returns a typed, expected error; `[data-testid=expected-error]` shows `Out of stock`, and nothing else on the page changes."
  test('an expected error is shown where the state is, and nothing else changes', async ({ page }) => {
    await gotoHydrated(page, '/errors');
    const main = page.locator('main');
    const before = await main.innerText();
    await markWindow(page);
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/order_item');
    await page.getByTestId('fail-expected').click();
    expect(await functionStatus(await answered)).toBe(200);
    await expect(page.getByTestId('expected-error')).toHaveText('Out of stock');
    const after = await main.innerText();
    expect(after.replace('Out of stock', '').replace(/\s+/g, ' ')).toBe(before.replace(/\s+/g, ' '));
    await expect(page.getByTestId('error-boundary')).toHaveCount(0);
    await expectNoFullReload(page);
  });

  // contract: "`button[data-testid=fail-unexpected]` calls a function that panics. The app's error boundary `[data-testid=error-boundary]` appears; it shows `[data-testid=error-id]`, the same id the server logged with the panic, and never the panic's message in a release build."
  // contract: "`button[data-testid=error-reset]` inside it brings the page back."
  test('a panic reaches the error boundary with the logged id; reset brings the page back', async ({ page }) => {
    await gotoHydrated(page, '/errors');
    await markWindow(page);
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/explode');
    await page.getByTestId('fail-unexpected').click();
    expect(await functionStatus(await answered)).toBe(500);
    const first = await expectBoundaryWithLoggedId(page);
    await expect(page.getByTestId('fail-unexpected')).toHaveCount(0);

    await page.getByTestId('error-reset').click();
    await expect(page.getByTestId('error-boundary')).toHaveCount(0);
    await expect(page.getByTestId('fail-unexpected')).toBeVisible();
    await expectNoFullReload(page);

    // It fails again, with a new id: the reset left the page working.
    await page.getByTestId('fail-unexpected').click();
    const second = await expectBoundaryWithLoggedId(page);
    expect(second).not.toBe(first);
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  // contract: "`button[data-testid=fail-expected]` calls a function that returns a typed, expected error; `[data-testid=expected-error]` shows `Out of stock`"
  test('an expected error is shown in the page the post answers with', async ({ page }) => {
    await page.goto('/errors');
    const answered = nativePostResponse(page);
    await page.getByTestId('fail-expected').click();
    expect((await answered).status()).toBe(200);
    await expect(page.getByTestId('expected-error')).toHaveText('Out of stock');
    await expect(page.getByTestId('error-boundary')).toHaveCount(0);
  });

  // contract: "Without JavaScript the unexpected failure answers HTTP 500 with the same boundary and id."
  test('a panic answers 500 with the boundary and the logged id; reset brings the page back', async ({ page }) => {
    await page.goto('/errors');
    const answered = nativePostResponse(page);
    await page.getByTestId('fail-unexpected').click();
    expect((await answered).status()).toBe(500);
    await expectBoundaryWithLoggedId(page);

    const back = page.waitForResponse((r) => r.request().isNavigationRequest());
    await page.getByTestId('error-reset').click();
    expect((await back).status()).toBe(200);
    await expect(page.getByTestId('error-boundary')).toHaveCount(0);
    await expect(page.getByTestId('fail-unexpected')).toBeVisible();
    expect(new URL(page.url()).pathname).toBe('/errors');
  });
});
