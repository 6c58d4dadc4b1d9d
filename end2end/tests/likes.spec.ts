import { test, expect } from '@playwright/test';
import { gotoHydrated, numberIn, recordServerRequests, resultText } from './helpers';

// demo-contract.md, `/likes`.

test('shows the total as "Total Likes: N", rendered by the server', async ({ page, request }) => {
  const html = await (await request.get('/likes')).text();
  expect(html).toMatch(/data-testid="likes"[^>]*>Total Likes: (<!(--)?>)?\d+/);
  await gotoHydrated(page, '/likes');
  await expect(page.getByTestId('likes')).toHaveText(/^Total Likes: \d+$/);
  await expect(page.getByTestId('like-button')).toHaveText('Like');
});

test('a click calls increment_like and shows the total it returns', async ({ page }) => {
  await gotoHydrated(page, '/likes');
  const before = await numberIn(page, 'likes');
  const calls = recordServerRequests(page);
  const response = page.waitForResponse((r) => r.url().endsWith('/api/increment_like'));
  await page.getByTestId('like-button').click();
  const returned = Number(await resultText(await response));
  await expect(page.getByTestId('likes')).toHaveText(`Total Likes: ${returned}`);
  expect(returned).toBeGreaterThan(before);
  expect(calls.map((r) => `${r.method()} ${new URL(r.url()).pathname}`)).toEqual([
    'POST /api/increment_like',
  ]);
});

test('five quick clicks add exactly five likes, in order, ending on the server total', async ({
  page,
  request,
}) => {
  await gotoHydrated(page, '/likes');
  // Hold each response a little so the clicks overlap in flight.
  const returned: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  await page.route('**/api/increment_like', async (route) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const response = await route.fetch();
    returned.push(Number(await resultText(response)));
    await new Promise((r) => setTimeout(r, 100));
    inFlight -= 1;
    await route.fulfill({ response });
  });
  const seen: string[] = [];
  await page.exposeFunction('__seen', (t: string) => seen.push(t));
  await page.evaluate(() => {
    const el = document.querySelector('[data-testid=likes]')!;
    new MutationObserver(() => (window as any).__seen(el.textContent)).observe(el, {
      subtree: true,
      characterData: true,
      childList: true,
    });
  });
  const before = await numberIn(page, 'likes');
  for (let i = 0; i < 5; i++) await page.getByTestId('like-button').click();
  await expect(page.getByTestId('likes')).toHaveText(`Total Likes: ${before + 5}`);
  // Requests ran one at a time, in order: the server answered 1..5 in turn.
  expect(maxInFlight).toBe(1);
  expect(returned).toEqual([1, 2, 3, 4, 5].map((n) => before + n));
  // The page never went backwards.
  const shown = seen.map((t) => Number(t.replace(/\D+/g, '')));
  for (let i = 1; i < shown.length; i++) expect(shown[i]).toBeGreaterThanOrEqual(shown[i - 1]);
  // And the server agrees.
  const total = await (await request.post('/api/get_likes')).json();
  expect(total).toBe(before + 5);
});

test('the total survives a reload', async ({ page }) => {
  await gotoHydrated(page, '/likes');
  const start = await numberIn(page, 'likes');
  await page.getByTestId('like-button').click();
  await expect(page.getByTestId('likes')).toHaveText(`Total Likes: ${start + 1}`);
  await page.reload();
  await expect(page.getByTestId('likes')).toHaveText(`Total Likes: ${start + 1}`);
});

test('a pending action never blocks navigation', async ({ page }) => {
  await gotoHydrated(page, '/likes');
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));
  await page.route('**/api/increment_like', async (route) => {
    await held;
    await route.continue();
  });
  await page.getByTestId('like-button').click();
  // The like is still in flight: follow a link (client-side navigation).
  await page.locator('nav a[href="/views"]').click();
  await expect(page).toHaveURL(/\/views$/);
  await expect(page.getByTestId('views')).toHaveText(/^Total Views: \d+$/);
  release();
});
