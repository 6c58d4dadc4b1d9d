import { test, expect, type Page } from '@playwright/test';
import { gotoHydrated, markWindow, expectNoFullReload } from './helpers';

// Per-route code: every page but `/likes` is a lazy route whose code is a
// wasm chunk of its own (`cargo leptos build --split`). A page downloads
// the main module and its own chunks, never another page's.

/** The paths of the wasm files the page fetches from now on. */
function wasmFetched(page: Page): string[] {
  const paths: string[] = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.endsWith('.wasm')) paths.push(path);
  });
  return paths;
}

/** The lazy pages whose own chunk (`split___<page>_route_view_…`) was fetched. */
function pagesIn(paths: string[]): string[] {
  return paths.flatMap((p) => /split___(\w+?)_route_view_/.exec(p)?.[1] ?? []);
}

test('/likes downloads the main module and no page chunk', async ({ page }) => {
  const wasm = wasmFetched(page);
  await gotoHydrated(page, '/likes');
  expect(wasm).toContain('/pkg/tandem-demo.wasm');
  expect(wasm.filter((p) => p !== '/pkg/tandem-demo.wasm')).toEqual([]);
});

test("a lazy page's chunk comes when the page is first visited, and only its own", async ({ page }) => {
  const wasm = wasmFetched(page);
  await gotoHydrated(page, '/likes');
  await markWindow(page);
  await page.locator('nav a[href="/posts"]').click();
  await expect(page.getByTestId('create-post-form')).toBeVisible();
  await expectNoFullReload(page);
  expect(pagesIn(wasm)).toEqual(['posts']);
});

test('a lazy page opened first loads its own chunk before it hydrates', async ({ page }) => {
  const wasm = wasmFetched(page);
  await gotoHydrated(page, '/views');
  expect(pagesIn(wasm)).toEqual(['views']);
  await expect(page.getByTestId('views')).toHaveText(/^Total Views: \d+$/);
});
