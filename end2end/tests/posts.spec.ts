import { test, expect, type Page } from '@playwright/test';
import {
  expectNoFullReload,
  getPosts,
  gotoHydrated,
  markWindow,
  nativePost,
  nativePostResponse,
  postItem,
  postsTitled,
  recordPosts,
  uniqueTitle,
} from './helpers';

// demo-contract.md, `/posts`: forms in a server-rendered page, revalidate, redirect.

const LIST_ITEMS = 'ul[data-testid=post-list] li[data-testid=post]';

/** The create-post form's fields. */
function createForm(page: Page) {
  const form = page.locator('form[data-testid=create-post-form]');
  return {
    form,
    title: form.locator('input[name=title]'),
    content: form.locator('textarea[name=content]'),
    submit: form.locator('button[type=submit][data-testid=create-post-submit]'),
  };
}

/** Fills and submits the create-post form, then waits until `title` is the first post shown. */
async function createThroughForm(page: Page, title: string, content: string) {
  const f = createForm(page);
  await f.title.fill(title);
  await f.content.fill(content);
  await f.submit.click();
  await expect(page.locator(LIST_ITEMS).first().getByTestId('post-title')).toHaveText(title);
}

/**
 * What the page lists: title, whether the hidden id holds a sealed token (the
 * id bound by the server, not the raw number) and whether a delete button is
 * there, per `li`.
 */
async function listedRows(page: Page) {
  return page.locator(LIST_ITEMS).evaluateAll((lis) =>
    lis.map((li) => ({
      title: li.querySelector('[data-testid=post-title]')?.textContent?.trim() ?? null,
      id: /^[A-Za-z0-9_-]{36,}$/.test(
        (li.querySelector('form input[type=hidden][name=id]') as HTMLInputElement | null)?.value ?? '',
      ),
      deleteButton: li.querySelector('form button[data-testid=delete-post]') !== null,
    })),
  );
}

function expectedRows(posts: { id: number; title: string }[]) {
  return posts.map((p) => ({ title: p.title, id: true, deleteButton: true }));
}

test.describe('with JavaScript', () => {
  // contract: "`form[data-testid=create-post-form]` with `input[name=title]`, `textarea[name=content]` and `button[type=submit][data-testid=create-post-submit]` (text `Create`)"
  test('the create-post form has a title input, a content textarea and a Create button', async ({
    page,
  }) => {
    await gotoHydrated(page, '/posts');
    const f = createForm(page);
    await expect(f.form).toHaveCount(1);
    await expect(f.title).toHaveCount(1);
    await expect(f.content).toHaveCount(1);
    await expect(f.submit).toHaveText('Create');
    await expect(f.submit).toBeEnabled();
  });

  // contract: "Submitting calls `create_post`, which stores the post, revalidates `/posts` and redirects to `/posts`. The new post is then the first `li`."
  // contract: "`ul[data-testid=post-list]` holds one `li[data-testid=post]` per post, newest first"
  test('creating a post stores it once and shows it first, without a full page load', async ({
    page,
    request,
  }) => {
    const title = uniqueTitle('JS create');
    const content = `Body of ${title}`;
    await gotoHydrated(page, '/posts');
    const creates = recordPosts(page, '/api/create_post');
    const documentPosts = recordPosts(page, '/posts');
    await markWindow(page);

    const response = page.waitForResponse(
      (r) => new URL(r.url()).pathname === '/api/create_post' && r.request().method() === 'POST',
    );
    await createThroughForm(page, title, content);
    await response;

    // Redirected to /posts (no query, no error) and the page was never reloaded.
    expect(new URL(page.url()).pathname).toBe('/posts');
    expect(new URL(page.url()).search).toBe('');
    await expect(page.getByTestId('form-error')).toHaveCount(0);
    await expectNoFullReload(page);
    expect(creates).toHaveLength(1);
    expect(documentPosts).toHaveLength(0);

    // Stored exactly once, with its content, as the newest post.
    const posts = await getPosts(request);
    const mine = posts.filter((p) => p.title === title);
    expect(mine).toHaveLength(1);
    expect(mine[0].content).toBe(content);
    expect(posts[0].id).toBe(mine[0].id);

    // The revalidated list is the server's list, newest first, one li per post.
    expect(await listedRows(page)).toEqual(expectedRows(posts));
  });

  // contract: "The new post is then the first `li`." / "newest first"
  test('two posts created one after the other show newest first', async ({ page, request }) => {
    const first = uniqueTitle('JS older');
    const second = uniqueTitle('JS newer');
    await gotoHydrated(page, '/posts');
    await markWindow(page);
    await createThroughForm(page, first, 'older');
    await createThroughForm(page, second, 'newer');
    await expect(page.locator(LIST_ITEMS).nth(0).getByTestId('post-title')).toHaveText(second);
    await expect(page.locator(LIST_ITEMS).nth(1).getByTestId('post-title')).toHaveText(first);
    await expectNoFullReload(page);
    const posts = await getPosts(request);
    expect(posts.slice(0, 2).map((p) => p.title)).toEqual([second, first]);
  });

  for (const [kind, typed] of [
    ['an empty', ''],
    ['a blank (whitespace-only)', '   '],
  ]) {
    // contract: "An empty or blank title is refused by the server: no post is stored and `[data-testid=form-error]` shows `Title is required`."
    test(`${kind} title is refused: error shown, nothing stored`, async ({ page, request }) => {
      const content = `Content with ${kind} title ${uniqueTitle('x')}`;
      const countBefore = (await getPosts(request)).length;
      await gotoHydrated(page, '/posts');
      const titlesBefore = await page.locator(LIST_ITEMS).getByTestId('post-title').allTextContents();
      await markWindow(page);
      const f = createForm(page);
      await expect(page.getByTestId('form-error')).toHaveCount(0);
      await f.title.fill(typed);
      await f.content.fill(content);
      const response = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/create_post');
      await f.submit.click();
      await response;
      await expect(page.getByTestId('form-error')).toHaveText('Title is required');
      await expectNoFullReload(page);
      const posts = await getPosts(request);
      expect(posts).toHaveLength(countBefore);
      expect(posts.filter((p) => p.content === content)).toHaveLength(0);
      // The list is unchanged.
      await expect(page.locator(LIST_ITEMS).getByTestId('post-title')).toHaveText(titlesBefore);
    });
  }

  // contract: "Each `li` holds a delete form: `input[type=hidden][name=id]` and `button[data-testid=delete-post]`. Submitting calls `delete_post`."
  test('deleting a post removes exactly that post, without a full page load', async ({
    page,
    request,
  }) => {
    const keep = uniqueTitle('JS keep');
    const doomed = uniqueTitle('JS delete');
    await gotoHydrated(page, '/posts');
    await createThroughForm(page, keep, 'stays');
    await createThroughForm(page, doomed, 'goes');
    const [stored] = await postsTitled(request, doomed);
    expect(stored, 'the post to delete was stored').toBeDefined();

    const item = postItem(page, doomed);
    await expect(item).toHaveCount(1);
    await expect(item.locator('input[type=hidden][name=id]')).toHaveValue(/^[A-Za-z0-9_-]{36,}$/);

    const deletes = recordPosts(page, '/api/delete_post');
    await markWindow(page);
    const response = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/delete_post');
    await item.getByTestId('delete-post').click();
    await response;

    await expect(postItem(page, doomed)).toHaveCount(0);
    await expect(postItem(page, keep)).toHaveCount(1);
    await expectNoFullReload(page);
    expect(deletes).toHaveLength(1);
    expect(await postsTitled(request, doomed)).toHaveLength(0);
    expect(await postsTitled(request, keep)).toHaveLength(1);
    expect(await listedRows(page)).toEqual(expectedRows(await getPosts(request)));
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  // contract: "`ul[data-testid=post-list]` holds one `li[data-testid=post]` per post, newest first; inside each, `[data-testid=post-title]` holds the title."
  // contract: "Each `li` holds a delete form: `input[type=hidden][name=id]` and `button[data-testid=delete-post]`."
  test('the server-rendered list has one li per stored post, newest first, each with its delete form', async ({
    page,
    request,
  }) => {
    // Make sure there are at least two posts, in a known order.
    const older = uniqueTitle('Listed older');
    const newer = uniqueTitle('Listed newer');
    await page.goto('/posts');
    await createThroughForm(page, older, 'a');
    await createThroughForm(page, newer, 'b');

    await page.goto('/posts');
    const posts = await getPosts(request);
    expect(posts.slice(0, 2).map((p) => p.title)).toEqual([newer, older]);
    expect(await listedRows(page)).toEqual(expectedRows(posts));
    await expect(page.locator('ul[data-testid=post-list]')).toHaveCount(1);
  });

  // contract: "Submitting calls `create_post`, which stores the post, revalidates `/posts` and redirects to `/posts`. The new post is then the first `li`."
  // contract: "All of this works with JavaScript disabled (progressive enhancement)"
  test('creating a post with a native form POST redirects (303) to /posts with the post first', async ({
    page,
    request,
  }) => {
    const title = uniqueTitle('NoJS create');
    const content = `Body of ${title}`;
    await page.goto('/posts');
    const f = createForm(page);
    await f.title.fill(title);
    await f.content.fill(content);
    const post = nativePost(page);
    await f.submit.click();
    const submitted = await post;

    await expect(page.locator(LIST_ITEMS).first().getByTestId('post-title')).toHaveText(title);
    // The POST was answered with a redirect, followed by a GET of /posts.
    expect((await submitted.response())?.status()).toBe(303);
    const followed = submitted.redirectedTo();
    expect(followed?.method()).toBe('GET');
    expect(new URL(followed!.url()).pathname).toBe('/posts');
    expect(new URL(page.url()).pathname).toBe('/posts');
    await expect(page.getByTestId('form-error')).toHaveCount(0);

    const mine = await postsTitled(request, title);
    expect(mine).toHaveLength(1);
    expect(mine[0].content).toBe(content);
    expect((await getPosts(request))[0].id).toBe(mine[0].id);
  });

  // contract: "An empty or blank title is refused by the server: no post is stored and `[data-testid=form-error]` shows `Title is required`."
  // contract: "All of this works with JavaScript disabled (progressive enhancement), including the error message."
  test('a blank title is refused: the page shows the error and keeps what was typed', async ({
    page,
    request,
  }) => {
    const content = `Typed content ${uniqueTitle('kept')}`;
    const countBefore = (await getPosts(request)).length;
    await page.goto('/posts');
    const f = createForm(page);
    await f.title.fill('   ');
    await f.content.fill(content);
    const post = nativePostResponse(page);
    await f.submit.click();
    expect((await post).status()).toBe(200);

    await expect(page.getByTestId('form-error')).toHaveText('Title is required');
    await expect(createForm(page).content).toHaveValue(content);
    const posts = await getPosts(request);
    expect(posts).toHaveLength(countBefore);
    expect(posts.filter((p) => p.content === content)).toHaveLength(0);
    await expect(page.locator(LIST_ITEMS)).toHaveCount(countBefore);
  });

  // contract: "Each `li` holds a delete form: `input[type=hidden][name=id]` and `button[data-testid=delete-post]`. Submitting calls `delete_post`."
  // contract: "All of this works with JavaScript disabled (progressive enhancement)"
  test('deleting a post with a native form POST removes exactly that post', async ({
    page,
    request,
  }) => {
    const keep = uniqueTitle('NoJS keep');
    const doomed = uniqueTitle('NoJS delete');
    await page.goto('/posts');
    await createThroughForm(page, keep, 'stays');
    await createThroughForm(page, doomed, 'goes');
    const [stored] = await postsTitled(request, doomed);
    expect(stored, 'the post to delete was stored').toBeDefined();

    const item = postItem(page, doomed);
    await expect(item.locator('input[type=hidden][name=id]')).toHaveValue(/^[A-Za-z0-9_-]{36,}$/);
    const post = nativePost(page);
    await item.getByTestId('delete-post').click();
    await post;

    await expect(postItem(page, doomed)).toHaveCount(0);
    await expect(postItem(page, keep)).toHaveCount(1);
    expect(await postsTitled(request, doomed)).toHaveLength(0);
    expect(await postsTitled(request, keep)).toHaveLength(1);
  });
});
