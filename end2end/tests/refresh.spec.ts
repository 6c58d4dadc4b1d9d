import { test, expect, type APIRequestContext, type Page, type Response } from '@playwright/test';
import {
  expectNoFullReload,
  gotoHydrated,
  markWindow,
  nativePost,
  numberIn,
  recordPosts,
  recordServerRequests,
  waitForHydration,
} from './helpers';

// demo-contract.md, `/refresh`: refreshing after a mutation.

const BUMP = '/api/bump_counter';

/** The server counter, straight from the server (`get_server_count` answers a bare JSON number). */
async function getServerCount(request: APIRequestContext): Promise<number> {
  const response = await request.post('/api/get_server_count');
  expect(response.status(), 'POST /api/get_server_count').toBe(200);
  const count = await response.json();
  expect(typeof count, 'get_server_count answers a JSON number').toBe('number');
  return count as number;
}

/** The count inside `[data-testid=server-count]` of the server-rendered HTML of `/refresh`. */
async function countInServerHtml(request: APIRequestContext): Promise<number> {
  const response = await request.get('/refresh');
  expect(response.status(), 'GET /refresh').toBe(200);
  const html = await response.text();
  const match = html.match(/data-testid="server-count"[^>]*>([\s\S]*?)<\/span>/);
  expect(match, 'the server-rendered HTML holds [data-testid=server-count]').not.toBeNull();
  // Hydration markers (`<!---->`, `<!>`) may sit around the number.
  const text = match![1].replace(/<!--[\s\S]*?-->|<![^>]*>/g, '').trim();
  expect(text, 'server-count in the HTML is a number').toMatch(/^\d+$/);
  return Number(text);
}

/** Clicks bump and waits for the bump_counter response. */
async function bump(page: Page): Promise<Response> {
  const response = page.waitForResponse(
    (r) => new URL(r.url()).pathname === BUMP && r.request().method() === 'POST',
  );
  await page.getByTestId('bump').click();
  return response;
}

test.describe('with JavaScript', () => {
  // contract: "`[data-testid=server-count]` shows a server counter read fresh on every render (never cached)."
  test('the server renders the current count, read fresh on every render', async ({
    page,
    request,
  }) => {
    const count = await getServerCount(request);
    expect(await countInServerHtml(request)).toBe(count);
    await gotoHydrated(page, '/refresh');
    await expect(page.getByTestId('server-count')).toHaveText(String(count));

    // A bump from outside the page (plain HTTP, no envelope) shows in the very next render.
    const outside = await request.post(BUMP);
    expect(outside.status(), `POST ${BUMP}`).toBe(200);
    expect(await getServerCount(request)).toBe(count + 1);
    expect(await countInServerHtml(request)).toBe(count + 1);
    await page.reload();
    await waitForHydration(page);
    await expect(page.getByTestId('server-count')).toHaveText(String(count + 1));
  });

  // contract: "`button[data-testid=bump]` calls a server function that increments the counter and refreshes the current page; the new count shows without a full page load."
  test('bump calls bump_counter once and the new count shows without a full page load', async ({
    page,
  }) => {
    await gotoHydrated(page, '/refresh');
    const before = await numberIn(page, 'server-count');
    const bumps = recordPosts(page, BUMP);
    const seen = recordServerRequests(page);
    await markWindow(page);

    const response = await bump(page);
    expect(response.status()).toBe(200);
    await expect(page.getByTestId('server-count')).toHaveText(String(before + 1));
    await expectNoFullReload(page);
    expect(bumps).toHaveLength(1);
    expect(seen.filter((r) => r.isNavigationRequest()), 'no document request').toHaveLength(0);
    expect(new URL(page.url()).pathname).toBe('/refresh');

    // The function asked for a refresh of the page it was called from.
    expect(response.headers()['content-type'] ?? '').toMatch(/^application\/x-tandem\+json/);
    expect(JSON.parse(await response.text()).effects?.refresh, 'effects.refresh').toBe(true);
  });

  // contract: "`[data-testid=server-count]` shows a server counter read fresh on every render (never cached)."
  // contract: "`button[data-testid=bump]` calls a server function that increments the counter and refreshes the current page"
  test('each bump adds exactly one; the server HTML and get_server_count agree with the page', async ({
    page,
    request,
  }) => {
    await gotoHydrated(page, '/refresh');
    const start = await numberIn(page, 'server-count');
    expect(await getServerCount(request)).toBe(start);
    await markWindow(page);

    await bump(page);
    await expect(page.getByTestId('server-count')).toHaveText(String(start + 1));
    expect(await countInServerHtml(request)).toBe(start + 1);
    expect(await getServerCount(request)).toBe(start + 1);

    await bump(page);
    await expect(page.getByTestId('server-count')).toHaveText(String(start + 2));
    expect(await countInServerHtml(request)).toBe(start + 2);
    expect(await getServerCount(request)).toBe(start + 2);
    await expectNoFullReload(page);

    // And a reload (a fresh server render) shows the same.
    await page.reload();
    await waitForHydration(page);
    await expect(page.getByTestId('server-count')).toHaveText(String(start + 2));
  });
});

// Not in the contract: the page's own use of `refresh_page` and
// `use_concurrent_action` (the README lists both).
test('"Read again" reads the page\'s data again from the browser, one request per query', async ({
  page,
  request,
}) => {
  await gotoHydrated(page, '/refresh');
  const shown = await numberIn(page, 'server-count');
  // Another client bumps the counter; the page does not know yet.
  expect((await request.post(BUMP)).status()).toBe(200);
  const now = await getServerCount(request);
  expect(now).toBeGreaterThan(shown);
  await expect(page.getByTestId('server-count')).toHaveText(String(shown));
  await markWindow(page);
  const seen = recordServerRequests(page);
  await page.getByTestId('reload-data').click();
  await expect(page.getByTestId('server-count')).toHaveText(String(now));
  expect(seen.map((r) => `${r.method()} ${new URL(r.url()).pathname}`)).toEqual([
    'POST /api/get_server_count',
  ]);
  await expectNoFullReload(page);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  // contract: "`button[data-testid=bump]` calls a server function that increments the counter and refreshes the current page"
  test('bump posts the form natively and the returned page shows the incremented count', async ({
    page,
    request,
  }) => {
    await page.goto('/refresh');
    const before = await numberIn(page, 'server-count');
    expect(await getServerCount(request)).toBe(before);

    const post = nativePost(page);
    await page.getByTestId('bump').click();
    await post;

    await expect(page.getByTestId('server-count')).toHaveText(String(before + 1));
    expect(new URL(page.url()).pathname).toBe('/refresh');
    expect(await getServerCount(request)).toBe(before + 1);
  });
});
