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
  // Three edits, one after the other: the figures are their median.
  const served: number[] = [];
  const shown: number[] = [];
  const reloaded: number[] = [];
  for (let round = 1; round <= 3; round++) {
    const edited = `Likes, edit ${round} at ${Date.now()}`;
    await markWindow(page);
    const start = Date.now();
    writeFileSync(file, source.replace(HEADING, `<h1>"${edited}"</h1>`));
    // When the open page first shows the new text (patched in place under
    // `--hot-reload`, else after its reload).
    const firstShown = page
      .waitForFunction((text) => document.querySelector('h1')?.textContent === text, edited, {
        timeout: 10 * 60_000,
        polling: 50,
      })
      .then(() => Date.now() - start);

    await test.step(`edit ${round}: the served page shows the new text`, async () => {
      await expect
        .poll(
          async () => {
            const response = await request.get('/likes', { timeout: 30_000 }).catch(() => null);
            return response?.ok() ? await response.text() : '';
          },
          { message: `GET /likes shows "${edited}"`, timeout: 10 * 60_000, intervals: [100] },
        )
        .toContain(edited);
      served.push(Date.now() - start);
    });

    await test.step(`edit ${round}: the open page reloads by itself and shows it`, async () => {
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
      reloaded.push(Date.now() - start);
      shown.push(await firstShown.catch(() => reloaded[reloaded.length - 1]));
      await waitForHydration(page);
      await likeWorks(page);
    });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const servedMs = median(served);
  const shownMs = median(shown);
  const reloadedMs = median(reloaded);
  const timing = {
    served_ms: servedMs,
    shown_ms: shownMs,
    reloaded_ms: reloadedMs,
    served,
    shown,
    reloaded,
  };
  console.log(
    `dev loop: edit -> served page fresh in ${servedMs} ms; open page shows it in ${shownMs} ms; reloaded in ${reloadedMs} ms (medians of 3: ${served.join(', ')} / ${shown.join(', ')} / ${reloaded.join(', ')})`,
  );
  if (timingFile) writeFileSync(timingFile, JSON.stringify(timing));
});
