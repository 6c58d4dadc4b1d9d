import { test, expect, type APIRequestContext, type Page } from '@playwright/test';
import {
  expectNoFullReload,
  gotoHydrated,
  markWindow,
  nativePost,
  nativePostResponse,
  recordServerRequests,
  uniqueTitle,
} from './helpers';

// demo-contract.md, `/posts/:id` — a page with a parameter — and the `/posts`
// additions: links and a like on every row. With JavaScript and without.

interface Detail {
  post: { id: number; title: string; content: string; likes: number };
  older: number | null;
}

/** Creates a post through the API and returns its id. */
async function createPost(request: APIRequestContext, title: string, content = `Body of ${title}`) {
  const response = await request.post('/api/create_post_with_state', {
    form: { prev: '""', title, content },
  });
  expect(response.status()).toBe(200);
  const state = (await response.json()) as string;
  const id = Number(state.match(/Created post (\d+)/)?.[1]);
  expect(id, state).toBeGreaterThan(0);
  return id;
}

/** The post as get_post reads it. */
async function getPost(request: APIRequestContext, id: number): Promise<Detail | null> {
  const response = await request.post('/api/get_post', { form: { id: String(id) } });
  expect(response.status()).toBe(200);
  return (await response.json()) as Detail | null;
}

/** A post's comment bodies, as get_comments reads them. */
async function commentBodies(request: APIRequestContext, postId: number): Promise<string[]> {
  const response = await request.post('/api/get_comments', { form: { post_id: String(postId) } });
  expect(response.status()).toBe(200);
  return ((await response.json()) as { body: string }[]).map((c) => c.body);
}

/** The row of the post titled `title` on /posts. */
function row(page: Page, title: string) {
  return page
    .locator('ul[data-testid=post-list] li[data-testid=post]')
    .filter({ has: page.getByTestId('post-title').getByText(title, { exact: true }) });
}

/** The likes shown in every row, by title. */
async function likesByRow(page: Page): Promise<Record<string, string>> {
  const rows = page.locator('ul[data-testid=post-list] li[data-testid=post]');
  const out: Record<string, string> = {};
  for (const r of await rows.all()) {
    out[(await r.getByTestId('post-title').textContent()) ?? ''] =
      (await r.getByTestId('post-likes').textContent()) ?? '';
  }
  return out;
}

test.describe('with JavaScript', () => {
  // contract: "Each `li[data-testid=post]` also holds `a[data-testid=post-link]` pointing to `/posts/N`, `[data-testid=post-likes]` reading `Likes: N` ... and `button[data-testid=post-like]` (text `Like`) in a form of its own ... That form has no field named `id`"
  test('each row links to its post, shows its likes and has a like form of its own', async ({
    page,
    request,
  }) => {
    const title = uniqueTitle('Row');
    const id = await createPost(request, title);
    await gotoHydrated(page, '/posts');
    const r = row(page, title);
    await expect(r.getByTestId('post-link')).toHaveAttribute('href', `/posts/${id}`);
    await expect(r.getByTestId('post-likes')).toHaveText('Likes: 0');
    const likeButton = r.getByTestId('post-like');
    await expect(likeButton).toHaveText('Like');
    const likeForm = r.locator('form').filter({ has: page.getByTestId('post-like') });
    await expect(likeForm).toHaveCount(1);
    await expect(likeForm.locator('[name=id]')).toHaveCount(0);
    await expect(likeForm.getByTestId('delete-post')).toHaveCount(0);
  });

  // contract: "Liking one post changes that row's count and no other row's, with and without JavaScript."
  test('liking one row changes its count only, in one request, shown at once', async ({ page, request }) => {
    const a = uniqueTitle('Like A');
    const b = uniqueTitle('Like B');
    await createPost(request, a);
    await createPost(request, b);
    await gotoHydrated(page, '/posts');
    const before = await likesByRow(page);
    await markWindow(page);
    const seen = recordServerRequests(page);
    // Held, so the optimistic count shows before the server answers.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route('**/api/like_post', async (route) => {
      await held;
      await route.continue();
    });
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/like_post');
    await row(page, b).getByTestId('post-like').click();
    await expect(row(page, b).getByTestId('post-likes'), 'the optimistic count').toHaveText('Likes: 1');
    release();
    await answered;
    await expect(row(page, b).getByTestId('post-likes')).toHaveText('Likes: 1');
    const after = await likesByRow(page);
    expect({ ...after, [b]: before[b] }).toEqual(before);
    expect(seen.map((r) => `${r.method()} ${new URL(r.url()).pathname}`)).toEqual(['POST /api/like_post']);
    await expectNoFullReload(page);
  });

  // contract: "`a[data-testid=older-post]` links to the next older post's page when there is one. Following it in the browser (no full page load) shows that post's title, content, likes and comments, never the previous post's."
  test('older-post navigation shows the older post, never the previous one', async ({ page, request }) => {
    const olderTitle = uniqueTitle('Older');
    const newerTitle = uniqueTitle('Newer');
    const olderId = await createPost(request, olderTitle, 'older content');
    await request.post('/api/add_comment', { form: { prev: 'null', post_id: String(olderId), body: 'on the older' } });
    const newerId = await createPost(request, newerTitle, 'newer content');
    await request.post('/api/add_comment', { form: { prev: 'null', post_id: String(newerId), body: 'on the newer' } });

    await gotoHydrated(page, `/posts/${newerId}`);
    await expect(page.getByTestId('post-detail-title')).toHaveText(newerTitle);
    await expect(page.getByTestId('post-detail-content')).toHaveText('newer content');
    await expect(page.getByTestId('comment-body')).toHaveText(['on the newer']);
    await expect(page.getByTestId('older-post')).toHaveAttribute('href', `/posts/${olderId}`);

    // Every text the page shows from the click on: never the newer post's.
    await page.evaluate(() => {
      (window as any).__shown = [];
      new MutationObserver(() => {
        const t = document.querySelector('[data-testid=post-detail-title]')?.textContent;
        const c = [...document.querySelectorAll('[data-testid=comment-body]')].map((e) => e.textContent);
        (window as any).__shown.push({ url: location.pathname, t, c });
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await markWindow(page);
    await page.getByTestId('older-post').click();
    await expect(page).toHaveURL(new RegExp(`/posts/${olderId}$`));
    await expect(page.getByTestId('post-detail-title')).toHaveText(olderTitle);
    await expect(page.getByTestId('post-detail-content')).toHaveText('older content');
    await expect(page.getByTestId('post-detail-likes')).toHaveText('Likes: 0');
    await expect(page.getByTestId('comment-body')).toHaveText(['on the older']);
    await expectNoFullReload(page);
    const shown = (await page.evaluate(() => (window as any).__shown)) as {
      url: string;
      t?: string;
      c: string[];
    }[];
    for (const s of shown.filter((s) => s.url === `/posts/${olderId}`)) {
      expect(s.t, 'the newer title after navigating').not.toBe(newerTitle);
      expect(s.c, 'the newer comments after navigating').not.toContain('on the newer');
    }
  });

  // The first render of a post's page reads its comments while the server
  // renders the post's <Suspense> again; hydration must take each query's
  // data by function and arguments, never by the order resources were made.
  test('a fresh post page hydrates without an error, every time, and its forms work', async ({
    page,
    request,
  }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && m.text().includes('panicked')) errors.push(m.text().split('\n')[0]);
    });
    for (let i = 0; i < 8; i++) {
      const id = await createPost(request, uniqueTitle(`Fresh ${i}`));
      await request.post('/api/add_comment', { form: { prev: 'null', post_id: String(id), body: `comment ${i}` } });
      await gotoHydrated(page, `/posts/${id}`);
      await expect(page.getByTestId('comment-body')).toHaveText([`comment ${i}`]);
      expect(errors, `hydrating /posts/${id} (load ${i + 1})`).toEqual([]);
      const seen = recordServerRequests(page);
      await page.getByTestId('post-detail-like').click();
      await expect(page.getByTestId('post-detail-likes')).toHaveText('Likes: 1');
      expect(seen.map((r) => `${r.method()} ${new URL(r.url()).pathname}`)).toEqual(['POST /api/like_post']);
    }
    expect(errors).toEqual([]);
  });

  // contract: "A post that does not exist answers HTTP 404, and the page shows `[data-testid=not-found]` with the text `Post not found`. Navigating to it in the browser shows the same."
  test('an unknown post answers 404 and shows "Post not found", also when navigated to', async ({ page }) => {
    const response = await page.goto('/posts/999999999');
    expect(response?.status()).toBe(404);
    await expect(page.getByTestId('not-found')).toHaveText('Post not found');
    await gotoHydrated(page, '/posts');
    await page.evaluate(() => {
      const a = document.createElement('a');
      a.href = '/posts/999999998';
      a.id = 'go-unknown';
      a.textContent = 'go';
      document.body.appendChild(a);
    });
    await markWindow(page);
    await page.locator('#go-unknown').click();
    await expect(page.getByTestId('not-found')).toHaveText('Post not found');
    await expectNoFullReload(page);
  });

  // contract: "`form[data-testid=comment-form]` ... calls `add_comment`: the comment is stored and shows as the last `li`, in one request. A blank body stores nothing and shows `[data-testid=comment-error]` with `Comment is required`."
  test('a comment is added as the last li in one request that reads only the comments again', async ({
    page,
    request,
  }) => {
    const id = await createPost(request, uniqueTitle('Commented'));
    await request.post('/api/add_comment', { form: { prev: 'null', post_id: String(id), body: 'first' } });
    await gotoHydrated(page, `/posts/${id}`);
    await expect(page.getByTestId('comment-body')).toHaveText(['first']);
    const seen = recordServerRequests(page);
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/add_comment');
    const form = page.getByTestId('comment-form');
    await form.locator('textarea[name=body]').fill('second');
    await form.getByTestId('comment-submit').click();
    const response = await answered;
    await expect(page.getByTestId('comment-body')).toHaveText(['first', 'second']);
    await expect(page.locator('[data-testid=comment-list] li[data-testid=comment]').last()).toContainText('second');
    expect(seen.map((r) => `${r.method()} ${new URL(r.url()).pathname}`)).toEqual(['POST /api/add_comment']);
    const envelope = JSON.parse(await response.text());
    expect(envelope.queries.map((q: { query: [string, string] }) => q.query[0])).toEqual(['/api/get_comments']);
    expect(await commentBodies(request, id)).toEqual(['first', 'second']);
    // The form is empty again after success.
    await expect(form.locator('textarea[name=body]')).toHaveValue('');

    await form.locator('textarea[name=body]').fill('   ');
    await form.getByTestId('comment-submit').click();
    await expect(page.getByTestId('comment-error')).toHaveText('Comment is required');
    expect(await commentBodies(request, id)).toEqual(['first', 'second']);
  });

  // contract: "each with `[data-testid=comment-body]` and `button[data-testid=delete-comment]` (deletes that comment only)."
  test('delete-comment deletes that comment only', async ({ page, request }) => {
    const id = await createPost(request, uniqueTitle('Comments to delete'));
    for (const body of ['one', 'two', 'three']) {
      await request.post('/api/add_comment', { form: { prev: 'null', post_id: String(id), body } });
    }
    await gotoHydrated(page, `/posts/${id}`);
    await page.locator('li[data-testid=comment]').filter({ hasText: 'two' }).getByTestId('delete-comment').click();
    await expect(page.getByTestId('comment-body')).toHaveText(['one', 'three']);
    expect(await commentBodies(request, id)).toEqual(['one', 'three']);
  });

  // contract: "`button[data-testid=delete-this-post]` (text `Delete post`) calls a function that deletes the post and redirects to `/posts`; the list there no longer holds it. With JavaScript this is one request: the redirect's answer carries the data `/posts` shows."
  test('delete-this-post redirects to /posts in one request that carries the list', async ({ page, request }) => {
    const title = uniqueTitle('Delete me');
    const id = await createPost(request, title);
    await gotoHydrated(page, `/posts/${id}`);
    await expect(page.getByTestId('delete-this-post')).toHaveText('Delete post');
    await markWindow(page);
    const seen = recordServerRequests(page);
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/delete_this_post');
    await page.getByTestId('delete-this-post').click();
    const response = await answered;
    await expect(page).toHaveURL(/\/posts$/);
    await expect(page.locator('ul[data-testid=post-list]')).toBeVisible();
    await expect(row(page, title)).toHaveCount(0);
    // Give late requests a chance to show up: there must be none.
    await page.waitForTimeout(500);
    expect(seen.map((r) => `${r.method()} ${new URL(r.url()).pathname}`)).toEqual(['POST /api/delete_this_post']);
    const envelope = JSON.parse(await response.text());
    expect(envelope.effects.redirect).toBe('/posts');
    expect(envelope.queries.map((q: { query: [string, string] }) => q.query[0])).toContain('/api/get_posts');
    console.log(`[requests-per-mutation] /posts/:id delete-this-post 1 request, ${(await response.body()).length} bytes`);
    await expectNoFullReload(page);
    expect(await getPost(request, id)).toBeNull();
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  // contract: "Liking one post changes that row's count and no other row's, with and without JavaScript. Without JavaScript the page comes back with every other row's form untouched."
  test('liking one row changes its count only, and every other row form is untouched', async ({
    page,
    request,
  }) => {
    const a = uniqueTitle('NoJS like A');
    const b = uniqueTitle('NoJS like B');
    await createPost(request, a);
    await createPost(request, b);
    await page.goto('/posts');
    const before = await likesByRow(page);
    const posted = nativePostResponse(page);
    await row(page, a).getByTestId('post-like').click();
    expect((await posted).status()).toBe(200);
    await expect(row(page, a).getByTestId('post-likes')).toHaveText('Likes: 1');
    const after = await likesByRow(page);
    expect({ ...after, [a]: before[a] }).toEqual(before);
    // No row shows a result or an error; each like form still posts its
    // own row's post.
    await expect(page.locator('ul[data-testid=post-list] [role=alert]')).toHaveCount(0);
    for (const r of await page.locator('ul[data-testid=post-list] li[data-testid=post]').all()) {
      const href = (await r.getByTestId('post-link').getAttribute('href')) ?? '';
      const likeForm = r.locator('form').filter({ has: page.getByTestId('post-like') });
      await expect(likeForm.locator('input[name=post]')).toHaveValue(href.split('/').pop()!);
    }
    const liked = (await getPost(request, Number(
      (await row(page, a).getByTestId('post-link').getAttribute('href'))!.split('/').pop(),
    )))!;
    expect(liked.post.likes).toBe(1);
  });

  test('a post page answers 404 for an unknown post, and shows everything of a known one', async ({
    page,
    request,
  }) => {
    const response = await page.goto('/posts/999999997');
    expect(response?.status()).toBe(404);
    await expect(page.getByTestId('not-found')).toHaveText('Post not found');

    const older = await createPost(request, uniqueTitle('NoJS older'), 'older body');
    const title = uniqueTitle('NoJS detail');
    const id = await createPost(request, title, 'detail body');
    await page.goto(`/posts/${id}`);
    await expect(page.getByTestId('post-detail-title')).toHaveText(title);
    await expect(page.getByTestId('post-detail-content')).toHaveText('detail body');
    await expect(page.getByTestId('post-detail-likes')).toHaveText('Likes: 0');
    await page.getByTestId('older-post').click();
    await expect(page).toHaveURL(new RegExp(`/posts/${older}$`));
    await expect(page.getByTestId('post-detail-content')).toHaveText('older body');
  });

  test('comments are added, refused when blank, and deleted with native posts', async ({ page, request }) => {
    const id = await createPost(request, uniqueTitle('NoJS comments'));
    await page.goto(`/posts/${id}`);
    const form = page.getByTestId('comment-form');
    await form.locator('textarea[name=body]').fill('native one');
    let posted = nativePost(page);
    await form.getByTestId('comment-submit').click();
    await posted;
    await expect(page.getByTestId('comment-body')).toHaveText(['native one']);

    await page.getByTestId('comment-form').locator('textarea[name=body]').fill('  ');
    posted = nativePost(page);
    await page.getByTestId('comment-form').getByTestId('comment-submit').click();
    await posted;
    await expect(page.getByTestId('comment-error')).toHaveText('Comment is required');
    expect(await commentBodies(request, id)).toEqual(['native one']);

    await page.getByTestId('comment-form').locator('textarea[name=body]').fill('native two');
    posted = nativePost(page);
    await page.getByTestId('comment-form').getByTestId('comment-submit').click();
    await posted;
    await expect(page.getByTestId('comment-body')).toHaveText(['native one', 'native two']);
    posted = nativePost(page);
    await page.locator('li[data-testid=comment]').filter({ hasText: 'native one' }).getByTestId('delete-comment').click();
    await posted;
    await expect(page.getByTestId('comment-body')).toHaveText(['native two']);
    expect(await commentBodies(request, id)).toEqual(['native two']);
  });

  test('delete-this-post redirects (303) to /posts without the post', async ({ page, request }) => {
    const title = uniqueTitle('NoJS delete this');
    const id = await createPost(request, title);
    await page.goto(`/posts/${id}`);
    const posted = nativePost(page);
    await page.getByTestId('delete-this-post').click();
    const submitted = await posted;
    expect((await submitted.response())?.status()).toBe(303);
    await expect(page).toHaveURL(/\/posts$/);
    await expect(row(page, title)).toHaveCount(0);
    expect(await getPost(request, id)).toBeNull();
  });
});

// `revalidate_path` holds for every reader: like_post revalidates the pages
// that show likes and nothing else. The list it changes is read through the
// cache; here it is first cached by another reader, so only a path tied to
// every reader makes /posts fresh.
test('revalidate_path reaches /posts although another reader cached the list first', async ({
  request,
}) => {
  const title = uniqueTitle('Revalidated');
  const id = await createPost(request, title);
  // Another reader caches the list (a direct call, not the /posts page).
  expect((await request.post('/api/get_posts')).status()).toBe(200);
  // /posts reads it from the cache.
  const likesOnPage = async () => {
    const html = await (await request.get('/posts')).text();
    const at = html.indexOf(`href="/posts/${id}"`);
    expect(at, 'the row is on the page').toBeGreaterThan(0);
    return Number(html.slice(at).match(/Likes: (?:<![^>]*>)?(\d+)/)?.[1]);
  };
  expect(await likesOnPage()).toBe(0);
  expect((await request.post('/api/like_post', { form: { post: String(id) } })).status()).toBe(200);
  expect(await likesOnPage(), '/posts is fresh after revalidate_path("/posts")').toBe(1);
  // The post's page too (revalidate_path("/posts/[id]")).
  expect((await getPost(request, id))!.post.likes).toBe(1);
});
