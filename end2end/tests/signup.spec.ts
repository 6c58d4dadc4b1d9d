import { test, expect, type Page, type APIRequestContext } from '@playwright/test';
import {
  expectNoFullReload,
  functionStatus,
  gotoHydrated,
  markWindow,
  nativePostResponse,
  recordPosts,
} from './helpers';

// demo-contract.md, `/signup`: validation issues per field, a file upload;
// and the guarded guestbook on the same page (README, "What works").

const ENDPOINT = '/api/sign_up';

/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
/** A JPEG's first bytes and then some: the server sniffs, it does not decode. */
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 7)]);
/** A PNG over the 256 KiB limit. */
const BIG_PNG = Buffer.concat([PNG, Buffer.alloc(300 * 1024, 1)]);

const MESSAGES = {
  username: 'Username must be 3 to 20 letters, digits or _',
  taken: 'Username is taken',
  email: 'Email must contain @',
  password: 'Password must be at least 8 characters',
  avatarType: 'Avatar must be a PNG or JPEG image',
  avatarSize: 'Avatar must be at most 256 KiB',
  signIn: 'Sign up or sign in first',
};

/** A username no other test (or earlier run) has taken. */
function uniqueName(): string {
  return `u_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

function form(page: Page) {
  const f = page.locator('form[data-testid=signup-form]');
  return {
    form: f,
    username: f.locator('input[name=username]'),
    email: f.locator('input[name=email]'),
    password: f.locator('input[type=password][name=password]'),
    avatar: f.locator('input[type=file][name=avatar]'),
    submit: page.getByTestId('signup-submit'),
    error: (field: string) => page.getByTestId(`error-${field}`),
    result: page.getByTestId('signup-result'),
    img: page.locator('img[data-testid=avatar]'),
  };
}

interface Fill {
  username: string;
  email: string;
  password: string;
  avatar?: { name: string; mimeType: string; buffer: Buffer };
}

async function fill(page: Page, values: Fill) {
  const f = form(page);
  await f.username.fill(values.username);
  await f.email.fill(values.email);
  await f.password.fill(values.password);
  await f.avatar.setInputFiles(values.avatar ? [values.avatar] : []);
}

/** Submits the form: with JavaScript, waits for the call's answer; without, for the page's. */
async function submit(page: Page, js: boolean): Promise<number> {
  const answered = js
    ? page.waitForResponse((r) => new URL(r.url()).pathname === ENDPOINT)
    : nativePostResponse(page);
  await form(page).submit.click();
  const response = await answered;
  if (!js) await page.waitForLoadState('domcontentloaded');
  return functionStatus(response);
}

/** Expects exactly these fields to show issues, with these texts. */
async function expectIssues(page: Page, issues: Record<string, string>) {
  for (const field of ['username', 'email', 'password', 'avatar']) {
    const el = form(page).error(field);
    if (field in issues) {
      await expect(el, `the issue of ${field}`).toHaveText(issues[field]);
    } else {
      await expect(el, `no issue for ${field}`).toHaveCount(0);
    }
  }
}

/** Signs up through the form and waits for the welcome. */
async function signUp(page: Page, js: boolean, username: string, avatar?: Fill['avatar']) {
  await fill(page, { username, email: `${username}@example.com`, password: 'correct horse', avatar });
  expect(await submit(page, js)).toBe(200);
  await expect(form(page).result).toHaveText(`Welcome, ${username}`);
}

/** The avatar's `src` serves exactly `bytes`, as `contentType`. */
async function expectServedAvatar(page: Page, request: APIRequestContext, bytes: Buffer, contentType: string) {
  const src = await form(page).img.getAttribute('src');
  expect(src, 'the avatar has a src').toBeTruthy();
  const response = await request.get(new URL(src!, page.url()).toString());
  expect(response.status()).toBe(200);
  expect(response.headers()['content-type']).toBe(contentType);
  expect(Buffer.compare(await response.body(), bytes), 'the served bytes are the uploaded ones').toBe(0);
  // And the browser shows it (a PNG decodes to its 1×1 pixel).
  if (contentType === 'image/png') {
    await expect
      .poll(() => form(page).img.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth))
      .toBe(1);
  }
}

for (const js of [true, false]) {
  test.describe(js ? 'with JavaScript' : 'without JavaScript', () => {
    test.use({ javaScriptEnabled: js });

    async function open(page: Page) {
      if (js) await gotoHydrated(page, '/signup');
      else await page.goto('/signup');
    }

    // contract: "`form[data-testid=signup-form]` with `input[name=username]`, `input[name=email]`, `input[type=password][name=password]`, `input[type=file][name=avatar]` and `button[data-testid=signup-submit]` (text `Sign up`), calling `sign_up`. The browser does not stop a submission"
    // contract: "The server checks every field and answers all failures at once, each in its own element"
    // contract: "A field without a failure has no such element."
    // contract: "After a refused submission (with or without JavaScript) `username` and `email` hold what was typed; `password` is empty (never sent back)."
    test('every failure comes back at once, beside its field; typed values stay, the password does not', async ({ page }) => {
      await open(page);
      const f = form(page);
      await expect(f.submit).toHaveText('Sign up');
      await expectIssues(page, {});
      await fill(page, {
        username: 'x!',
        email: 'not-an-email',
        password: 'short',
        avatar: { name: 'notes.txt', mimeType: 'image/png', buffer: Buffer.from('just text, whatever the type says') },
      });
      expect(await submit(page, js)).toBe(422);
      await expectIssues(page, {
        username: MESSAGES.username,
        email: MESSAGES.email,
        password: MESSAGES.password,
        avatar: MESSAGES.avatarType,
      });
      await expect(f.username).toHaveValue('x!');
      await expect(f.email).toHaveValue('not-an-email');
      await expect(f.password).toHaveValue('');
      await expect(f.result).toHaveCount(0);
      if (!js) {
        // The password never comes back in the page's HTML.
        expect(await page.content()).not.toContain('short');
      }
    });

    // contract: "On success `[data-testid=signup-result]` reads `Welcome, NAME`, and, when an avatar was sent, `img[data-testid=avatar]` shows it: its `src` serves exactly the uploaded bytes with the image's content type."
    // contract: "Without JavaScript the form is a native `multipart/form-data` post and all of the above holds."
    test('a refused sign-up stores nothing; the corrected one welcomes the user and serves the avatar', async ({ page, request }) => {
      const username = uniqueName();
      await open(page);
      await fill(page, { username, email: 'nope', password: 'correct horse', avatar: { name: 'a.png', mimeType: 'image/png', buffer: PNG } });
      expect(await submit(page, js)).toBe(422);
      await expectIssues(page, { email: MESSAGES.email });
      await expect(form(page).username).toHaveValue(username);

      // Nothing was stored: the name is still free, and has no avatar.
      expect((await request.get(`/avatars/${username}`)).status()).toBe(404);
      await signUp(page, js, username, { name: 'me.png', mimeType: 'image/png', buffer: PNG });
      await expectIssues(page, {});
      await expectServedAvatar(page, request, PNG, 'image/png');
    });

    test('a JPEG avatar is served as image/jpeg; no avatar, no image', async ({ page, request }) => {
      await open(page);
      await signUp(page, js, uniqueName(), { name: 'me.jpg', mimeType: 'image/jpeg', buffer: JPEG });
      await expectServedAvatar(page, request, JPEG, 'image/jpeg');

      await open(page);
      await signUp(page, js, uniqueName());
      await expect(form(page).img).toHaveCount(0);
    });

    // contract: "`[data-testid=error-username]`: `Username must be 3 to 20 letters, digits or _`, or `Username is taken`"
    test('a taken username is refused', async ({ page }) => {
      const username = uniqueName();
      await open(page);
      await signUp(page, js, username);
      await open(page);
      await fill(page, { username, email: 'b@example.com', password: 'another password' });
      expect(await submit(page, js)).toBe(422);
      await expectIssues(page, { username: MESSAGES.taken });
    });

    // contract: "`[data-testid=error-avatar]`: `Avatar must be a PNG or JPEG image`, or `Avatar must be at most 256 KiB`"
    test('an avatar over 256 KiB is that field\'s issue, not a 413 page; nothing is stored', async ({ page, request }) => {
      const username = uniqueName();
      await open(page);
      await fill(page, { username, email: 'a@example.com', password: 'correct horse', avatar: { name: 'big.png', mimeType: 'image/png', buffer: BIG_PNG } });
      expect(await submit(page, js)).toBe(422);
      await expectIssues(page, { avatar: MESSAGES.avatarSize });
      await expect(form(page).username).toHaveValue(username);
      expect((await request.get(`/avatars/${username}`)).status()).toBe(404);
      // The name is free: nothing was stored.
      await open(page);
      await signUp(page, js, username);
    });

    // README: the guarded guestbook. Without a session it is refused with
    // 401 and changes nothing; signed up, the same form signs it.
    test('the guestbook refuses a visitor without a session (401) and takes a signed-up user', async ({ page, context }) => {
      const guestbook = page.locator('ul[data-testid=guestbook] li[data-testid=guestbook-entry]');
      const message = `hello ${uniqueName()}`;
      await open(page);
      await expect(page.getByTestId('session-user')).toHaveText('Not signed in');
      const before = await guestbook.count();
      await page.locator('form[data-testid=guestbook-form] input[name=message]').fill(message);
      const answered = js
        ? page.waitForResponse((r) => new URL(r.url()).pathname === '/api/sign_guestbook')
        : nativePostResponse(page);
      await page.getByTestId('guestbook-submit').click();
      expect(await functionStatus(await answered)).toBe(401);
      await expect(page.getByTestId('guestbook-refused')).toHaveText(MESSAGES.signIn);
      await expect(guestbook).toHaveCount(before);
      await expect(page.locator('ul[data-testid=guestbook]')).not.toContainText(message);

      // Signed up: an HttpOnly session cookie, and the guestbook takes it.
      const username = uniqueName();
      await open(page);
      await signUp(page, js, username);
      const session = (await context.cookies()).find((c) => c.name === 'session');
      expect(session, 'a session cookie').toBeTruthy();
      expect(session!.httpOnly).toBe(true);
      if (js) expect(await page.evaluate(() => document.cookie)).not.toContain('session');
      await expect(page.getByTestId('session-user')).toHaveText(`Signed in as ${username}`);

      await page.locator('form[data-testid=guestbook-form] input[name=message]').fill(message);
      const signed = js
        ? page.waitForResponse((r) => new URL(r.url()).pathname === '/api/sign_guestbook')
        : nativePostResponse(page);
      await page.getByTestId('guestbook-submit').click();
      expect(await functionStatus(await signed)).toBe(200);
      await expect(page.getByTestId('guestbook-result')).toHaveText(`Signed as ${username}`);
      await expect(guestbook.last()).toHaveText(`${username}: ${message}`);
      await expect(page.getByTestId('guestbook-refused')).toHaveCount(0);
    });

    test('a forged session cookie is no session', async ({ page, context }) => {
      const url = new URL(process.env.BASE_URL ?? 'http://127.0.0.1:3000');
      await context.addCookies([{ name: 'session', value: 'forged-token', domain: url.hostname, path: '/' }]);
      await open(page);
      await expect(page.getByTestId('session-user')).toHaveText('Not signed in');
      await page.locator('form[data-testid=guestbook-form] input[name=message]').fill('forged');
      const answered = js
        ? page.waitForResponse((r) => new URL(r.url()).pathname === '/api/sign_guestbook')
        : nativePostResponse(page);
      await page.getByTestId('guestbook-submit').click();
      expect(await functionStatus(await answered)).toBe(401);
    });
  });
}

test.describe('with JavaScript only', () => {
  // issue 12: "use_form_status reports the upload's progress in bytes while the request is in flight"
  test('the upload reports its progress in bytes, in one request, without a page load', async ({ page }) => {
    await gotoHydrated(page, '/signup');
    // Record every text the progress element shows (it is gone once the answer lands).
    await page.evaluate(() => {
      const seen: string[] = ((window as any).__progress = []);
      new MutationObserver(() => {
        const el = document.querySelector('[data-testid=upload-progress]');
        if (el && el.textContent) seen.push(el.textContent);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    const calls = recordPosts(page, ENDPOINT);
    await markWindow(page);
    const avatar = Buffer.concat([PNG, Buffer.alloc(200 * 1024, 3)]);
    await fill(page, { username: uniqueName(), email: 'p@example.com', password: 'correct horse', avatar: { name: 'p.png', mimeType: 'image/png', buffer: avatar } });
    await form(page).submit.click();
    await expect(form(page).result).toHaveText(/^Welcome, /);
    const seen: string[] = await page.evaluate(() => (window as any).__progress);
    const totals = seen
      .map((t) => t.match(/(\d+) of (\d+) bytes/))
      .filter((m): m is RegExpMatchArray => m !== null)
      .map((m) => ({ sent: Number(m[1]), total: Number(m[2]) }));
    expect(totals.length, `progress was shown (saw ${JSON.stringify(seen)})`).toBeGreaterThan(0);
    const last = totals[totals.length - 1];
    expect(last.total, 'the total is the multipart body: the file and the fields').toBeGreaterThan(avatar.length);
    expect(last.sent).toBeLessThanOrEqual(last.total);
    await expect(page.getByTestId('upload-progress')).toHaveCount(0);
    expect(calls).toHaveLength(1);
    expect(calls[0].headers()['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    await expectNoFullReload(page);
  });

  // issue 12: "A form with a file that is submitted before hydration is sent natively; the file is never dropped."
  test('a form with a file submitted before hydration is posted natively, file and all', async ({ page, request }) => {
    // The wasm never arrives: the page stays unhydrated.
    await page.route(/\.wasm$/, (route) => route.abort());
    await page.goto('/signup');
    await expect(page.locator('html[data-hydrated]')).toHaveCount(0);
    const username = uniqueName();
    await fill(page, { username, email: 'n@example.com', password: 'correct horse', avatar: { name: 'n.png', mimeType: 'image/png', buffer: PNG } });
    const posted = page.waitForRequest((r) => r.isNavigationRequest() && r.method() === 'POST');
    await form(page).submit.click();
    const post = await posted;
    expect(post.headers()['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    await expect(form(page).result).toHaveText(`Welcome, ${username}`);
    await expectServedAvatar(page, request, PNG, 'image/png');
  });
});
