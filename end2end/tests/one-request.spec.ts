import { test, expect, type Page, type Request, type Response } from '@playwright/test';
import {
  gotoHydrated,
  numberIn,
  postItem,
  postsTitled,
  recordServerRequests,
  resultText,
  uniqueTitle,
  type Post,
} from './helpers';

// The headline feature: a mutation costs one HTTP request, and the page shows
// fresh data after it. The response to Tandem's client is an envelope
// (`application/x-tandem+json`) that carries the function's result, its
// effects and the page's queries read again on the server.
//
// Each test prints `[requests-per-mutation] <route> 1 request, <bytes> bytes`
// so the figures can be quoted.

const LIST_ITEMS = 'ul[data-testid=post-list] li[data-testid=post]';

interface Envelope {
  status: number;
  body: unknown;
  effects: Record<string, unknown>;
  queries?: { query: [string, string]; status: number; body: unknown }[];
}

/**
 * Tracks the page's requests in flight. `page.waitForLoadState('networkidle')`
 * cannot serve here: the page reaches `networkidle` once per load and the
 * call then returns at once, so it would not see requests a mutation sets
 * off later.
 */
function trackNetwork(page: Page) {
  const inFlight = new Set<Request>();
  let lastActivity = Date.now();
  page.on('request', (r) => {
    inFlight.add(r);
    lastActivity = Date.now();
  });
  const done = (r: Request) => {
    inFlight.delete(r);
    lastActivity = Date.now();
  };
  page.on('requestfinished', done);
  page.on('requestfailed', done);
  return {
    /** Waits until nothing has been in flight for `quietMs` (a deliberate wait: late follow-up requests would show up in it). */
    async idle(quietMs = 500) {
      await expect
        .poll(() => inFlight.size === 0 && Date.now() - lastActivity >= quietMs, {
          message: 'the network goes idle',
          intervals: [50],
        })
        .toBe(true);
    },
  };
}

/**
 * Runs one mutation and checks it cost exactly one request, a POST to
 * `endpoint`, answered 200: starts recording, runs `act`, waits for the
 * response, then for `fresh` (the page showing the new data), then for the
 * network to go idle. Prints the response's size.
 */
async function oneRequest(
  page: Page,
  label: string,
  endpoint: string,
  act: () => Promise<void>,
  fresh: () => Promise<void>,
): Promise<Response> {
  const network = trackNetwork(page);
  await network.idle();
  const seen = recordServerRequests(page);
  const responded = page.waitForResponse(
    (r) => new URL(r.url()).pathname === endpoint && r.request().method() === 'POST',
  );
  await act();
  const response = await responded;
  await fresh();
  await network.idle();

  expect(
    seen.map((r) => `${r.method()} ${new URL(r.url()).pathname}`),
    `${label}: the requests one mutation made`,
  ).toEqual([`POST ${endpoint}`]);
  expect(seen[0].isNavigationRequest(), 'a fetch, not a document load').toBe(false);
  expect(response.status(), `${label}: POST ${endpoint}`).toBe(200);

  const bytes = (await response.body()).length;
  console.log(`[requests-per-mutation] ${label} 1 request, ${bytes} bytes`);
  return response;
}

/** The response parsed as Tandem's envelope. */
async function envelopeOf(response: Response): Promise<Envelope> {
  expect(response.headers()['content-type'] ?? '', 'an envelope').toMatch(
    /^application\/x-tandem\+json/,
  );
  return JSON.parse(await response.text()) as Envelope;
}

/** The fresh result the envelope carries for the query `path` (its body, parsed as JSON). */
function freshQuery(envelope: Envelope, path: string): unknown {
  const entry = (envelope.queries ?? []).find((q) => q.query[0] === path);
  expect(
    entry,
    `the envelope carries ${path} read again (queries: ${JSON.stringify(
      (envelope.queries ?? []).map((q) => q.query[0]),
    )})`,
  ).toBeDefined();
  expect(entry!.status, `${path} status inside the envelope`).toBe(200);
  expect(typeof entry!.body, `${path} body is text`).toBe('string');
  return JSON.parse(entry!.body as string);
}

// contract (demo-contract.md, `/likes`): "`button[data-testid=like-button]` (text `Like`) calls `increment_like`, which returns the new total; the page shows it."
test('/likes: a like is one request, and the page shows the returned total', async ({ page }) => {
  await gotoHydrated(page, '/likes');
  const before = await numberIn(page, 'likes');
  const likes = page.getByTestId('likes');

  const response = await oneRequest(
    page,
    '/likes increment_like',
    '/api/increment_like',
    () => page.getByTestId('like-button').click(),
    () => expect(likes).toHaveText(`Total Likes: ${before + 1}`),
  );
  expect(Number(await resultText(response))).toBe(before + 1);
  await expect(likes).toHaveText(`Total Likes: ${before + 1}`);
});

// contract (demo-contract.md, `/posts/new`): "`[data-testid=action-state]` shows the state the action returned: `Created post N` (N the new post's id)"
test('/posts/new: creating a post with action state is one request, and the state shows its id', async ({
  page,
  request,
}) => {
  const title = uniqueTitle('One request new');
  await gotoHydrated(page, '/posts/new');
  const state = page.getByTestId('action-state');
  await page.locator('input[name=title]').fill(title);
  await page.locator('textarea[name=content]').fill('one request');

  const response = await oneRequest(
    page,
    '/posts/new create_post_with_state',
    '/api/create_post_with_state',
    () => page.getByTestId('pending-submit').click(),
    () => expect(state).toHaveText(/^Created post \d+$/),
  );
  const stored = await postsTitled(request, title);
  expect(stored).toHaveLength(1);
  await expect(state).toHaveText(`Created post ${stored[0].id}`);
  expect(await resultText(response)).toContain(`Created post ${stored[0].id}`);
});

// contract (demo-contract.md, `/posts`): "Submitting calls `create_post`, which stores the post, revalidates `/posts` and redirects to `/posts`. The new post is then the first `li`."
test('/posts: create (revalidate + redirect to the same page) is one request carrying the fresh list', async ({
  page,
}) => {
  const title = uniqueTitle('One request create');
  await gotoHydrated(page, '/posts');
  const form = page.locator('form[data-testid=create-post-form]');
  await form.locator('input[name=title]').fill(title);
  await form.locator('textarea[name=content]').fill('one request');

  const response = await oneRequest(
    page,
    '/posts create_post',
    '/api/create_post',
    () => form.locator('[data-testid=create-post-submit]').click(),
    () => expect(page.locator(LIST_ITEMS).first().getByTestId('post-title')).toHaveText(title),
  );
  await expect(page.locator(LIST_ITEMS).first().getByTestId('post-title')).toHaveText(title);
  expect(new URL(page.url()).pathname).toBe('/posts');

  const envelope = await envelopeOf(response);
  const posts = freshQuery(envelope, '/api/get_posts') as Post[];
  expect(posts[0]?.title, 'the fresh list in the envelope has the new post first').toBe(title);
});

// contract (demo-contract.md, `/posts`): "Each `li` holds a delete form: `input[type=hidden][name=id]` and `button[data-testid=delete-post]`. Submitting calls `delete_post`."
test('/posts: delete is one request carrying the fresh list', async ({ page }) => {
  const title = uniqueTitle('One request delete');
  await gotoHydrated(page, '/posts');
  const form = page.locator('form[data-testid=create-post-form]');
  await form.locator('input[name=title]').fill(title);
  await form.locator('textarea[name=content]').fill('to be deleted');
  await form.locator('[data-testid=create-post-submit]').click();
  const item = postItem(page, title);
  await expect(item).toHaveCount(1);

  // oneRequest records only from here on: the create above does not count.
  const response = await oneRequest(
    page,
    '/posts delete_post',
    '/api/delete_post',
    () => item.getByTestId('delete-post').click(),
    () => expect(postItem(page, title)).toHaveCount(0),
  );
  await expect(postItem(page, title)).toHaveCount(0);

  const envelope = await envelopeOf(response);
  const posts = freshQuery(envelope, '/api/get_posts') as Post[];
  expect(Array.isArray(posts), 'get_posts in the envelope is a list').toBe(true);
  expect(posts.filter((p) => p.title === title), 'the fresh list lacks the deleted post').toHaveLength(0);
});

// contract (demo-contract.md, `/cookies`): "`button[data-testid=set-cookie]` sets `name=Delba`; `button[data-testid=delete-cookie]` deletes it. After either, the server-rendered value updates without a full page load."
test('/cookies: set and delete are one request each, each carrying the fresh value', async ({
  page,
  context,
}) => {
  await context.clearCookies();
  await gotoHydrated(page, '/cookies');
  const value = page.getByTestId('cookie-value');
  await expect(value).toHaveText('(none)');

  const set = await oneRequest(
    page,
    '/cookies set_name_cookie',
    '/api/set_name_cookie',
    () => page.getByTestId('set-cookie').click(),
    () => expect(value).toHaveText('Delba'),
  );
  expect(freshQuery(await envelopeOf(set), '/api/get_cookie_name')).toBe('Delba');

  const deleted = await oneRequest(
    page,
    '/cookies delete_name_cookie',
    '/api/delete_name_cookie',
    () => page.getByTestId('delete-cookie').click(),
    () => expect(value).toHaveText('(none)'),
  );
  expect(freshQuery(await envelopeOf(deleted), '/api/get_cookie_name')).toBeNull();
  await expect(value).toHaveText('(none)');
});

// contract (demo-contract.md, `/refresh`): "`button[data-testid=bump]` calls a server function that increments the counter and refreshes the current page; the new count shows without a full page load."
test('/refresh: bump (refresh) is one request carrying the fresh count', async ({ page }) => {
  await gotoHydrated(page, '/refresh');
  const before = await numberIn(page, 'server-count');
  const count = page.getByTestId('server-count');

  const response = await oneRequest(
    page,
    '/refresh bump_counter',
    '/api/bump_counter',
    () => page.getByTestId('bump').click(),
    () => expect(count).toHaveText(String(before + 1)),
  );
  await expect(count).toHaveText(String(before + 1));
  expect(freshQuery(await envelopeOf(response), '/api/get_server_count')).toBe(before + 1);
});

// contract (demo-contract.md, `/tags`): "`button[data-testid=change-and-update-tag]` changes the stored value and expires the tag `price` at once: the page shows the new value after that one action."
test('/tags: change + update_tag is one request carrying the fresh value', async ({
  page,
  request,
}) => {
  // Bring the cache in line with the store first (update_tag expires the
  // tag), whatever earlier tests left behind.
  expect((await request.post('/api/change_price_and_update_tag')).status()).toBe(200);
  await gotoHydrated(page, '/tags');
  const before = await numberIn(page, 'cached-value');
  const value = page.getByTestId('cached-value');

  const response = await oneRequest(
    page,
    '/tags change_price_and_update_tag',
    '/api/change_price_and_update_tag',
    () => page.getByTestId('change-and-update-tag').click(),
    () => expect(value).toHaveText(String(before + 1)),
  );
  await expect(value).toHaveText(String(before + 1));
  expect(freshQuery(await envelopeOf(response), '/api/get_price')).toBe(before + 1);
});

/** Creates a post through the API; its id. */
async function createPostId(request: import('@playwright/test').APIRequestContext, title: string) {
  const response = await request.post('/api/create_post_with_state', {
    form: { prev: '""', title, content: `Body of ${title}` },
  });
  const state = (await response.json()) as string;
  return Number(state.match(/Created post (\d+)/)?.[1]);
}

// contract (demo-contract.md, `/posts` additions): "`button[data-testid=post-like]` ... calls `like_post` for that post only."
test('/posts: like_post is one request carrying the fresh list', async ({ page, request }) => {
  const title = uniqueTitle('One-request like');
  await createPostId(request, title);
  await gotoHydrated(page, '/posts');
  const row = postItem(page, title);
  await expect(row.getByTestId('post-likes')).toHaveText('Likes: 0');
  const response = await oneRequest(
    page,
    '/posts like_post',
    '/api/like_post',
    () => row.getByTestId('post-like').click(),
    () => expect(postItem(page, title).getByTestId('post-likes')).toHaveText('Likes: 1'),
  );
  const list = freshQuery(await envelopeOf(response), '/api/get_posts') as (Post & { likes: number })[];
  expect(list.find((p) => p.title === title)?.likes).toBe(1);
});

// contract (demo-contract.md, `/posts/:id`): "calls `add_comment`: the comment is stored and shows as the last `li`, in one request."
test('/posts/:id: add_comment is one request carrying only the fresh comments', async ({ page, request }) => {
  const id = await createPostId(request, uniqueTitle('One-request comment'));
  await gotoHydrated(page, `/posts/${id}`);
  const form = page.getByTestId('comment-form');
  await form.locator('textarea[name=body]').fill('one request');
  const response = await oneRequest(
    page,
    '/posts/:id add_comment',
    '/api/add_comment',
    () => form.getByTestId('comment-submit').click(),
    () => expect(page.getByTestId('comment-body')).toHaveText(['one request']),
  );
  const envelope = await envelopeOf(response);
  // Several queries are mounted; only the one the action touched comes back.
  expect((envelope.queries ?? []).map((q) => q.query[0])).toEqual(['/api/get_comments']);
  expect(freshQuery(envelope, '/api/get_comments')).toHaveLength(1);
});

// contract (demo-contract.md, `/posts/:id`): "`button[data-testid=delete-this-post]` ... deletes the post and redirects to `/posts` ... With JavaScript this is one request: the redirect's answer carries the data `/posts` shows."
test('/posts/:id: delete-this-post (redirect to /posts) is one request carrying the list', async ({
  page,
  request,
}) => {
  const title = uniqueTitle('One-request delete this');
  const id = await createPostId(request, title);
  await gotoHydrated(page, `/posts/${id}`);
  const response = await oneRequest(
    page,
    '/posts/:id delete-this-post',
    '/api/delete_this_post',
    () => page.getByTestId('delete-this-post').click(),
    async () => {
      await expect(page).toHaveURL(/\/posts$/);
      await expect(page.locator(LIST_ITEMS).first()).toBeVisible();
      await expect(postItem(page, title)).toHaveCount(0);
    },
  );
  const envelope = await envelopeOf(response);
  expect(envelope.effects.redirect).toBe('/posts');
  const list = freshQuery(envelope, '/api/get_posts') as Post[];
  expect(list.some((p) => p.title === title)).toBe(false);
});
