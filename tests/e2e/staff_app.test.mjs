// Browser tests for the staff app (web/staff/, served at /staff/), run against a live DINEX server.
//
//   DINEX_BASE_URL=http://127.0.0.1:8080 DINEX_API_TOKEN=<writer key> DINEX_READER_TOKEN=<reader key> \
//     node --test staff_app.test.mjs
//
// run_with_server.py starts the binary on a free port and makes both keys. Optional:
// DINEX_CHROMIUM (default /usr/bin/chromium), DINEX_SCREENSHOTS (a folder: also save the README's
// screenshots there, e.g. docs/images).
import { test } from 'node:test';
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
const WRITER = process.env.DINEX_API_TOKEN;
const READER = process.env.DINEX_READER_TOKEN;
if (!BASE_URL || !WRITER || !READER) throw new Error('set DINEX_BASE_URL, DINEX_API_TOKEN (writer) and DINEX_READER_TOKEN (reader)');
const ORIGIN = new URL(BASE_URL).origin;
const url = (p) => new URL(p, ORIGIN).href;
const CHROMIUM = process.env.DINEX_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

// Unique ids per run so the tests can run again against the same server.
const RUN = crypto.randomBytes(3).toString('hex').toUpperCase();
const pkgId = (name) => `PE-${RUN}-${name}`;

async function api(p, { method = 'GET', key = WRITER, body } = {}) {
  const headers = { Accept: 'application/json', Authorization: `Bearer ${key}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(url(p), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
async function history(id) {
  const res = await api(`/tracking?tracking_id=${id}`);
  assert.equal(res.status, 200, `GET /tracking?tracking_id=${id} answered ${res.status}`);
  return [...res.body.events].reverse();  // oldest first
}

async function openBrowser(t, { viewport = PHONE, bypassCSP = false, serviceWorkers = 'block' } = {}) {
  const profile = await fs.mkdtemp(path.join(os.tmpdir(), 'dinex-staff-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport, bypassCSP,
    locale: 'es-PE', timezoneId: 'America/Lima', serviceWorkers, acceptDownloads: false,
    hasTouch: viewport === PHONE, isMobile: viewport === PHONE,
  });
  t.after(async () => {
    await context.close().catch(() => {});
    await fs.rm(profile, { recursive: true, force: true });
  });
  const { page, rec } = await record(context, 15_000);
  return { context, page, rec };
}

async function signIn(page, key, as = 'Repartidor') {
  await page.goto(url('/staff/'));
  await page.getByLabel('Clave de API').fill(key);
  await page.getByRole('radio', { name: as }).check();
  await page.getByRole('button', { name: 'Entrar' }).click();
}

// One scan the way a courier makes it: number, a status button in words, (place), save.
async function scan(page, { id, status, place }) {
  await page.getByLabel('Número de seguimiento').fill(id);
  await page.getByRole('radio', { name: status }).check();
  if (place !== undefined) await page.getByLabel('Lugar', { exact: true }).fill(place);
  const before = await page.locator('#scans > li').count();
  await page.getByRole('button', { name: 'Guardar escaneo' }).click();
  await page.waitForFunction((n) => document.querySelectorAll('#scans > li').length > n, before);
}

const fates = (page, id) => page.$$eval('#scans > li', (lis, tid) => lis
  .filter((li) => li.querySelector('.scan-id')?.textContent === tid)
  .map((li) => ({ fate: li.dataset.fate, shown: li.querySelector('.fate').textContent, eventId: li.dataset.eventId }))
  .reverse(), id);  // oldest first

async function waitFates(page, id, n, fate) {
  await page.waitForFunction(([tid, count, f]) => [...document.querySelectorAll('#scans > li')]
    .filter((li) => li.querySelector('.scan-id')?.textContent === tid && li.dataset.fate === f).length === count, [id, n, fate]);
}

async function axe(page, label) {
  await page.addScriptTag({ path: AXE_PATH });
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
  }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [],
    `axe violations on ${label}`);
}

// Every screenshot goes to artifacts/; the README's also to DINEX_SCREENSHOTS when it is set.
async function screenshot(page, name, { fullPage = true, readme = false } = {}) {
  await fs.mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, name), fullPage });
  if (readme && process.env.DINEX_SCREENSHOTS) await page.screenshot({ path: path.join(process.env.DINEX_SCREENSHOTS, name), fullPage });
}

const FIVE = ['Información recibida', 'Recogido', 'En tránsito', 'En reparto', 'Entrega fallida'];
const FIVE_CODES = ['INFO_RECEIVED', 'PICKED_UP', 'IN_TRANSIT', 'OUT_FOR_DELIVERY', 'DELIVERY_FAILED'];

test('the server sends the staff app with a strict CSP, proper types and a scoped service worker', async () => {
  const page = await fetch(url('/staff/'));
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /connect-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  const html = await page.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
  assert.doesNotMatch(html, /\sstyle=|<style/, 'no inline style');
  for (const [p, type] of [['/staff/app.js', /javascript/], ['/staff/queue.js', /javascript/], ['/staff/text.js', /javascript/],
    ['/staff/app.css', /^text\/css/], ['/staff/manifest.webmanifest', /^application\/manifest\+json/], ['/staff/icon.svg', /^image\/svg\+xml/]]) {
    const res = await fetch(url(p));
    assert.equal(res.status, 200, p);
    assert.match(res.headers.get('content-type') ?? '', type, p);
  }
  const sw = await fetch(url('/staff/sw.js'));
  assert.match(sw.headers.get('content-type') ?? '', /javascript/);
  assert.equal(sw.headers.get('cache-control'), 'no-cache');
  assert.equal(sw.headers.get('service-worker-allowed'), null, 'the worker needs no scope beyond /staff/');
  assert.equal((await fetch(url('/staff/missing.js'))).status, 404);
});

test('sign-in: a wrong or read-only key is refused in words, a writer key opens the courier screen, sign-out forgets it', async (t) => {
  const { context, page, rec } = await openBrowser(t);
  await page.goto(url('/staff/'));
  assert.equal(await page.getAttribute('html', 'lang'), 'es');
  await page.getByLabel('Clave de API').fill('dnx_notarealkey_000000000000000000000000');
  await page.getByRole('button', { name: 'Entrar' }).click();
  await page.getByText('El servicio no reconoce esta clave').waitFor();
  assert.equal(await page.getAttribute('#api-key', 'aria-invalid'), 'true');

  await page.getByLabel('Clave de API').fill(READER);
  await page.getByRole('button', { name: 'Entrar' }).click();
  await page.getByText('Esta clave solo permite consultar').waitFor();

  await page.getByLabel('Clave de API').fill(WRITER);
  await page.getByRole('button', { name: 'Entrar' }).click();
  await page.getByRole('heading', { name: 'Registrar escaneo' }).waitFor();
  assert.equal(await page.locator('#modes').isVisible(), true, 'a writer sees both modes');
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('dinex.staff.auth')));
  assert.deepEqual(stored, { key: WRITER, role: 'writer' });

  await page.reload();
  await page.getByRole('heading', { name: 'Registrar escaneo' }).waitFor();  // remembered on the device

  // Signing out with a scan still queued asks what to do with it; kept, it is sent at the next sign-in.
  const id = pkgId('SIGNOUT');
  await context.setOffline(true);
  await scan(page, { id, status: 'Recogido', place: 'Chiclayo' });
  await page.getByRole('button', { name: 'Salir' }).click();
  await page.getByRole('dialog').getByText('Hay 1 escaneo sin enviar en este teléfono.').waitFor();
  await page.getByRole('button', { name: 'Salir y conservar los escaneos' }).click();
  await page.getByRole('heading', { name: 'Entrar' }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('dinex.staff.auth')), null, 'the key is forgotten');
  assert.doesNotMatch(await page.evaluate(() => JSON.stringify(localStorage)), new RegExp(WRITER), 'nowhere on the device');
  const queued = await page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('dinex-staff');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const all = open.result.transaction('scans').objectStore('scans').getAll();
      all.onsuccess = () => { resolve(JSON.stringify(all.result)); open.result.close(); };
    };
  }));
  assert.match(queued, new RegExp(id), 'the queued scan is kept');
  assert.doesNotMatch(queued, new RegExp(WRITER), 'the queue holds no key');
  await context.setOffline(false);
  await page.getByLabel('Clave de API').fill(WRITER);
  await page.getByRole('button', { name: 'Entrar' }).click();
  await waitFates(page, id, 1, 'sent');
  assert.equal((await history(id)).length, 1);
  // The key check stores nothing; the unknown key and the reader key are this test's 401 and 403.
  assertClean(rec, ORIGIN, { allow: ['401', '403'] });
});

test('five scans made offline are all stored once, in order, when the phone is back online', async (t) => {
  const { context, page, rec } = await openBrowser(t);
  const id = pkgId('OFFLINE');
  await signIn(page, WRITER);
  await page.getByRole('heading', { name: 'Registrar escaneo' }).waitFor();

  await context.setOffline(true);
  await page.locator('#net[data-online="false"]').waitFor();
  for (const [i, status] of FIVE.entries()) await scan(page, { id: id.toLowerCase(), status, place: i === 0 ? 'Lima - Callao' : undefined });
  assert.equal(await page.inputValue('#location'), 'Lima - Callao', 'the place is remembered between scans');
  assert.deepEqual((await fates(page, id)).map((f) => f.fate), Array(5).fill('queued'));
  assert.equal((await fates(page, id))[0].shown, 'En cola');
  await page.getByText('Sin conexión: 5 esperan').waitFor();
  await screenshot(page, 'staff-courier-offline-phone.png');
  assert.equal((await api(`/tracking?tracking_id=${id}`)).status, 404, 'nothing was sent while offline');

  await context.setOffline(false);
  await waitFates(page, id, 5, 'sent');
  assert.deepEqual((await fates(page, id)).map((f) => f.shown), Array(5).fill('Registrado'));
  await page.getByText('Todo enviado.').waitFor();

  const events = await history(id);
  assert.equal(events.length, 5, 'each scan stored exactly once');
  assert.deepEqual(events.map((e) => e.status), FIVE_CODES, 'in the order they were scanned');
  assert.deepEqual(events.map((e) => e.event_id), (await fates(page, id)).map((f) => f.eventId), 'with the ids made on the phone');
  assert.ok(events.every((e) => e.location === 'Lima - Callao'));
  await screenshot(page, 'staff-courier-online-phone.png');
  assertClean(rec, ORIGIN);
});

test('a sync cut before and after the service stored the batch still stores every scan once', async (t) => {
  const { page, rec } = await openBrowser(t);
  const id = pkgId('CUT');
  await signIn(page, WRITER);
  await page.getByRole('heading', { name: 'Registrar escaneo' }).waitFor();

  // Hold the sends until the three scans are queued, then: the first send never reaches the
  // service; the second is stored but its answer is lost; the third goes through.
  const attempts = [];
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route('**/tracking/batch', async (route) => {
    const body = JSON.parse(route.request().postData());
    if (!body.events.some((e) => e.tracking_id === id)) return route.continue();
    await held;
    attempts.push(body.events.map((e) => e.event_id));
    if (attempts.length === 1) return route.abort('connectionreset');
    if (attempts.length === 2) {
      const res = await route.fetch();
      assert.equal(res.status(), 200);
      return route.abort('connectionreset');
    }
    return route.continue();
  });
  await scan(page, { id, status: 'Recogido', place: 'Arequipa' });
  await scan(page, { id, status: 'En tránsito' });
  await scan(page, { id, status: 'En reparto' });
  release();
  await page.waitForFunction((tid) => [...document.querySelectorAll('#scans > li')]
    .filter((li) => li.querySelector('.scan-id')?.textContent === tid && ['sent', 'replayed'].includes(li.dataset.fate)).length === 3, id, { timeout: 30_000 });
  assert.ok(attempts.length >= 3, `three sends at least (${attempts.length})`);
  const ours = await fates(page, id);
  // The scans in the lost answer come back as replays: already stored, not stored again.
  const lost = new Set(attempts[1]);
  for (const f of ours) assert.equal(f.fate, lost.has(f.eventId) ? 'replayed' : 'sent', f.eventId);
  assert.ok(ours.some((f) => f.shown === 'Ya estaba registrado'));

  const events = await history(id);
  assert.equal(events.length, 3, 'exactly once each');
  assert.deepEqual(events.map((e) => e.status), ['PICKED_UP', 'IN_TRANSIT', 'OUT_FOR_DELIVERY']);
  assert.deepEqual(events.map((e) => e.event_id), ours.map((f) => f.eventId));
  assertClean(rec, ORIGIN, { allow: ['net::ERR_CONNECTION_RESET', 'net::ERR_FAILED'] });
});

test('a refused scan shows the field and rule in words; a late one says so; coordinates and notes go along', async (t) => {
  const { context, page, rec } = await openBrowser(t);
  const done = pkgId('DONE');
  const late = pkgId('LATE');
  // Another device already recorded a newer scan of LATE.
  const ahead = new Date(Date.now() + 4 * 60 * 1000).toISOString();
  assert.equal((await api('/tracking', { method: 'POST', body: { tracking_id: late, status: 'IN_TRANSIT', location: 'Cusco', timestamp: ahead } })).status, 201);

  await signIn(page, WRITER);
  await page.getByRole('heading', { name: 'Registrar escaneo' }).waitFor();
  // The delivery carries the phone's coordinates and a note.
  await context.grantPermissions(['geolocation'], { origin: ORIGIN });
  await context.setGeolocation({ latitude: -12.121853, longitude: -77.029837, accuracy: 12 });
  await page.getByLabel('Añadir las coordenadas del teléfono').check();
  await page.getByText('Posición lista (±12 m).').waitFor();
  await page.getByText('Añadir una nota (opcional)').click();
  await page.getByLabel('Nota', { exact: true }).fill('Recibió el portero');
  await scan(page, { id: done, status: 'Entregado', place: 'Miraflores' });
  await waitFates(page, done, 1, 'sent');
  const [delivered] = await history(done);
  assert.deepEqual([delivered.latitude, delivered.longitude, delivered.notes], [-12.121853, -77.029837, 'Recibió el portero']);
  await page.getByLabel('Añadir las coordenadas del teléfono').uncheck();
  await scan(page, { id: done, status: 'En tránsito' });
  await waitFates(page, done, 1, 'refused');
  const refused = page.locator('#scans > li[data-fate="refused"]').first();
  assert.equal(await refused.locator('.fate').textContent(), 'Rechazado');
  assert.equal(await refused.locator('.scan-problem').textContent(),
    'Estado: el paquete ya fue entregado o cancelado; no admite escaneos posteriores.');
  // Announced to screen readers as it happens.
  await page.waitForFunction(() => document.getElementById('alert-live').textContent.includes('Rechazado'));

  await scan(page, { id: late, status: 'Recogido' });
  await waitFates(page, late, 1, 'late');
  assert.equal(await page.locator('#scans > li[data-fate="late"] .fate').first().textContent(), 'Llegó tarde');
  assert.equal((await history(late)).length, 2);
  assert.equal((await history(done)).length, 1, 'the refused scan was not stored');
  await screenshot(page, 'staff-courier-phone.png', { readme: true });
  assertClean(rec, ORIGIN);
});

test('the dispatcher sees the needs-attention list, the chart matches the service, and a timeline opens', async (t) => {
  const { page, rec } = await openBrowser(t, { viewport: DESKTOP });
  const failed = pkgId('FAILED');
  const issue = pkgId('ISSUE');
  for (const [tid, status] of [[failed, 'DELIVERY_FAILED'], [issue, 'EXCEPTION']]) {
    const res = await api('/tracking/batch', { method: 'POST', body: { events: [
      { tracking_id: tid, status: 'OUT_FOR_DELIVERY', location: 'Lima', event_id: `${tid}-1`, timestamp: new Date(Date.now() - 60000).toISOString() },
      { tracking_id: tid, status, location: 'Surco', event_id: `${tid}-2`, notes: 'Nadie en casa' }] } });
    assert.deepEqual(res.body.results.map((r) => r.result), ['created', 'created']);
  }
  await page.clock.install();
  await signIn(page, READER, 'Despacho');
  await page.getByRole('heading', { name: 'Paquetes que requieren atención' }).waitFor();
  assert.equal(await page.locator('#modes').isVisible(), false, 'a reader key has no courier mode');
  await page.locator(`#packages li[data-tracking-id="${failed}"]`).waitFor();
  await page.locator(`#packages li[data-tracking-id="${issue}"]`).waitFor();

  // The chart's counts are the service's, status by status.
  const expected = {};
  let cursor = null;
  do {
    const res = await api(`/packages?limit=200${cursor ? `&cursor=${cursor}` : ''}`, { key: READER });
    for (const p of res.body.packages) expected[p.status] = (expected[p.status] ?? 0) + 1;
    cursor = res.body.next_cursor;
  } while (cursor);
  await page.locator('#chart svg').waitFor();
  const shown = await page.$$eval('#chart .bar', (bars) => Object.fromEntries(bars.map((b) => [b.dataset.status, Number(b.dataset.count)])));
  for (const [s, n] of Object.entries(shown)) assert.equal(n, expected[s] ?? 0, `chart count of ${s}`);
  assert.ok(shown.DELIVERY_FAILED >= 1 && shown.EXCEPTION >= 1);
  assert.equal(await page.textContent('#chart .bar[data-status="EXCEPTION"]'), `Incidencia${expected.EXCEPTION}`);
  assert.match(await page.textContent('#chart desc'), new RegExp(`Incidencia ${expected.EXCEPTION}`));
  await screenshot(page, 'staff-dispatcher-desktop.png', { readme: true });

  // A package opens its timeline, oldest scan last, with its note (a key sees the full view).
  await page.getByRole('button', { name: failed }).click();
  await page.getByRole('dialog').getByText('2 escaneos, el más reciente primero.').waitFor();
  assert.deepEqual(await page.$$eval('#timeline > li', (lis) => lis.map((li) => li.dataset.status)), ['DELIVERY_FAILED', 'OUT_FOR_DELIVERY']);
  await page.getByRole('dialog').getByText('Nota: Nadie en casa').waitFor();
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.getElementById('timeline-dialog').open);

  // Auto-refresh: a package that fails while the screen is open appears after 30 s.
  const later = pkgId('LATER');
  assert.equal((await api('/tracking', { method: 'POST', body: { tracking_id: later, status: 'EXCEPTION', location: 'Ica' } })).status, 201);
  assert.equal(await page.locator(`#packages li[data-tracking-id="${later}"]`).count(), 0);
  await page.clock.runFor(31_000);
  await page.locator(`#packages li[data-tracking-id="${later}"]`).waitFor();
  await page.waitForFunction((n) => Number(document.querySelector('#chart .bar[data-status="EXCEPTION"]').dataset.count) === n, expected.EXCEPTION + 1);
  assertClean(rec, ORIGIN);
});

test('the needs-attention list pages with its cursor and filters by staleness', async (t) => {
  const { page, rec } = await openBrowser(t);
  const ids = Array.from({ length: 55 }, (_, i) => pkgId(`PAGE${String(i).padStart(2, '0')}`));
  const res = await api('/tracking/batch', { method: 'POST', body: { events: ids.map((tid) => ({ tracking_id: tid, status: 'RETURN_TO_SENDER', location: 'Trujillo' })) } });
  assert.equal(res.status, 200);
  await signIn(page, READER, 'Despacho');
  await page.getByRole('heading', { name: 'Paquetes que requieren atención' }).waitFor();
  await page.locator('#packages > li').nth(49).waitFor();
  assert.equal(await page.locator('#packages > li').count(), 50, 'one page of 50');
  await page.locator('#chart svg').waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, 'staff-dispatcher-phone.png', { fullPage: false, readme: true });
  await page.getByRole('button', { name: 'Cargar más' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#packages > li').length > 50);
  const listed = await page.$$eval('#packages > li', (lis) => lis.map((li) => li.dataset.trackingId));
  assert.equal(new Set(listed).size, listed.length, 'no package twice across pages');
  for (const tid of ids) assert.ok(listed.includes(tid), `${tid} listed`);

  // Nothing of ours is a week old: that filter leaves them out. On a phone the filters are folded.
  assert.equal(await page.getByLabel('Sin cambios desde hace').isVisible(), false);
  await page.getByText('Filtros', { exact: true }).click();
  await page.getByLabel('Sin cambios desde hace').selectOption('168');
  await page.getByRole('button', { name: 'Aplicar' }).click();
  await page.waitForFunction((prefix) => !document.querySelector(`#packages li[data-tracking-id^="${prefix}"]`) && document.getElementById('list-text').textContent !== 'Cargando…', `PE-${RUN}-`);
  await screenshot(page, 'staff-dispatcher-phone-filtered.png');
  await page.getByLabel('Sin cambios desde hace').selectOption('');
  await page.getByRole('button', { name: 'Aplicar' }).click();
  await page.locator('#packages > li').first().waitFor();
  assertClean(rec, ORIGIN);
});

test('the app shell opens offline from the service worker and scans still queue', async (t) => {
  const { context, page, rec } = await openBrowser(t, { serviceWorkers: 'allow' });
  await signIn(page, WRITER);
  await page.getByRole('heading', { name: 'Registrar escaneo' }).waitFor();
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null || (location.reload(), false), null, { timeout: 15_000 }).catch(() => {});
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);

  await context.setOffline(true);
  await page.reload();
  await page.getByRole('heading', { name: 'Registrar escaneo' }).waitFor();
  await page.locator('#net[data-online="false"]').waitFor();
  const id = pkgId('SHELL');
  await scan(page, { id, status: 'En tránsito', place: 'Piura' });
  assert.deepEqual((await fates(page, id)).map((f) => f.fate), ['queued']);
  await context.setOffline(false);
  await waitFates(page, id, 1, 'sent');
  assert.equal((await history(id)).length, 1);
  // The worker never stored an API answer.
  const cached = await page.evaluate(async () => (await (await caches.open('dinex-staff-shell')).keys()).map((r) => new URL(r.url).pathname));
  assert.ok(cached.every((p) => p.startsWith('/staff/')), `cached: ${cached}`);
  assertClean(rec, ORIGIN, { allow: ['net::ERR_INTERNET_DISCONNECTED'] });
});

test('English is one click away and remembered; the keyboard reaches every control', async (t) => {
  const { page, rec } = await openBrowser(t);
  await signIn(page, WRITER);
  await page.getByRole('heading', { name: 'Registrar escaneo' }).waitFor();
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('heading', { name: 'Record a scan' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.reload();
  await page.getByRole('heading', { name: 'Record a scan' }).waitFor();
  await page.getByRole('radio', { name: 'Out for delivery' }).waitFor();

  // A scan with the keyboard alone: type, Tab to the statuses, arrows to pick, Enter saves.
  const id = pkgId('KEYS');
  await page.getByLabel('Tracking number').focus();
  await page.keyboard.type(id);
  // Past the camera button where the browser reads barcodes, to the first status.
  for (let i = 0; i < 2 && await page.evaluate(() => document.activeElement.name !== 'status'); i += 1) await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.value), 'INFO_RECEIVED');
  await page.keyboard.press('Space');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.evaluate(() => document.activeElement.value), 'PICKED_UP');
  await page.getByLabel('Place', { exact: true }).fill('Tacna');
  await page.getByLabel('Place', { exact: true }).press('Enter');
  await waitFates(page, id, 1, 'sent');
  assert.equal(await page.locator('#scans > li .fate').first().textContent(), 'Recorded');
  await page.getByRole('button', { name: 'Español' }).click();
  await page.getByRole('heading', { name: 'Registrar escaneo' }).waitFor();
  await page.setViewportSize(DESKTOP);
  await page.getByRole('radio', { name: 'En reparto' }).check();
  await screenshot(page, 'staff-courier-desktop.png', { readme: true });
  assertClean(rec, ORIGIN);
});

test('axe-core finds no serious or critical violations in either mode', async (t) => {
  // CSP is bypassed in this test only, so axe can be injected as a script tag.
  const { page } = await openBrowser(t, { bypassCSP: true });
  await page.goto(url('/staff/'));
  await page.getByRole('heading', { name: 'Entrar' }).waitFor();
  await axe(page, 'sign-in');
  await page.getByLabel('Clave de API').fill(WRITER);
  await page.getByRole('button', { name: 'Entrar' }).click();
  await page.getByRole('heading', { name: 'Registrar escaneo' }).waitFor();
  const id = pkgId('AXE');
  await scan(page, { id, status: 'Entregado', place: 'Lima' });
  await scan(page, { id, status: 'Recogido' });
  await waitFates(page, id, 1, 'refused');
  await axe(page, 'courier');
  await page.getByRole('link', { name: 'Atención' }).click();
  await page.locator('#chart svg').waitFor();
  await page.locator('#packages > li').first().waitFor();
  await axe(page, 'dispatcher');
  await page.locator('#packages .pkg-open').first().click();
  await page.locator('#timeline > li').first().waitFor();
  await axe(page, 'timeline');
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'English' }).click();
  await axe(page, 'dispatcher (en)');
});
