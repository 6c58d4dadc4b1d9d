import { test, expect, type Page } from '@playwright/test';
import {
  expectNoFullReload,
  getPosts,
  gotoHydrated,
  holdRoute,
  markWindow,
  nativePostResponse,
  postsTitled,
  recordPosts,
  uniqueTitle,
} from './helpers';

// demo-contract.md, `/posts/new`: action state with a pending indicator.

const ENDPOINT = '/api/create_post_with_state';

function postForm(page: Page) {
  return {
    title: page.locator('input[name=title]'),
    content: page.locator('textarea[name=content]'),
    submit: page.getByTestId('pending-submit'),
    spinner: page.getByTestId('spinner'),
    state: page.getByTestId('action-state'),
  };
}

/** The one stored post titled `title` (fails if there are none or several). */
async function theStoredPost(request: Parameters<typeof postsTitled>[0], title: string) {
  const mine = await postsTitled(request, title);
  expect(mine, `exactly one stored post titled ${JSON.stringify(title)}`).toHaveLength(1);
  return mine[0];
}

test.describe('with JavaScript', () => {
  // contract: "A client-side form driven by the action-state hook (`useActionState` counterpart): `input[name=title]`, `textarea[name=content]`, `button[data-testid=pending-submit]`."
  // contract: "`[data-testid=action-state]` shows the state the action returned: `Created post N` (N the new post's id)"
  // contract: "The form is built by a component that receives the action as a prop." (internal; observable part: the form dispatches create_post_with_state, once per submit)
  test('submitting stores the post and shows "Created post N" with its id, without a full page load', async ({
    page,
    request,
  }) => {
    const title = uniqueTitle('New post');
    const content = `Body of ${title}`;
    await gotoHydrated(page, '/posts/new');
    const f = postForm(page);
    await expect(f.title).toHaveCount(1);
    await expect(f.content).toHaveCount(1);
    await expect(f.submit).toBeEnabled();
    await expect(f.spinner).toBeHidden();
    await expect(f.state).not.toContainText(/Created post|Title is required/);

    const calls = recordPosts(page, ENDPOINT);
    await markWindow(page);
    await f.title.fill(title);
    await f.content.fill(content);
    const response = page.waitForResponse((r) => new URL(r.url()).pathname === ENDPOINT);
    await f.submit.click();
    await response;

    await expect(f.state).toHaveText(/^Created post \d+$/);
    const stored = await theStoredPost(request, title);
    expect(stored.content).toBe(content);
    await expect(f.state).toHaveText(`Created post ${stored.id}`);
    await expectNoFullReload(page);
    expect(calls).toHaveLength(1);
    expect(new URL(page.url()).pathname).toBe('/posts/new');
  });

  // contract: "`[data-testid=action-state]` shows the state the action returned: `Created post N` (N the new post's id)"
  test('a second submission replaces the state with the second post\'s id', async ({
    page,
    request,
  }) => {
    const first = uniqueTitle('New first');
    const second = uniqueTitle('New second');
    await gotoHydrated(page, '/posts/new');
    const f = postForm(page);

    await f.title.fill(first);
    await f.submit.click();
    await expect.poll(async () => (await postsTitled(request, first)).length).toBe(1);
    const firstPost = await theStoredPost(request, first);
    await expect(f.state).toHaveText(`Created post ${firstPost.id}`);

    await f.title.fill(second);
    await f.submit.click();
    await expect.poll(async () => (await postsTitled(request, second)).length).toBe(1);
    const secondPost = await theStoredPost(request, second);
    await expect(f.state).toHaveText(`Created post ${secondPost.id}`);
    expect(secondPost.id).toBeGreaterThan(firstPost.id);
    expect(await postsTitled(request, first)).toHaveLength(1);
  });

  // contract: "While the action runs, `[data-testid=spinner]` is visible and the button is disabled; when it settles both revert."
  test('while the request is in flight the spinner shows and the button is disabled; both revert after', async ({
    page,
    request,
  }) => {
    const title = uniqueTitle('Pending');
    await gotoHydrated(page, '/posts/new');
    const f = postForm(page);
    await expect(f.spinner).toBeHidden();
    await expect(f.submit).toBeEnabled();

    const held = await holdRoute(page, `**${ENDPOINT}`);
    await f.title.fill(title);
    await f.content.fill('held for a while');
    await f.submit.click();
    await held.arrived;

    await expect(f.spinner).toBeVisible();
    await expect(f.submit).toBeDisabled();
    // Held: nothing is stored yet, and no state is shown for it yet.
    expect(await postsTitled(request, title)).toHaveLength(0);
    await expect(f.state).not.toContainText('Created post');

    held.release();
    await expect(f.spinner).toBeHidden();
    await expect(f.submit).toBeEnabled();
    const stored = await theStoredPost(request, title);
    await expect(f.state).toHaveText(`Created post ${stored.id}`);
  });

  // contract: "`[data-testid=action-state]` shows the state the action returned: ... or `Title is required`."
  test('a blank title shows "Title is required" and stores nothing', async ({ page, request }) => {
    const content = `Blank-titled ${uniqueTitle('x')}`;
    const countBefore = (await getPosts(request)).length;
    await gotoHydrated(page, '/posts/new');
    const f = postForm(page);
    await markWindow(page);
    await f.title.fill('  ');
    await f.content.fill(content);
    const response = page.waitForResponse((r) => new URL(r.url()).pathname === ENDPOINT);
    await f.submit.click();
    await response;
    await expect(f.state).toHaveText('Title is required');
    await expect(f.spinner).toBeHidden();
    await expect(f.submit).toBeEnabled();
    await expectNoFullReload(page);
    const posts = await getPosts(request);
    expect(posts).toHaveLength(countBefore);
    expect(posts.filter((p) => p.content === content)).toHaveLength(0);
  });

  // contract: none (beyond the contract: the app's `[data-testid=error-boundary]`). An
  // unexpected server error is not a returned state: it reaches the error boundary.
  test('an unexpected server error reaches the error boundary with its message', async ({
    page,
  }) => {
    await gotoHydrated(page, '/posts/new');
    const f = postForm(page);
    await expect(page.getByTestId('error-boundary')).toHaveCount(0);
    // server_fn's encoding of ServerFnError::ServerError("the database is unavailable").
    await page.route(`**${ENDPOINT}`, (r) =>
      r.fulfill({
        status: 500,
        contentType: 'text/plain',
        body: 'ServerError|the database is unavailable',
      }),
    );
    await f.title.fill(uniqueTitle('Server error'));
    await f.content.fill('never stored');
    await f.submit.click();

    const boundary = page.getByTestId('error-boundary');
    await expect(boundary).toBeVisible();
    await expect(boundary).toContainText('the database is unavailable');
    await expect(page.getByText(/Created post \d+/)).toHaveCount(0);
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  // contract: "Submitting it with JavaScript disabled also stores the post and renders the returned state."
  test('a native POST stores the post and the returned page shows "Created post N"', async ({
    page,
    request,
  }) => {
    const title = uniqueTitle('NoJS new');
    const content = `Body of ${title}`;
    await page.goto('/posts/new');
    const f = postForm(page);
    await f.title.fill(title);
    await f.content.fill(content);
    const post = nativePostResponse(page);
    await f.submit.click();
    expect((await post).status()).toBe(200);

    await expect(f.state).toHaveText(/^Created post \d+$/);
    const stored = await theStoredPost(request, title);
    expect(stored.content).toBe(content);
    await expect(f.state).toHaveText(`Created post ${stored.id}`);
    expect(new URL(page.url()).pathname).toBe('/posts/new');
  });

  // contract: "Submitting it with JavaScript disabled also ... renders the returned state." / "`Title is required`"
  test('a native POST with a blank title shows "Title is required" and stores nothing', async ({
    page,
    request,
  }) => {
    const content = `NoJS blank ${uniqueTitle('x')}`;
    const countBefore = (await getPosts(request)).length;
    await page.goto('/posts/new');
    const f = postForm(page);
    await f.title.fill(' ');
    await f.content.fill(content);
    const post = nativePostResponse(page);
    await f.submit.click();
    expect((await post).status()).toBe(200);
    await expect(f.state).toHaveText('Title is required');
    const posts = await getPosts(request);
    expect(posts).toHaveLength(countBefore);
    expect(posts.filter((p) => p.content === content)).toHaveLength(0);
  });
});
