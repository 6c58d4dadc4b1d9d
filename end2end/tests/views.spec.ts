import { test, expect } from '@playwright/test';
import { getViews, gotoHydrated, holdRoute, recordPosts, waitForHydration } from './helpers';

// demo-contract.md, `/views`: a server function on mount.

const ENDPOINT = '/api/increment_views';

// contract: "`[data-testid=views]` reads `Total Views: N`."
// contract: "Each time the page mounts in the browser" (rendering on the server is not a mount: it counts nothing)
// contract: "`[data-testid=views-pending]` is present only while that transition is pending." (never in the server's HTML)
test('the server renders "Total Views: N" with the stored total, and rendering alone counts nothing', async ({
  request,
}) => {
  const before = await getViews(request);
  const response = await request.get('/views');
  expect(response.status()).toBe(200);
  const html = await response.text();
  expect(html).toMatch(
    // Hydration markers (`<!---->`, `<!>`) may sit between the text and the number.
    new RegExp(`data-testid="views"[^>]*>(?:<![^>]*>)*Total Views:\\s*(?:<![^>]*>)*${before}\\D`),
  );
  expect(html).not.toContain('data-testid="views-pending"');
  expect(await getViews(request)).toBe(before);
});

// contract: "Each time the page mounts in the browser, `increment_views` runs once inside a transition and the page shows the new total."
test('a mount calls increment_views exactly once and shows the total it returns', async ({
  page,
  request,
}) => {
  const before = await getViews(request);
  const calls = recordPosts(page, ENDPOINT);
  const response = page.waitForResponse(
    (r) => new URL(r.url()).pathname === ENDPOINT && r.request().method() === 'POST',
  );
  await gotoHydrated(page, '/views');
  const returned = before + 1;
  const body = (await (await response).text()).trim();
  // A bare JSON number on the wire is the function's own result; compare it when it is one.
  if (/^\d+$/.test(body)) expect(Number(body)).toBe(returned);
  await expect(page.getByTestId('views')).toHaveText(`Total Views: ${returned}`);
  await expect(page.getByTestId('views-pending')).toHaveCount(0);
  // Let any stray second call show up before counting.
  await page.waitForLoadState('networkidle');
  expect(calls).toHaveLength(1);
  expect(await getViews(request)).toBe(returned);
});

// contract: "`[data-testid=views-pending]` is present only while that transition is pending."
// contract: "increment_views runs once inside a transition and the page shows the new total"
test('views-pending shows while increment_views is in flight and goes away when it settles', async ({
  page,
  request,
}) => {
  const before = await getViews(request);
  const calls = recordPosts(page, ENDPOINT);
  const held = await holdRoute(page, `**${ENDPOINT}`);
  await page.goto('/views');
  await held.arrived;

  // In flight: pending shown, the server-rendered total still on screen.
  await expect(page.getByTestId('views-pending')).toBeVisible();
  await expect(page.getByTestId('views')).toHaveText(`Total Views: ${before}`);

  held.release();
  await expect(page.getByTestId('views-pending')).toHaveCount(0);
  await expect(page.getByTestId('views')).toHaveText(`Total Views: ${before + 1}`);
  await page.waitForLoadState('networkidle');
  expect(calls).toHaveLength(1);
  expect(await getViews(request)).toBe(before + 1);
});

// contract: "Each time the page mounts in the browser, `increment_views` runs once"
test('a reload mounts the page again: one more call, one more view', async ({ page, request }) => {
  const before = await getViews(request);
  const calls = recordPosts(page, ENDPOINT);
  await gotoHydrated(page, '/views');
  await expect(page.getByTestId('views')).toHaveText(`Total Views: ${before + 1}`);
  await page.waitForLoadState('networkidle');
  expect(calls).toHaveLength(1);

  await page.reload();
  await waitForHydration(page);
  await expect(page.getByTestId('views')).toHaveText(`Total Views: ${before + 2}`);
  await expect(page.getByTestId('views-pending')).toHaveCount(0);
  await page.waitForLoadState('networkidle');
  expect(calls).toHaveLength(2);
  expect(await getViews(request)).toBe(before + 2);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  // contract: "`[data-testid=views]` reads `Total Views: N`. Each time the page mounts in the browser" (no JavaScript: nothing mounts, nothing is counted, nothing pending)
  test('the page shows the stored total and counts nothing', async ({ page, request }) => {
    const before = await getViews(request);
    await page.goto('/views');
    await expect(page.getByTestId('views')).toHaveText(`Total Views: ${before}`);
    await expect(page.getByTestId('views-pending')).toHaveCount(0);
    expect(await getViews(request)).toBe(before);
  });
});
