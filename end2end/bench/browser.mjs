// Browser benchmark of the `/likes` page, in headless (Debian) Chromium.
//
//   node end2end/bench/browser.mjs --out results.json NAME=URL[,hydrated][,load] [NAME=URL[,hydrated][,load] ...]
//
// `,load` measures the first load of URL only (1. below), for any page: the
// per-route figures.
//
// URL is the full address of a likes page: it must show `[data-testid=likes]`
// with the text `Total Likes: N` and a `button[data-testid=like-button]` whose
// click adds exactly 1 to N through the server. `,hydrated` means the page sets
// `html[data-hydrated=true]` once hydrated (Tandem does); we wait for it before
// clicking. Otherwise (e.g. Next.js) we wait for network idle and an enabled
// button, and the warm-up clicks prove hydration (the text has to change).
//
// For every target, three measurements, each in its own fresh browser context:
//
// 1. transfer: first load of URL with the HTTP cache disabled (CDP
//    Network.setCacheDisabled, service workers blocked), waiting for
//    `networkidle`, then (if `,hydrated`) for `html[data-hydrated=true]`, then
//    for 500 ms without any request in flight. Every response body of that load
//    (`response.body()`, i.e. decoded) is measured as raw bytes, gzip bytes
//    (zlib level 9) and brotli bytes (quality 11), so that every system is
//    compared the same way whatever its server compresses (a GET body that
//    DevTools no longer holds is fetched again outside the page, marked
//    `body_from: "refetch"`; the browser's own favicon request, which
//    Playwright does not report, is not counted). Grouped by kind:
//    html, js, wasm, css, other. The bytes on the wire (encoded body size from
//    Chromium, plus content-encoding) are recorded alongside, for reference.
//
// 2. click: latency from a click on the Like button to the updated page,
//    measured inside the page with `performance.now()`: a capture-phase `click`
//    listener on `document` stamps the (real, Playwright-driven) click; a
//    MutationObserver on the document stamps the first DOM change after which
//    `[data-testid=likes]` reads `Total Likes: N+1` (the whole document is
//    observed so that a replaced element is seen too). 3 warm-up clicks, then
//    20 measured ones, each waited for before the next; median, p90
//    (nearest rank), min, max and all samples, in ms.
//
// 3. requests_per_mutation: during each measured click, the non-static
//    requests the page issues between the click and the moment the text has
//    updated, at least 500 ms have passed since then and since the last
//    request event, and nothing issued since the click is still in flight.
//    Static means a GET of a script/stylesheet/image/font/media resource or of
//    a path ending in .js/.wasm/.css/.map/font/image extensions; everything
//    else counts (POSTs, fetch/xhr GETs of data, document loads). Requests and
//    their bytes are seen through CDP Network events (a streamed response the
//    page stops reading early has no body left for `response.body()`).
//    Reported: median/min/max count per click, median decoded response body
//    bytes (and wire bytes = headers + encoded body, and request body bytes),
//    and the requests of the first measured click.
//
// A page without the test ids, or a click that does not update the text within
// 10 s, aborts the run with a message and exit code 1 (no output is written).
// Dependencies: @playwright/test (end2end/node_modules) and node built-ins.

import { chromium } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants as zc } from 'node:zlib';

const WARMUP_CLICKS = 3;
const MEASURED_CLICKS = 20;
const CLICK_TIMEOUT_MS = 10_000; // a click must update the text within this
const QUIET_MS = 500; // "settled" = this long with nothing in flight
const SETTLE_LIMIT_MS = 10_000; // give up waiting for quiet after this
const LOAD_TIMEOUT_MS = 30_000; // navigation, hydration, an enabled button
const TESTID_TIMEOUT_MS = 10_000; // the test ids, once the page has loaded

const LIKES = '[data-testid=likes]';
const BUTTON = 'button[data-testid=like-button]';
const LIKES_TEXT = /^Total Likes: (\d+)$/;

const STATIC_TYPES = new Set(['script', 'stylesheet', 'image', 'font', 'media', 'manifest', 'texttrack']);
const STATIC_EXT = /\.(m?js|wasm|css|map|woff2?|ttf|otf|eot|png|jpe?g|gif|webp|avif|svg|ico)$/i;

class BenchError extends Error {}

// ---------------------------------------------------------------------------
// Command line

function parseArgs(argv) {
  let out = null;
  const targets = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') out = argv[++i];
    else if (a.startsWith('--out=')) out = a.slice(6);
    else if (a === '-h' || a === '--help') usage(0);
    else {
      const eq = a.indexOf('=');
      if (eq <= 0) usage(2, `bad target ${JSON.stringify(a)}`);
      const name = a.slice(0, eq);
      const [url, ...flags] = a.slice(eq + 1).split(',');
      for (const f of flags) if (f !== 'hydrated' && f !== 'load') usage(2, `unknown flag ${JSON.stringify(f)} in ${a}`);
      try {
        new URL(url);
      } catch {
        usage(2, `bad URL in ${a}`);
      }
      if (targets.some((t) => t.name === name)) usage(2, `target ${name} given twice`);
      targets.push({ name, url, hydrated: flags.includes('hydrated'), loadOnly: flags.includes('load') });
    }
  }
  if (!out) usage(2, '--out FILE is required');
  if (targets.length === 0) usage(2, 'no target given');
  return { out, targets };
}

function usage(code, message) {
  if (message) console.error(`browser.mjs: ${message}`);
  console.error('usage: node end2end/bench/browser.mjs --out results.json NAME=URL[,hydrated][,load] [NAME=URL[,hydrated][,load] ...]');
  console.error('  ,load: the first load only (no clicks)');
  process.exit(code);
}

// ---------------------------------------------------------------------------
// Small helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function median(xs) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile. */
function percentile(xs, p) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const round2 = (x) => (x == null ? x : Math.round(x * 100) / 100);

/** Static = a GET of a script/stylesheet/image/font/media resource or file. */
function isStatic(entry) {
  if (entry.method !== 'GET') return false;
  if (STATIC_TYPES.has(entry.type)) return true;
  return STATIC_EXT.test(new URL(entry.url).pathname);
}

/**
 * Tracks, through the Chrome DevTools Protocol, the requests a page issues
 * from `reset()` on: what is in flight, when the last request event happened
 * (Node clock), and per request its bytes. CDP rather than Playwright's
 * `response.body()`: a streamed response that the page stops reading once it
 * has what it needs (Next.js cancels its server-action fetch) has no body to
 * fetch afterwards, but its received bytes are reported as they arrive.
 * Each entry: url, method, type (Playwright's lowercase resource type), status,
 * content_type, request_bytes, response_bytes (decoded body), wire_bytes
 * (headers + encoded body as received), done.
 */
async function trackNetwork(context, page) {
  const cdp = await context.newCDPSession(page);
  const t = {
    cdp,
    issued: [],
    byId: new Map(),
    inflight: new Set(),
    lastEvent: Date.now(),
    reset() {
      t.issued = [];
      t.byId = new Map();
      t.inflight = new Set();
      t.lastEvent = Date.now();
    },
  };
  const finish = (entry, total) => {
    if (!entry || entry.done) return;
    entry.done = true;
    if (total != null && total > entry.wire_bytes) entry.wire_bytes = total;
    t.inflight.delete(entry);
    t.lastEvent = Date.now();
  };
  cdp.on('Network.requestWillBeSent', (e) => {
    if (!/^https?:/.test(e.request.url)) return;
    // A redirect reuses the id: the previous hop is over.
    if (e.redirectResponse) finish(t.byId.get(e.requestId), e.redirectResponse.encodedDataLength);
    const posted = (e.request.postDataEntries ?? []).reduce(
      (n, p) => n + (p.bytes ? Buffer.from(p.bytes, 'base64').length : 0),
      0,
    );
    const headers = Object.fromEntries(Object.entries(e.request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const entry = {
      url: e.request.url,
      method: e.request.method,
      request_content_type: headers['content-type'] ?? null,
      ...(headers['next-action'] ? { next_action: true } : {}),
      type: (e.type ?? 'Other').toLowerCase(),
      status: null,
      content_type: null,
      request_bytes: posted || (e.request.postData ? Buffer.byteLength(e.request.postData) : 0),
      response_bytes: 0,
      wire_bytes: 0,
      done: false,
    };
    t.byId.set(e.requestId, entry);
    t.issued.push(entry);
    t.inflight.add(entry);
    t.lastEvent = Date.now();
  });
  cdp.on('Network.responseReceived', (e) => {
    const entry = t.byId.get(e.requestId);
    if (!entry) return;
    entry.status = e.response.status;
    entry.content_type = e.response.mimeType ?? null;
    entry.wire_bytes += e.response.encodedDataLength ?? 0;
  });
  cdp.on('Network.dataReceived', (e) => {
    const entry = t.byId.get(e.requestId);
    if (!entry) return;
    entry.response_bytes += e.dataLength;
    entry.wire_bytes += e.encodedDataLength;
  });
  cdp.on('Network.loadingFinished', (e) => finish(t.byId.get(e.requestId), e.encodedDataLength));
  cdp.on('Network.loadingFailed', (e) => finish(t.byId.get(e.requestId)));
  await cdp.send('Network.enable');
  return t;
}

/**
 * Waits until `since` (Node clock) is QUIET_MS past, nothing tracked is in
 * flight and no request event happened for QUIET_MS. Returns false if that
 * did not happen within SETTLE_LIMIT_MS (e.g. a long-lived stream).
 */
async function waitQuiet(tracker, since = Date.now()) {
  const deadline = Date.now() + SETTLE_LIMIT_MS;
  for (;;) {
    const now = Date.now();
    if (tracker.inflight.size === 0 && now - Math.max(since, tracker.lastEvent) >= QUIET_MS) return true;
    if (now > deadline) return false;
    await sleep(20);
  }
}

async function newContext(browser) {
  // A fresh context has an empty cache and no cookies.
  return browser.newContext({ serviceWorkers: 'block' });
}

/** Checks the page shows the two test ids; returns the current total. */
async function checkTestIds(page, target) {
  const likes = page.locator(LIKES);
  const button = page.locator(BUTTON);
  try {
    await likes.first().waitFor({ state: 'visible', timeout: TESTID_TIMEOUT_MS });
    await button.first().waitFor({ state: 'visible', timeout: TESTID_TIMEOUT_MS });
  } catch {
    throw new BenchError(`${target.name}: ${target.url} does not show ${LIKES} and ${BUTTON}`);
  }
  if ((await likes.count()) !== 1 || (await button.count()) !== 1)
    throw new BenchError(`${target.name}: ${target.url} shows ${LIKES} or ${BUTTON} more than once`);
  const text = ((await likes.textContent()) ?? '').trim();
  const m = text.match(LIKES_TEXT);
  if (!m) throw new BenchError(`${target.name}: ${LIKES} reads ${JSON.stringify(text)}, not "Total Likes: N"`);
  return Number(m[1]);
}

async function waitHydrated(page, target) {
  try {
    await page.waitForSelector('html[data-hydrated=true]', { state: 'attached', timeout: LOAD_TIMEOUT_MS });
  } catch {
    throw new BenchError(`${target.name}: html[data-hydrated=true] never appeared on ${target.url}`);
  }
}

async function goto(page, target) {
  const response = await page.goto(target.url, { waitUntil: 'networkidle', timeout: LOAD_TIMEOUT_MS });
  if (!response || !response.ok())
    throw new BenchError(`${target.name}: GET ${target.url} answered ${response ? response.status() : 'nothing'}`);
  if (target.hydrated) await waitHydrated(page, target);
}

// ---------------------------------------------------------------------------
// 1. First-load transfer

function kindOf(response) {
  const type = response.request().resourceType();
  const ct = (response.headers()['content-type'] ?? '').toLowerCase();
  const path = new URL(response.url()).pathname.toLowerCase();
  if (ct.includes('application/wasm') || path.endsWith('.wasm')) return 'wasm';
  if (type === 'document' || ct.includes('text/html')) return 'html';
  if (type === 'script' || ct.includes('javascript') || /\.m?js$/.test(path)) return 'js';
  if (type === 'stylesheet' || ct.includes('text/css') || path.endsWith('.css')) return 'css';
  return 'other';
}

async function measureTransfer(browser, target) {
  const context = await newContext(browser);
  try {
    const page = await context.newPage();
    const tracker = await trackNetwork(context, page);
    await tracker.cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const responses = [];
    page.on('response', (r) => responses.push(r));

    await goto(page, target);
    // A load-only page is any page of the app: no likes to check.
    if (!target.loadOnly) await checkTestIds(page, target);
    const settled = await waitQuiet(tracker);

    const kinds = ['html', 'js', 'wasm', 'css', 'other'];
    const sums = Object.fromEntries(
      [...kinds, 'total'].map((k) => [k, { raw: 0, gzip: 0, br: 0, count: 0, wire: 0 }]),
    );
    const resources = [];
    for (const response of responses) {
      const url = response.url();
      if (!/^https?:/.test(url)) continue;
      const status = response.status();
      let body = Buffer.alloc(0);
      let bodyFrom = 'page';
      try {
        body = await response.body();
      } catch {
        // Redirects have no body; a body the page did not read to the end, or
        // too big for DevTools' buffer, is fetched again outside the page.
        bodyFrom = 'none';
        if (response.request().method() === 'GET' && status >= 200 && status < 300 && status !== 204) {
          try {
            body = await context.request.get(url).then((r) => r.body());
            bodyFrom = 'refetch';
          } catch {}
        }
      }
      const kind = kindOf(response);
      const raw = body.length;
      const gzip = raw ? gzipSync(body, { level: 9 }).length : 0;
      const br = raw
        ? brotliCompressSync(body, {
            params: { [zc.BROTLI_PARAM_QUALITY]: 11, [zc.BROTLI_PARAM_SIZE_HINT]: raw },
          }).length
        : 0;
      const headers = response.headers();
      let wire = null;
      try {
        wire = (await response.request().sizes()).responseBodySize; // encoded body bytes
      } catch {}
      resources.push({
        url,
        kind,
        status,
        raw,
        gzip,
        br,
        wire,
        content_encoding: headers['content-encoding'] ?? null,
        content_length: headers['content-length'] != null ? Number(headers['content-length']) : null,
        ...(bodyFrom === 'page' ? {} : { body_from: bodyFrom }),
      });
      for (const k of [kind, 'total']) {
        sums[k].raw += raw;
        sums[k].gzip += gzip;
        sums[k].br += br;
        sums[k].count += 1;
        sums[k].wire += wire ?? 0;
      }
    }
    return { ...sums, settled, resources };
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------------------
// 2 + 3. Clicks and the requests they cause

/** Installed in the page: click stamps and a DOM observer for the total. */
function installProbe({ likesSel, buttonSel }) {
  const probe = {
    target: null,
    t0: null,
    t1: null,
    resolve: null,
    promise: null,
    read() {
      const el = document.querySelector(likesSel);
      const m = el && (el.textContent ?? '').trim().match(/^Total Likes: (\d+)$/);
      return m ? Number(m[1]) : null;
    },
    arm(target) {
      probe.target = target;
      probe.t0 = null;
      probe.t1 = null;
      probe.promise = new Promise((r) => (probe.resolve = r));
    },
    check() {
      if (probe.target === null || probe.t1 !== null) return;
      const now = performance.now();
      if (probe.read() === probe.target) {
        probe.t1 = now;
        probe.resolve();
      }
    },
    wait(timeoutMs) {
      let timer;
      const timeout = new Promise((r) => (timer = setTimeout(r, timeoutMs)));
      return Promise.race([probe.promise, timeout]).then(() => {
        clearTimeout(timer);
        const result = { t0: probe.t0, t1: probe.t1, shown: probe.read() };
        probe.target = null;
        return result;
      });
    },
  };
  document.addEventListener(
    'click',
    (e) => {
      const button = document.querySelector(buttonSel);
      if (probe.target !== null && probe.t0 === null && button && button.contains(e.target))
        probe.t0 = performance.now();
    },
    { capture: true },
  );
  new MutationObserver(() => probe.check()).observe(document.documentElement, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: false,
  });
  window.__likesBench = probe;
}

async function measureClicks(browser, target) {
  const context = await newContext(browser);
  try {
    const page = await context.newPage();
    const tracker = await trackNetwork(context, page);
    await goto(page, target);
    await checkTestIds(page, target);
    if (!target.hydrated) {
      try {
        await page.waitForFunction((sel) => !document.querySelector(sel)?.disabled, BUTTON, {
          timeout: LOAD_TIMEOUT_MS,
        });
      } catch {
        throw new BenchError(`${target.name}: ${BUTTON} never became enabled`);
      }
    }
    await page.evaluate(installProbe, { likesSel: LIKES, buttonSel: BUTTON });

    const samples = [];
    const perClick = [];
    let firstRequests = null;
    let unsettled = 0;
    for (let i = 0; i < WARMUP_CLICKS + MEASURED_CLICKS; i++) {
      const before = await page.evaluate(() => window.__likesBench.read());
      if (before === null) throw new BenchError(`${target.name}: ${LIKES} no longer reads "Total Likes: N"`);
      await page.evaluate((n) => window.__likesBench.arm(n), before + 1);
      tracker.reset();
      await page.locator(BUTTON).click({ timeout: CLICK_TIMEOUT_MS });
      const r = await page.evaluate((ms) => window.__likesBench.wait(ms), CLICK_TIMEOUT_MS);
      const updatedAt = Date.now();
      if (r.t1 === null)
        throw new BenchError(
          `${target.name}: click ${i + 1} did not show "Total Likes: ${before + 1}" within ${CLICK_TIMEOUT_MS / 1000} s` +
            ` (it shows ${r.shown === null ? 'no total' : r.shown})`,
        );
      if (r.t0 === null) throw new BenchError(`${target.name}: the click listener did not see click ${i + 1}`);
      if (!(await waitQuiet(tracker, updatedAt))) unsettled += 1;

      if (i < WARMUP_CLICKS) continue;
      samples.push(r.t1 - r.t0);
      const counted = tracker.issued.filter((entry) => !isStatic(entry));
      const sum = (key) => counted.reduce((n, e) => n + e[key], 0);
      const bytes = sum('response_bytes');
      const wire = sum('wire_bytes');
      const sent = sum('request_bytes');
      const described = counted.map(({ done, url, ...e }) => {
        const u = new URL(url);
        return { path: u.pathname + u.search, ...e };
      });
      perClick.push({ count: counted.length, bytes, wire, sent });
      firstRequests ??= described;
    }

    return {
      click: {
        median_ms: round2(median(samples)),
        p90_ms: round2(percentile(samples, 90)),
        min_ms: round2(Math.min(...samples)),
        max_ms: round2(Math.max(...samples)),
        samples: samples.map(round2),
      },
      requests_per_mutation: {
        median: median(perClick.map((c) => c.count)),
        min: Math.min(...perClick.map((c) => c.count)),
        max: Math.max(...perClick.map((c) => c.count)),
        bytes_median: median(perClick.map((c) => c.bytes)),
        wire_bytes_median: median(perClick.map((c) => c.wire)),
        request_bytes_median: median(perClick.map((c) => c.sent)),
        per_click: perClick.map((c) => c.count),
        unsettled_clicks: unsettled,
        first_click_requests: firstRequests,
      },
    };
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------------------
// Main

const kb = (n) => `${(n / 1024).toFixed(1)} KB`.padStart(9);

function summarize(name, r) {
  const c = r.click;
  const q = r.requests_per_mutation;
  const lines = [`${name}  ${r.url}`];
  if (c && q) {
    lines.push(
      `  click → updated page: median ${c.median_ms} ms, p90 ${c.p90_ms}, min ${c.min_ms}, max ${c.max_ms} (n=${c.samples.length})`,
      `  requests per mutation: median ${q.median}, max ${q.max}; response bytes median ${q.bytes_median} (wire ${q.wire_bytes_median})` +
        (q.first_click_requests?.length
          ? `  [${q.first_click_requests.map((x) => `${x.method} ${x.path}`).join(', ')}]`
          : ''),
    );
  }
  lines.push(`  first load (${r.transfer.total.count} responses)      raw      gzip    brotli      wire`);
  for (const k of ['html', 'js', 'wasm', 'css', 'other', 'total']) {
    const t = r.transfer[k];
    if (t.count === 0 && k !== 'total') continue;
    lines.push(
      `    ${k.padEnd(6)} ×${String(t.count).padEnd(3)}        ${kb(t.raw)} ${kb(t.gzip)} ${kb(t.br)} ${kb(t.wire)}`,
    );
  }
  if (q?.unsettled_clicks) lines.push(`  warning: ${q.unsettled_clicks} clicks never went quiet within ${SETTLE_LIMIT_MS / 1000} s`);
  if (!r.transfer.settled) lines.push(`  warning: the first load never went quiet within ${SETTLE_LIMIT_MS / 1000} s`);
  return lines.join('\n');
}

async function main() {
  const { out, targets } = parseArgs(process.argv.slice(2));
  const browser = await chromium.launch({
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
  });
  const chromiumVersion = browser.version();
  const results = {};
  try {
    for (const target of targets) {
      const transfer = await measureTransfer(browser, target);
      const clicks = target.loadOnly ? {} : await measureClicks(browser, target);
      results[target.name] = { url: target.url, hydrated: target.hydrated, chromium: chromiumVersion, ...clicks, transfer };
      console.log(summarize(target.name, results[target.name]) + '\n');
    }
  } finally {
    await browser.close();
  }
  writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(`browser.mjs: ${e instanceof BenchError ? e.message : e?.stack ?? e}`);
  process.exit(1);
});
