import { defineConfig } from '@playwright/test';

// The server is started by `cargo xtask test` (or `cargo leptos end-to-end`),
// which passes its address in BASE_URL. Browsers come from Debian, not from
// Playwright's downloader: CHROMIUM_PATH or /usr/bin/chromium.
const baseURL = process.env.BASE_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  testDir: './tests',
  // `cargo leptos end-to-end` starts the server and runs this at once:
  // wait for it (an address already answering is used as it is).
  webServer: {
    command: 'node -e "setInterval(() => {}, 1 << 30)"',
    url: `${baseURL}/likes`,
    reuseExistingServer: true,
    timeout: 10 * 60_000,
  },
  // A subset, by title (the dev-loop test runs `cargo leptos end-to-end`
  // with the /likes tests only).
  grep: process.env.E2E_GREP ? new RegExp(process.env.E2E_GREP) : undefined,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: process.env.CI ? 'list' : [['list']],
  use: {
    baseURL,
    trace: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [
    {
      name: 'ssr',
      testIgnore: /csr\.spec\.ts/,
    },
    // The dev loop (`cargo xtask devloop`, part of `cargo xtask test`):
    // `cargo leptos watch` in a scratch copy, whose file DEVLOOP_FILE the
    // test edits.
    ...(process.env.DEVLOOP_FILE
      ? [{ name: 'devloop', testDir: './devloop', timeout: 15 * 60_000 }]
      : []),
    // The client-only Trunk build, served by `trunk serve` with /api
    // proxied to the server: only when CSR_URL says where it is (as
    // `cargo xtask test` does), so `cargo leptos end-to-end` runs the rest.
    ...(process.env.CSR_URL
      ? [{ name: 'csr', testMatch: /csr\.spec\.ts/, use: { baseURL: process.env.CSR_URL } }]
      : []),
  ],
});
