import { test, expect, type Page } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';
import { gotoHydrated, markWindow, numberIn, waitForHydration } from '../tests/helpers';

// The dev loop (run by `cargo xtask devloop` and `cargo xtask test`): the
// server is `cargo leptos watch` in a scratch copy of the workspace, and
// DEVLOOP_FILE is that copy's `app/src/pages/likes.rs`.

const file = process.env.DEVLOOP_FILE ?? '';
const timingFile = process.env.DEVLOOP_TIMING;

/** The view text the test edits, as it stands in the source. */
const HEADING = '<h1>"Likes"</h1>';

/** Clicks Like and checks the total follows: the page is live. */
async function likeWorks(page: Page) {
  const before = await numberIn(page, 'likes');
  await page.getByTestId('like-button').click();
  await expect(page.getByTestId('likes'), 'a Like click updates the total').toHaveText(
    `Total Likes: ${before + 1}`,
  );
}

test('cargo leptos watch serves a hydrated page, then an edited view is served and the open page reloads', async ({
  page,
  request,
}) => {
  await test.step('the page hydrates and a Like click updates the total', async () => {
    await gotoHydrated(page, '/likes');
    await likeWorks(page);
  });

  const source = readFileSync(file, 'utf8');
  expect(source.includes(HEADING), `${file} holds ${HEADING}`).toBe(true);
  const edited = `Likes, edited ${Date.now()}`;
  await markWindow(page);
  const start = Date.now();
  writeFileSync(file, source.replace(HEADING, `<h1>"${edited}"</h1>`));

  let servedMs = 0;
  await test.step('the served page shows the new text', async () => {
    await expect
      .poll(
        async () => {
          const response = await request.get('/likes', { timeout: 30_000 }).catch(() => null);
          return response?.ok() ? await response.text() : '';
        },
        { message: `GET /likes shows "${edited}"`, timeout: 10 * 60_000, intervals: [100] },
      )
      .toContain(edited);
    servedMs = Date.now() - start;
  });

  let reloadedMs = 0;
  await test.step('the open page reloads by itself and shows it', async () => {
    await expect(page.locator('h1'), 'the open page shows the edited heading').toHaveText(edited, {
      timeout: 2 * 60_000,
    });
    await expect
      .poll(
        () => page.evaluate(() => (window as any).__noReload ?? null).catch(() => 'navigating'),
        {
          message: 'the open page reloaded (live reload), not only patched',
          timeout: 2 * 60_000,
          intervals: [100],
        },
      )
      .toBeNull();
    reloadedMs = Date.now() - start;
    await waitForHydration(page);
    await likeWorks(page);
  });

  const timing = { served_ms: servedMs, reloaded_ms: reloadedMs };
  console.log(
    `dev loop: edit -> served page fresh in ${servedMs} ms; edit -> open page reloaded in ${reloadedMs} ms`,
  );
  if (timingFile) writeFileSync(timingFile, JSON.stringify(timing));
});
