import { test, expect, type Page } from '@playwright/test';
import {
  expectNoFullReload,
  getPosts,
  holdRoute,
  markWindow,
  postsTitled,
  recordPosts,
  uniqueTitle,
  waitForHydration,
} from './helpers';

// Submissions made before the wasm has loaded (design.md: "submissions queued
// before hydration ... if the app never hydrates they fall back to a native
// submit, so none is lost"), for the forms of demo-contract.md `/posts/new`
// and `/posts`. Nothing may be lost or sent twice.

const WASM = '**/pkg/*.wasm';
/** The inline queue falls back to native submission about this long after the first queued submit. */
const FALLBACK_MS = 4_000;

async function expectNotHydrated(page: Page) {
  expect(
    await page.evaluate(() => document.documentElement.getAttribute('data-hydrated')),
    'the app has not hydrated yet',
  ).toBeNull();
}

/** Lets the fallback deadline pass, so a fallback that should have been cancelled would fire. */
async function outlastFallback(page: Page, firstSubmitAt: number) {
  const left = firstSubmitAt + FALLBACK_MS + 1_500 - Date.now();
  // Deliberate fixed wait: we assert that something does NOT happen by the deadline.
  if (left > 0) await page.waitForTimeout(left);
}

// contract: (/posts/new) "`[data-testid=action-state]` shows the state the action returned: `Created post N`" — for a submission queued before hydration
test('a /posts/new submission before hydration is replayed once the app hydrates', async ({
  page,
  request,
}) => {
  test.setTimeout(45_000);
  const title = uniqueTitle('Queued');
  const content = `Body of ${title}`;
  const wasm = await holdRoute(page, WASM);
  const apiCalls = recordPosts(page, '/api/create_post_with_state');
  const documentPosts = recordPosts(page, '/posts/new');

  await page.goto('/posts/new', { waitUntil: 'domcontentloaded' });
  await markWindow(page);
  await page.locator('input[name=title]').fill(title);
  await page.locator('textarea[name=content]').fill(content);
  await expectNotHydrated(page);
  await page.getByTestId('pending-submit').click();
  const submittedAt = Date.now();
  expect(apiCalls, 'queued, not sent, before hydration').toHaveLength(0);

  wasm.release();
  await waitForHydration(page);
  await expect.poll(async () => (await postsTitled(request, title)).length).toBe(1);
  const [stored] = await postsTitled(request, title);
  expect(stored.content).toBe(content);
  await expect(page.getByTestId('action-state')).toHaveText(`Created post ${stored.id}`);

  await outlastFallback(page, submittedAt);
  await expectNoFullReload(page);
  expect(apiCalls).toHaveLength(1);
  expect(documentPosts).toHaveLength(0);
  expect(await postsTitled(request, title)).toHaveLength(1);
});

// contract: (/posts) "Submitting calls `create_post`, which stores the post ... The new post is then the first `li`." — for two submissions queued before hydration, replayed in order
test('two /posts submissions before hydration are both replayed once, in order', async ({
  page,
  request,
}) => {
  test.setTimeout(45_000);
  const earlier = uniqueTitle('Queued first');
  const later = uniqueTitle('Queued second');
  const wasm = await holdRoute(page, WASM);
  const apiCalls = recordPosts(page, '/api/create_post');
  const documentPosts = recordPosts(page, '/posts');

  await page.goto('/posts', { waitUntil: 'domcontentloaded' });
  await markWindow(page);
  const form = page.locator('form[data-testid=create-post-form]');
  await expectNotHydrated(page);
  await form.locator('input[name=title]').fill(earlier);
  await form.locator('textarea[name=content]').fill('first');
  await form.getByTestId('create-post-submit').click();
  const submittedAt = Date.now();
  await form.locator('input[name=title]').fill(later);
  await form.locator('textarea[name=content]').fill('second');
  await form.getByTestId('create-post-submit').click();
  await expectNotHydrated(page);
  expect(apiCalls, 'queued, not sent, before hydration').toHaveLength(0);

  wasm.release();
  await waitForHydration(page);
  await expect
    .poll(async () => {
      const posts = await getPosts(request);
      return [earlier, later].map((t) => posts.filter((p) => p.title === t).length);
    })
    .toEqual([1, 1]);
  const posts = await getPosts(request);
  expect(posts[0].title, 'the later submission is the newest post').toBe(later);
  expect(posts[1].title).toBe(earlier);
  const items = page.locator('ul[data-testid=post-list] li[data-testid=post]');
  await expect(items.nth(0).getByTestId('post-title')).toHaveText(later);
  await expect(items.nth(1).getByTestId('post-title')).toHaveText(earlier);

  await outlastFallback(page, submittedAt);
  await expectNoFullReload(page);
  expect(apiCalls).toHaveLength(2);
  expect(documentPosts).toHaveLength(0);
  expect(await postsTitled(request, earlier)).toHaveLength(1);
  expect(await postsTitled(request, later)).toHaveLength(1);
});

test.describe('when the app never hydrates', () => {
  test.beforeEach(async ({ page }) => {
    await page.route(WASM, (route) => route.abort());
  });

  // contract: (/posts/new) "Submitting it with JavaScript disabled also stores the post and renders the returned state." — reached through the fallback
  test('a /posts/new submission falls back to a native POST and shows "Created post N"', async ({
    page,
    request,
  }) => {
    const title = uniqueTitle('Fallback');
    const apiCalls = recordPosts(page, '/api/create_post_with_state');
    const documentPosts = recordPosts(page, '/posts/new');
    await page.goto('/posts/new', { waitUntil: 'domcontentloaded' });
    await page.locator('input[name=title]').fill(title);
    await page.locator('textarea[name=content]').fill('fell back');
    await page.getByTestId('pending-submit').click();

    await expect(page.getByTestId('action-state')).toHaveText(/^Created post \d+$/, {
      timeout: 15_000,
    });
    const mine = await postsTitled(request, title);
    expect(mine).toHaveLength(1);
    await expect(page.getByTestId('action-state')).toHaveText(`Created post ${mine[0].id}`);
    expect(documentPosts).toHaveLength(1);
    expect(apiCalls).toHaveLength(0);
  });

  // contract: (/posts) "An empty or blank title is refused by the server: no post is stored and `[data-testid=form-error]` shows `Title is required`." — reached through the fallback
  test('a blank /posts submission falls back to a native POST and shows the error', async ({
    page,
    request,
  }) => {
    const content = `Fallback blank ${uniqueTitle('x')}`;
    const countBefore = (await getPosts(request)).length;
    const documentPosts = recordPosts(page, '/posts');
    await page.goto('/posts', { waitUntil: 'domcontentloaded' });
    const form = page.locator('form[data-testid=create-post-form]');
    await form.locator('input[name=title]').fill(' ');
    await form.locator('textarea[name=content]').fill(content);
    await form.getByTestId('create-post-submit').click();

    await expect(page.getByTestId('form-error')).toHaveText('Title is required', {
      timeout: 15_000,
    });
    await expect(form.locator('textarea[name=content]')).toHaveValue(content);
    const posts = await getPosts(request);
    expect(posts).toHaveLength(countBefore);
    expect(posts.filter((p) => p.content === content)).toHaveLength(0);
    expect(documentPosts).toHaveLength(1);
  });
});
