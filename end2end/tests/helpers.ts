import { expect, type APIRequestContext, type Locator, type Page, type Request, type Response } from '@playwright/test';

/** Waits until the wasm app has hydrated (or mounted) the page. */
export async function waitForHydration(page: Page) {
  await page.waitForSelector('html[data-hydrated="true"]', { state: 'attached' });
}

/** Opens `path` and waits for hydration. */
export async function gotoHydrated(page: Page, path: string) {
  await page.goto(path);
  await waitForHydration(page);
}

/** The number inside a text such as `Total Likes: 12`. */
export async function numberIn(page: Page, testId: string): Promise<number> {
  const text = (await page.getByTestId(testId).textContent()) ?? '';
  const match = text.match(/(-?\d+)\s*$/);
  expect(match, `a number at the end of ${JSON.stringify(text)}`).not.toBeNull();
  return Number(match![1]);
}

/** Records the non-static requests (server functions, documents) a page makes. */
export function recordServerRequests(page: Page): Request[] {
  const seen: Request[] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    const isStatic = url.pathname.startsWith('/pkg/') || url.pathname === '/favicon.ico';
    if (!isStatic) seen.push(r);
  });
  return seen;
}

// ---------------------------------------------------------------------------
// Shared by posts, posts-new, views, cookies and prehydration specs.

/** A post as `POST /api/get_posts` returns it. */
export interface Post {
  id: number;
  title: string;
  content: string;
}

/** Every stored post, newest first, straight from the server. */
export async function getPosts(request: APIRequestContext): Promise<Post[]> {
  const response = await request.post('/api/get_posts');
  expect(response.status(), 'POST /api/get_posts').toBe(200);
  return (await response.json()) as Post[];
}

/** The stored posts whose title is exactly `title`. */
export async function postsTitled(request: APIRequestContext, title: string): Promise<Post[]> {
  return (await getPosts(request)).filter((p) => p.title === title);
}

/** The views total, straight from the server. */
export async function getViews(request: APIRequestContext): Promise<number> {
  const response = await request.post('/api/get_views');
  expect(response.status(), 'POST /api/get_views').toBe(200);
  return Number(await response.json());
}

/** A title no other test (or earlier run) has used: the database is shared. */
export function uniqueTitle(prefix = 'Post'): string {
  return `${prefix} ${Date.now()}-${Math.random().toString(36).slice(2, 7)}`;
}

/** Puts a marker on `window`; a full page load would wipe it. */
export async function markWindow(page: Page) {
  await page.evaluate(() => ((window as any).__noReload = 42));
}

/** Asserts the marker set by `markWindow` is still there: no full page load happened. */
export async function expectNoFullReload(page: Page) {
  expect(
    await page.evaluate(() => (window as any).__noReload),
    'the window marker survives (no full page load)',
  ).toBe(42);
}

/** Records every POST the page sends to exactly this path (fetches and form submissions alike). */
export function recordPosts(page: Page, pathname: string): Request[] {
  const seen: Request[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === pathname) seen.push(r);
  });
  return seen;
}

/** A route whose requests are held until `release()` is called. */
export interface HeldRoute {
  /** Resolves when the first matching request has reached the route (and is being held). */
  arrived: Promise<void>;
  /** Lets every held (and every later) matching request through. */
  release: () => void;
}

/** Holds every request matching `url` until released. */
export async function holdRoute(page: Page, url: string | RegExp): Promise<HeldRoute> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let arrive!: () => void;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  await page.route(url, async (route) => {
    arrive();
    await released;
    // The page may be gone by now (test over); nothing left to continue then.
    await route.continue().catch(() => {});
  });
  return { arrived, release };
}

/** The `li[data-testid=post]` whose title is `title`. */
export function postItem(page: Page, title: string): Locator {
  return page
    .locator('ul[data-testid=post-list] li[data-testid=post]')
    .filter({ has: page.getByTestId('post-title').filter({ hasText: exactText(title) }) });
}

/** A pattern matching exactly `text`, give or take surrounding whitespace. */
export function exactText(text: string): RegExp {
  return new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
}

/**
 * The server function's own result inside a response: Tandem's client asks
 * for an envelope (`{"status", "body", "effects"}`), other callers get the
 * body as is.
 */
export async function resultText(response: { headers(): Record<string, string>; text(): Promise<string> }): Promise<string> {
  const text = await response.text();
  if ((response.headers()['content-type'] ?? '').startsWith('application/x-tandem+json')) {
    return JSON.parse(text).body;
  }
  return text;
}

/** The next form POST the page sends as a document load (a native submit). */
export function nativePost(page: Page): Promise<Request> {
  return page.waitForRequest((r) => r.isNavigationRequest() && r.method() === 'POST');
}

/** The response to the next native form POST. */
export function nativePostResponse(page: Page): Promise<Response> {
  return page.waitForResponse(
    (r) => r.request().isNavigationRequest() && r.request().method() === 'POST',
  );
}

/**
 * The server function's own status: inside Tandem's envelope (which its
 * client asks for, and which is itself a 200) or the response's.
 */
export async function functionStatus(response: Response): Promise<number> {
  if ((response.headers()['content-type'] ?? '').startsWith('application/x-tandem+json')) {
    return JSON.parse(await response.text()).status;
  }
  return response.status();
}
