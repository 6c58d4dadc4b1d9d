import { test, expect } from '@playwright/test';
import { gotoHydrated, numberIn } from './helpers';

// The client-only (Trunk) build of the same app, calling the same server
// functions on the running server through Trunk's proxy.

test('the CSR build renders /likes and a click calls increment_like', async ({ page }) => {
  await gotoHydrated(page, '/likes');
  await expect(page.getByTestId('likes')).toHaveText(/^Total Likes: \d+$/);
  const before = await numberIn(page, 'likes');
  await page.getByTestId('like-button').click();
  await expect(page.getByTestId('likes')).toHaveText(`Total Likes: ${before + 1}`);
});
