import { test, expect, type Page } from '@playwright/test';
import { gotoHydrated, nativePostResponse, waitForHydration } from './helpers';

// Values written back into a page never become markup (the security
// review's first finding): every demo form with text fields, with
// JavaScript and without. The checks look for live markup in the DOM, not
// for a script that ran: the page's Content-Security-Policy would stop an
// injected script anyway, and must not be what saves us.

const PAYLOADS = [
  '</textarea><script>window.__xss=1</script>',
  '"><img src=x onerror="window.__xss=2">',
];

/** The demo forms whose text fields a user fills. */
const FORMS = [
  { path: '/posts', form: 'form[data-testid=create-post-form]', submit: '[data-testid=create-post-submit]' },
  { path: '/posts/new', form: 'form:has([data-testid=pending-submit])', submit: '[data-testid=pending-submit]' },
];

/** No element the payloads would create, and no script Leptos did not write. */
async function expectNoInjectedMarkup(page: Page) {
  await expect(page.locator('img[onerror]'), 'an <img onerror> from the payload').toHaveCount(0);
  await expect(page.locator('script:not([nonce])'), 'a script without the page nonce').toHaveCount(0);
  await expect(page.locator('script', { hasText: '__xss' }), 'a script from the payload').toHaveCount(0);
}

test.describe('with JavaScript', () => {
  for (const { path, form, submit } of FORMS) {
    for (const payload of PAYLOADS) {
      test(`${path}: ${JSON.stringify(payload)} typed into every field stays text`, async ({ page }) => {
        await gotoHydrated(page, path);
        const f = page.locator(form);
        // A blank title: the server refuses, the form stays with its values.
        await f.locator('input[name=title]').fill(' ');
        await f.locator('textarea[name=content]').fill(payload);
        await f.locator(submit).click();
        await expect(page.getByText('Title is required')).toBeVisible();
        await expectNoInjectedMarkup(page);
        await expect(f.locator('textarea[name=content]')).toHaveValue(payload);
        expect(await page.evaluate(() => (window as any).__xss ?? null)).toBeNull();
      });
    }
  }

  test('pages hydrate under their Content-Security-Policy, with no violation', async ({ page }) => {
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Content-Security-Policy/i.test(m.text())) violations.push(m.text());
    });
    const response = await page.goto('/likes');
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("'nonce-");
    expect(csp).not.toContain('unsafe-inline');
    await waitForHydration(page);
    await page.getByTestId('like-button').click();
    await expect(page.getByTestId('likes')).toHaveText(/Total Likes: \d+/);
    expect(violations).toEqual([]);
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  for (const { path, form, submit } of FORMS) {
    for (const payload of PAYLOADS) {
      test(`${path}: ${JSON.stringify(payload)} posted natively comes back as text`, async ({ page }) => {
        await page.goto(path);
        const f = page.locator(form);
        await f.locator('input[name=title]').fill(' ');
        await f.locator('textarea[name=content]').fill(payload);
        const answer = nativePostResponse(page);
        await f.locator(submit).click();
        await answer;
        await expect(page.getByText('Title is required')).toBeVisible();
        await expectNoInjectedMarkup(page);
        await expect(page.locator(form).locator('textarea[name=content]')).toHaveValue(payload);
      });
    }
  }

  test('a stored title with markup is shown as text', async ({ page, request }) => {
    for (const payload of PAYLOADS) {
      const title = `${payload} ${Date.now()}`;
      const created = await request.post('/api/create_post_with_state', {
        form: { prev: '""', title, content: payload },
      });
      expect(created.status()).toBe(200);
      await page.goto('/posts');
      await expectNoInjectedMarkup(page);
      await expect(page.getByTestId('post-title').filter({ hasText: title })).toHaveCount(1);
    }
  });
});
