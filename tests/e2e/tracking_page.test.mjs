// Browser tests for the customer tracking page (web/), run against a live DINEX server.
//
//   DINEX_BASE_URL=http://127.0.0.1:8080 node --test tracking_page.test.mjs
//
// Optional: DINEX_CHROMIUM (default /usr/bin/chromium), DINEX_API_TOKEN (sent as a Bearer token
// when seeding, only if the server asks for one).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { assertClean, record } from './recording.mjs';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.join(HERE, 'artifacts');
const AXE_PATH = require.resolve('axe-core/axe.min.js');

const BASE_URL = process.env.DINEX_BASE_URL;
if (!BASE_URL) throw new Error('DINEX_BASE_URL is not set (e.g. DINEX_BASE_URL=http://127.0.0.1:8080)');
const ORIGIN = new URL(BASE_URL).origin;
const url = (p) => new URL(p, ORIGIN).href;
const CHROMIUM = process.env.DINEX_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TIMEZONE = 'America/Lima';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 812 };

// Unique ids per run so the tests can run again against the same server.
const RUN = `${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`.toUpperCase();
const SEEDED = `E2E-${RUN}`;
const UNKNOWN = `E2E-NONE-${RUN}`;
const NOW_S = Math.floor(Date.now() / 1000);
const at = (hoursAgo) => new Date((NOW_S - hoursAgo * 3600) * 1000).toISOString();
// Oldest first, as a courier would send them. The page must show them newest first.
const SEED_EVENTS = [
  { status: 'PICKED_UP', location: 'Arequipa', timestamp: at(30), description: `Recogido en la agencia ${RUN}` },
  { status: 'IN_TRANSIT', location: 'Lima', timestamp: at(20), description: `Salió del centro de distribución ${RUN}`, notes: 'Frágil' },
  { status: 'OUT_FOR_DELIVERY', location: 'Miraflores, Lima', timestamp: at(2), description: `En ruta con el repartidor ${RUN}`,
    estimated_delivery: at(-24) },
];
// The carrier's promise, carried into the package state by the service and shown by the page.
const ETA = SEED_EVENTS[2].estimated_delivery;
const NEWEST_FIRST = [...SEED_EVENTS].reverse();

async function seed() {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (process.env.DINEX_API_TOKEN) headers.Authorization = `Bearer ${process.env.DINEX_API_TOKEN}`;
  for (const [i, ev] of SEED_EVENTS.entries()) {
    const body = { tracking_id: SEEDED, event_id: `${SEEDED}-E${i + 1}`, ...ev };
    const res = await fetch(url('/tracking'), { method: 'POST', headers, body: JSON.stringify(body) });
    const text = await res.text();
    assert.equal(res.status, 201, `seeding POST /tracking answered ${res.status}: ${text}`);
  }
  const check = await fetch(url(`/tracking?tracking_id=${SEEDED}`));
  assert.equal(check.status, 200, `GET of the seeded package answered ${check.status}`);
}

before(async () => {
  await fs.mkdir(ARTIFACTS, { recursive: true });
  await seed();
});

// One fresh browser with a fresh temporary profile per test: no state leaks between tests.
async function openBrowser(t, { viewport = DESKTOP, bypassCSP = false } = {}) {
  const profile = await fs.mkdtemp(path.join(os.tmpdir(), 'dinex-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport, bypassCSP,
    locale: 'es-PE', timezoneId: TIMEZONE, serviceWorkers: 'block', acceptDownloads: false,
  });
  t.after(async () => {
    await context.close().catch(() => {});
    await fs.rm(profile, { recursive: true, force: true });
  });
  const { page, rec } = await record(context, 10_000);
  return { context, page, rec };
}

const trackingRequests = (rec) => rec.requests.filter((u) => u.startsWith(ORIGIN) && new URL(u).pathname === '/tracking');
const panelState = (page, state) => page.waitForSelector(`#panel[data-state="${state}"]`);

async function search(page, value) {
  await page.getByLabel(/Número de seguimiento|Tracking number/).fill(value);
  await page.getByLabel(/Número de seguimiento|Tracking number/).press('Enter');
}

async function timeline(page) {
  return page.$$eval('.timeline > li', (items) => items.map((li) => ({
    status: li.querySelector('.event-status')?.dataset.status,
    statusText: li.querySelector('.event-status')?.textContent,
    datetime: li.querySelector('time')?.getAttribute('datetime'),
    shown: li.querySelector('time')?.textContent,
    location: li.querySelector('.event-location')?.textContent,
    description: li.querySelector('.event-desc')?.textContent ?? null,
    notes: li.querySelector('.event-notes')?.textContent ?? null,
  })));
}

test('the server sends the page with its CSP and proper content types', async () => {
  const home = await fetch(url('/'));
  assert.equal(home.status, 200);
  assert.match(home.headers.get('content-type') ?? '', /^text\/html/);
  const csp = home.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'/, `CSP on / is "${csp}"`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const js = await fetch(url('/assets/app.js'));
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type') ?? '', /^(text|application)\/javascript/);
  const css = await fetch(url('/assets/app.css'));
  assert.equal(css.status, 200);
  assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
});

test('a seeded package shows its status, progress and every event newest first', async (t) => {
  const { page, rec } = await openBrowser(t);
  await page.goto(url('/'));
  assert.equal(await page.getAttribute('html', 'lang'), 'es');
  assert.equal(await page.textContent('h1'), 'Rastrea tu envío');
  await page.screenshot({ path: path.join(ARTIFACTS, 'desktop-home.png'), fullPage: true });

  await search(page, `  ${SEEDED.toLowerCase()} `); // trimmed and upper-cased by the page
  await panelState(page, 'result');
  assert.equal(new URL(page.url()).searchParams.get('tracking_id'), SEEDED);
  assert.equal(await page.inputValue('#tracking-id'), SEEDED);

  const status = page.locator('.summary .status-text');
  assert.equal(await status.textContent(), 'En reparto');
  assert.equal(await status.getAttribute('data-status'), 'OUT_FOR_DELIVERY');
  assert.match(await page.textContent('.summary .eyebrow'), new RegExp(SEEDED));
  assert.match(await page.textContent('.facts'), /Miraflores, Lima/);
  assert.deepEqual(await page.$$eval('.steps > li', (li) => li.map((x) => x.dataset.state)),
    ['done', 'done', 'done', 'current', 'todo']);
  const eta = page.locator('.facts .fact-eta');
  assert.equal(await eta.locator('dt').textContent(), 'Entrega estimada');
  assert.equal(Date.parse(await eta.locator('time').getAttribute('datetime')), Date.parse(ETA));
  assert.ok((await eta.locator('time').textContent()).length > 0);

  const events = await timeline(page);
  assert.equal(events.length, SEED_EVENTS.length);
  assert.deepEqual(events.map((e) => e.status), NEWEST_FIRST.map((e) => e.status));
  assert.deepEqual(events.map((e) => e.statusText), ['En reparto', 'En tránsito', 'Recogido']);
  assert.deepEqual(events.map((e) => e.location), NEWEST_FIRST.map((e) => e.location));
  assert.deepEqual(events.map((e) => e.description), NEWEST_FIRST.map((e) => e.description));
  assert.deepEqual(events.map((e) => Date.parse(e.datetime)), NEWEST_FIRST.map((e) => Date.parse(e.timestamp)));
  // The page asks anonymously, so it gets the public view (docs/SECURITY.md, OWASP API1): the
  // seeded event's notes ('Frágil') are not shown to whoever types the tracking number.
  assert.equal(events[1].notes, null);
  assert.equal(events[0].notes, null);

  // Times are shown in the viewer's time zone (the context runs in America/Lima).
  const expected = await page.evaluate(([iso, tz]) => new Intl.DateTimeFormat(navigator.language, {
    weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: tz,
  }).format(new Date(iso)), [NEWEST_FIRST[0].timestamp, TIMEZONE]);
  assert.equal(events[0].shown, expected);

  // Screen readers hear the status.
  await page.waitForFunction(() => /En reparto/.test(document.getElementById('live').textContent));
  assert.equal(await page.getAttribute('#live', 'aria-live'), 'polite');
  assert.match(await page.title(), new RegExp(`${SEEDED}.*En reparto`));

  await page.screenshot({ path: path.join(ARTIFACTS, 'desktop-result.png'), fullPage: true });
  const paths = rec.requests.map((u) => new URL(u).pathname);
  for (const p of ['/', '/assets/app.css', '/assets/app.js', '/tracking']) assert.ok(paths.includes(p), `no request for ${p}`);
  assertClean(rec, ORIGIN);
});

test('works on a 375 px wide phone screen', async (t) => {
  const { page, rec } = await openBrowser(t, { viewport: PHONE });
  await page.goto(url('/'));
  await page.screenshot({ path: path.join(ARTIFACTS, 'phone-home.png'), fullPage: true });
  await search(page, SEEDED);
  await panelState(page, 'result');
  assert.equal(await page.locator('.timeline > li').count(), SEED_EVENTS.length);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
  for (const sel of ['#tracking-id', '#track-form button[type="submit"]', '.lang-btn >> nth=0', '.lang-btn >> nth=1']) {
    const box = await page.locator(sel).boundingBox();
    assert.ok(box && box.height >= 36 && box.x >= 0 && box.x + box.width <= PHONE.width, `${sel} fits and is tappable: ${JSON.stringify(box)}`);
  }
  await page.screenshot({ path: path.join(ARTIFACTS, 'phone-result.png'), fullPage: true });
  assertClean(rec, ORIGIN);
});

test('an unknown number shows the not-found state', async (t) => {
  const { page, rec } = await openBrowser(t);
  await page.goto(url('/'));
  const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/tracking');
  await search(page, UNKNOWN);
  assert.equal((await answer).status(), 404);
  await panelState(page, 'not-found');
  assert.match(await page.textContent('#result-title'), new RegExp(`No encontramos el envío ${UNKNOWN}`));
  assert.equal(await page.locator('.timeline').count(), 0);
  await page.waitForFunction(() => /No encontramos/.test(document.getElementById('live').textContent));
  await page.click('[data-action="other"]');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tracking-id');
  await page.screenshot({ path: path.join(ARTIFACTS, 'desktop-not-found.png') });
  assertClean(rec, ORIGIN, { allow: ['404'] });
});

test('an invalid number is refused on the page without any request', async (t) => {
  const { page, rec } = await openBrowser(t);
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(url('/'));
  await page.waitForLoadState('networkidle');
  const before = requests.length;
  for (const bad of ['ab', 'TRK 001', '-TRK001', '_TRK001', 'TRK001!', 'TRK/001', 'ÑANDÚ123', 'A'.repeat(41), '', '   ']) {
    await search(page, bad);
    await panelState(page, 'invalid');
    assert.ok(await page.isVisible('#tracking-error'), `no error shown for "${bad}"`);
    assert.equal(await page.getAttribute('#tracking-id', 'aria-invalid'), 'true');
    assert.equal(new URL(page.url()).search, '', `URL changed for "${bad}"`);
  }
  assert.match(await page.textContent('#tracking-error'), /Ingresa un número/);
  await search(page, 'x!');
  assert.match(await page.textContent('#tracking-error'), /Número no válido/);
  assert.ok((await page.getAttribute('#tracking-id', 'aria-describedby')).includes('tracking-error'));
  await page.screenshot({ path: path.join(ARTIFACTS, 'desktop-invalid.png') });
  assert.deepEqual(requests.slice(before), [], 'the page made requests for invalid numbers');

  // The same through a shared link.
  await page.goto(url('/?tracking_id=%3Cimg%20src%3Dx%3E'));
  await panelState(page, 'invalid');
  assert.equal(await page.locator('#panel img').count(), 0);
  assert.deepEqual(trackingRequests(rec), [], 'GET /tracking was called for an invalid number');
  assertClean(rec, ORIGIN);
});

test('the language switch works and is remembered after a reload', async (t) => {
  const { page, rec } = await openBrowser(t);
  await page.goto(url(`/?tracking_id=${SEEDED}`));
  await panelState(page, 'result');
  assert.equal(await page.textContent('.summary .status-text'), 'En reparto');

  await page.getByRole('button', { name: 'English' }).click();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.getAttribute('[data-lang="en"]', 'aria-pressed'), 'true');
  assert.equal(await page.getAttribute('[data-lang="es"]', 'aria-pressed'), 'false');
  assert.equal(await page.textContent('h1'), 'Track your shipment');
  assert.equal(await page.textContent('.summary .status-text'), 'Out for delivery');
  assert.equal(await page.textContent('#history-title'), 'Shipment history');
  assert.deepEqual((await timeline(page)).map((e) => e.statusText), ['Out for delivery', 'In transit', 'Picked up']);
  assert.equal(await page.getByLabel('Tracking number').inputValue(), SEEDED);
  assert.equal(await page.evaluate(() => localStorage.getItem('dinex.lang')), 'en');

  await page.reload();
  await panelState(page, 'result');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.textContent('.summary .status-text'), 'Out for delivery');
  assert.match(await page.title(), /Out for delivery/);
  await page.screenshot({ path: path.join(ARTIFACTS, 'desktop-result-en.png'), fullPage: true });

  await page.getByRole('button', { name: 'Español' }).click();
  assert.equal(await page.getAttribute('html', 'lang'), 'es');
  await page.reload();
  await panelState(page, 'result');
  assert.equal(await page.getAttribute('html', 'lang'), 'es');
  assert.equal(await page.textContent('h1'), 'Rastrea tu envío');
  assertClean(rec, ORIGIN);
});

test('a shareable link loads the package directly, and back/forward work', async (t) => {
  const { page, rec } = await openBrowser(t);
  await page.goto(url(`/?tracking_id=${encodeURIComponent(` ${SEEDED.toLowerCase()}`)}`));
  await panelState(page, 'result');
  assert.equal(await page.inputValue('#tracking-id'), SEEDED);
  assert.equal(new URL(page.url()).searchParams.get('tracking_id'), SEEDED, 'link not normalised');
  assert.equal(await page.textContent('.summary .status-text'), 'En reparto');

  await search(page, UNKNOWN);
  await panelState(page, 'not-found');
  assert.equal(new URL(page.url()).searchParams.get('tracking_id'), UNKNOWN);

  await page.goBack();
  await panelState(page, 'result');
  assert.equal(await page.inputValue('#tracking-id'), SEEDED);
  assert.equal(new URL(page.url()).searchParams.get('tracking_id'), SEEDED);

  await page.goForward();
  await panelState(page, 'not-found');
  assert.equal(await page.inputValue('#tracking-id'), UNKNOWN);

  // From the bare page: a search adds a history entry, back returns to the empty form.
  await page.goto(url('/'));
  await search(page, SEEDED);
  await panelState(page, 'result');
  await page.goBack();
  await panelState(page, 'idle');
  assert.equal(await page.inputValue('#tracking-id'), '');
  await page.goForward();
  await panelState(page, 'result');
  assertClean(rec, ORIGIN, { allow: ['404'] });
});

test('a server or network error shows a retry button that recovers', async (t) => {
  const { page, rec } = await openBrowser(t);
  let calls = 0;
  await page.route((u) => u.pathname === '/tracking', async (route) => {
    calls += 1;
    if (calls === 1) {
      await route.fulfill({ status: 503, contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'unavailable', message: 'try later', details: [] }, request_id: 'req-e2e-503' }) });
    } else if (calls === 2) {
      await route.abort('connectionrefused');
    } else {
      await route.continue();
    }
  });
  await page.goto(url(`/?tracking_id=${SEEDED}`));
  await panelState(page, 'error');
  assert.match(await page.textContent('#panel'), /req-e2e-503/);
  await page.waitForFunction(() => /No pudimos consultar/.test(document.getElementById('live').textContent));
  await page.screenshot({ path: path.join(ARTIFACTS, 'desktop-error.png') });

  await page.click('[data-action="retry"]');
  await panelState(page, 'error');
  await page.getByRole('button', { name: 'Reintentar' }).focus();
  await page.keyboard.press('Enter');
  await panelState(page, 'result');
  assert.equal(await page.textContent('.summary .status-text'), 'En reparto');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'result-title', 'focus lost after retry');
  assert.equal(calls, 3);
  assertClean(rec, ORIGIN, { allow: ['503', 'net::ERR_'] });
});

test('keyboard only: skip link, visible focus, search with Enter', async (t) => {
  const { page, rec } = await openBrowser(t);
  await page.goto(url('/'));
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
  assert.ok((await page.locator('.skip-link').boundingBox()).y >= 0, 'skip link not shown on focus');
  const seen = [];
  for (let i = 0; i < 6 && seen.at(-1) !== 'tracking-id'; i++) {
    await page.keyboard.press('Tab');
    const info = await page.evaluate(() => {
      const el = document.activeElement;
      const cs = getComputedStyle(el);
      return { id: el.id || el.dataset.lang || el.className, outline: cs.outlineStyle, width: parseFloat(cs.outlineWidth) };
    });
    assert.ok(info.outline !== 'none' && info.width >= 2, `no visible focus on ${info.id}`);
    seen.push(info.id);
  }
  assert.equal(seen.at(-1), 'tracking-id', `Tab order: ${seen.join(' > ')}`);
  await page.keyboard.type(SEEDED);
  await page.keyboard.press('Enter');
  await panelState(page, 'result');
  assertClean(rec, ORIGIN);
});

test('axe-core finds no serious or critical accessibility violations', async (t) => {
  // CSP is bypassed in this test only, so axe can be injected as a script tag.
  const { page } = await openBrowser(t, { bypassCSP: true });
  const scan = async (label) => {
    await page.addScriptTag({ path: AXE_PATH });
    const result = await page.evaluate(() => window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
    }));
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [],
      `axe violations on ${label}`);
  };
  await page.goto(url(`/?tracking_id=${SEEDED}`));
  await panelState(page, 'result');
  await scan('result (es)');
  await page.getByRole('button', { name: 'English' }).click();
  await scan('result (en)');
  await search(page, UNKNOWN);
  await panelState(page, 'not-found');
  await scan('not found');
  await search(page, 'no');
  await panelState(page, 'invalid');
  await scan('invalid');
  await page.setViewportSize(PHONE);
  await page.goto(url(`/?tracking_id=${SEEDED}`));
  await panelState(page, 'result');
  await scan('result on a phone');
});
