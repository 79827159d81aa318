// DINEX staff app: couriers record scans (offline first), dispatchers see what needs attention.
// Plain ES modules: no framework, no build step, no eval, no inline styles; every piece of
// server or user data is written with textContent.
import { STATUSES, TONE, TEXT, fill, reasonWords } from './text.js';
import { ScanQueue, Sender } from './queue.js';

const ID_RE = /^[A-Z0-9][A-Z0-9_-]{2,39}$/;
const KEY_RE = /^[\x21-\x7e]{8,256}$/;
const LANG_KEY = 'dinex.lang';              // shared with the tracking page
const AUTH_KEY = 'dinex.staff.auth';        // {key, role}: on this device only
const LOCATION_KEY = 'dinex.staff.location';
const GPS_KEY = 'dinex.staff.gps';
const FILTER_KEY = 'dinex.staff.filters';
const REFRESH_MS = 30000;
const CHART_PAGES = 25;                     // 25 pages of 200: the chart counts up to 5000 packages
const SHOWN_SCANS = 50;
const SVG_NS = 'http://www.w3.org/2000/svg';

const $ = (id) => document.getElementById(id);
const store = {
  get(k) { try { return localStorage.getItem(k); } catch { return null; } },
  set(k, v) { try { localStorage.setItem(k, v); } catch { /* not remembered, still works */ } },
  del(k) { try { localStorage.removeItem(k); } catch { /* nothing stored */ } },
};

const state = {
  lang: initialLang(),
  auth: readAuth(),
  mode: 'courier',
  queue: null,
  sender: null,
  syncState: { phase: 'idle', pending: 0, sending: [] },
  status: '',
  position: null,
  watchId: null,
  camera: null,
  list: { packages: [], cursor: null, loading: false },
  refreshTimer: 0,
  channel: 'BroadcastChannel' in window ? new BroadcastChannel('dinex-staff') : null,
};

function initialLang() {
  const saved = store.get(LANG_KEY);
  if (saved === 'es' || saved === 'en') return saved;
  return 'es';
}
function readAuth() {
  try {
    const a = JSON.parse(store.get(AUTH_KEY) ?? 'null');
    return a && typeof a.key === 'string' && ['writer', 'reader', 'unknown'].includes(a.role) ? a : null;
  } catch { return null; }
}
const tx = () => TEXT[state.lang];
// crypto.randomUUID exists only in secure contexts (https, localhost); a phone reaching the server
// over plain http on a LAN still gets a random v4 UUID from getRandomValues.
function newEventId() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
const locale = () => (state.lang === 'es' ? 'es-PE' : 'en');
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};
function say(text, { urgent = false } = {}) {
  const live = urgent ? $('alert-live') : $('live');
  live.textContent = '';
  // A fresh node each time so screen readers announce a repeated message too.
  setTimeout(() => { live.textContent = text; }, 30);
}
const timeOf = (ms) => new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(ms);
const dateTimeOf = (ms) => new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(ms);
function relative(ms) {
  const r = tx().rel;
  const s = Math.max(0, (Date.now() - ms) / 1000);
  if (s < 60) return r.now;
  if (s < 3600) return fill(r.m, { n: Math.floor(s / 60) });
  if (s < 86400 * 2) return fill(r.h, { n: Math.floor(s / 3600) });
  return fill(r.d, { n: Math.floor(s / 86400) });
}

// ---------------------------------------------------------------- text, language, network

function applyText() {
  const t = tx();
  document.documentElement.lang = state.lang;
  document.title = t.title;
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t[e.dataset.i18n];
  for (const e of document.querySelectorAll('[data-i18n-aria]')) e.setAttribute('aria-label', t[e.dataset.i18nAria]);
  const toggle = $('lang-toggle');
  toggle.textContent = t.langOther;
  toggle.lang = t.langOtherCode;
  renderNet();
  renderStatusButtons();
  renderFilterStatuses();
  renderSync();
  renderScans();
  renderPackages();
  renderChart();
}

function renderNet() {
  const online = navigator.onLine;
  $('net').dataset.online = String(online);
  $('net-text').textContent = online ? tx().online : tx().offline;
}

$('lang-toggle').addEventListener('click', () => {
  state.lang = state.lang === 'es' ? 'en' : 'es';
  store.set(LANG_KEY, state.lang);
  applyText();
});

window.addEventListener('online', () => { renderNet(); state.sender?.kick({ fresh: true }); if (state.mode === 'dispatcher') refreshDispatcher(); });
window.addEventListener('offline', () => { renderNet(); state.sender?.kick(); });
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible') return;
  state.sender?.kick();
  if (state.mode === 'dispatcher') refreshDispatcher();
});

// ---------------------------------------------------------------- screens and sign-in

function show(screen) {
  document.body.dataset.screen = screen;
  $('sign-out').hidden = screen === 'signin';
  const both = state.auth && state.auth.role !== 'reader';
  $('modes').hidden = screen === 'signin' || !both;
  for (const m of ['courier', 'dispatcher']) {
    const link = $(`mode-${m}`);
    if (m === screen) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
}

async function route() {
  if (!state.auth) {
    stopCourier();
    stopDispatcher();
    show('signin');
    return;
  }
  const want = location.hash === '#dispatcher' || state.auth.role === 'reader' ? 'dispatcher' : 'courier';
  state.mode = want;
  show(want);
  if (want === 'courier') { stopDispatcher(); await startCourier(); } else { await startDispatcher(); }
}
window.addEventListener('hashchange', () => { route(); $('main').focus(); });

$('show-key').addEventListener('change', (e) => { $('api-key').type = e.target.checked ? 'text' : 'password'; });

// Checks the key for the chosen mode without storing anything. Courier: a batch whose only item
// is empty is refused item by item (200, nothing stored) for a writer key, 403 for a read-only one.
// Dispatch: one package of the listing, which any valid key may read. 401: an unknown key.
async function checkKey(key, as) {
  const headers = { Accept: 'application/json', Authorization: `Bearer ${key}` };
  const res = as === 'courier'
    ? await fetch('/tracking/batch', { method: 'POST', cache: 'no-store', credentials: 'omit', headers: { ...headers, 'Content-Type': 'application/json' }, body: '{"events":[{}]}' })
    : await fetch('/packages?limit=1', { cache: 'no-store', credentials: 'omit', headers });
  if (res.status === 200) return as === 'courier' ? 'writer' : 'reader';
  if (res.status === 401) return 'refused';
  if (res.status === 403) return 'read-only';
  throw Object.assign(new Error('unexpected answer'), { status: res.status });
}

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const t = tx();
  const input = $('api-key');
  const key = input.value.trim();
  const error = $('key-error');
  const fail = (msg) => {
    error.textContent = msg;
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  };
  if (!key) return fail(t.keyEmpty);
  if (!KEY_RE.test(key)) return fail(t.keyMalformed);
  const button = $('signin-submit');
  button.disabled = true;
  button.textContent = t.signinChecking;
  const as = document.querySelector('input[name="as"]:checked')?.value ?? 'courier';
  let role;
  try {
    role = navigator.onLine ? await checkKey(key, as) : (as === 'courier' ? 'unknown' : 'reader');
  } catch (err) {
    role = err.status ? null : 'unknown';
    if (!role) { button.disabled = false; button.textContent = t.signinSubmit; return fail(fill(t.keyFailed, { status: err.status })); }
  }
  button.disabled = false;
  button.textContent = t.signinSubmit;
  if (role === 'refused') return fail(t.keyRefused);
  if (role === 'read-only') return fail(t.keyReadOnly);
  error.hidden = true;
  input.removeAttribute('aria-invalid');
  input.value = '';
  state.auth = { key, role };
  store.set(AUTH_KEY, JSON.stringify(state.auth));
  say(role === 'unknown' ? `${t.signedIn} ${t.keyUnchecked}` : t.signedIn);
  history.replaceState(null, '', as === 'dispatcher' ? '#dispatcher' : location.pathname);
  await route();
  $('main').focus();
});

$('sign-out').addEventListener('click', async () => {
  const pending = state.queue ? await state.queue.countQueued() : 0;
  if (pending === 0) return signOut(false);
  $('signout-text').textContent = fill(tx().signOutPending, { n: pending });
  $('signout-dialog').showModal();
});
$('signout-keep').addEventListener('click', () => { $('signout-dialog').close(); signOut(false); });
$('signout-drop').addEventListener('click', () => { $('signout-dialog').close(); signOut(true); });
$('signout-cancel').addEventListener('click', () => $('signout-dialog').close());

async function signOut(dropQueued) {
  state.sender?.stop();
  state.sender = null;
  if (dropQueued && state.queue) await state.queue.dropQueued();
  state.auth = null;
  store.del(AUTH_KEY);
  state.channel?.postMessage({ type: 'signed-out' });
  history.replaceState(null, '', location.pathname);
  await route();
  say(tx().signedOut);
  $('api-key').focus();
}

// ---------------------------------------------------------------- courier: the scan form

function renderStatusButtons() {
  const box = $('status-buttons');
  box.replaceChildren();
  for (const s of STATUSES) {
    const label = el('label', 'status-btn');
    label.dataset.tone = TONE[s];
    const input = el('input');
    input.type = 'radio';
    input.name = 'status';
    input.value = s;
    input.checked = state.status === s;
    input.addEventListener('change', () => { state.status = s; $('status-error').hidden = true; });
    label.append(input, el('span', null, tx().status[s]));
    box.append(label);
  }
}

function fieldError(id, input, msg) {
  const p = $(id);
  p.textContent = msg;
  p.hidden = !msg;
  if (input) { if (msg) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid'); }
}

$('tracking-id').addEventListener('input', () => fieldError('tracking-error', $('tracking-id'), ''));
$('location').addEventListener('input', () => fieldError('location-error', $('location'), ''));

$('scan-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const t = tx();
  const idInput = $('tracking-id');
  const id = idInput.value.trim().toUpperCase();
  const where = $('location').value.trim();
  let first = null;
  if (!id) { fieldError('tracking-error', idInput, t.idEmpty); first ??= idInput; }
  else if (!ID_RE.test(id)) { fieldError('tracking-error', idInput, t.idInvalid); first ??= idInput; }
  if (!state.status) { fieldError('status-error', null, t.statusEmpty); first ??= document.querySelector('#status-buttons input'); }
  if (!where) { fieldError('location-error', $('location'), t.locationEmpty); first ??= $('location'); }
  if (first) { first.focus(); return; }

  const body = { tracking_id: id, status: state.status, location: where, event_id: newEventId(), timestamp: new Date().toISOString() };
  const notes = $('notes').value.trim();
  if (notes) body.notes = notes;
  if ($('use-gps').checked && state.position && Date.now() - state.position.at < 120000) {
    body.latitude = Number(state.position.latitude.toFixed(6));
    body.longitude = Number(state.position.longitude.toFixed(6));
  }
  const button = $('save-scan');
  button.disabled = true;  // one tap, one scan
  try {
    await state.queue.add(body);
  } catch (err) {
    say(fill(t.saveFailed, { why: err?.name ?? String(err) }), { urgent: true });
    return;
  } finally {
    button.disabled = false;
  }
  store.set(LOCATION_KEY, where);
  say(fill(t.saved, { id, status: t.status[body.status] }));
  idInput.value = '';
  $('notes').value = '';
  $('notes-box').open = false;
  state.status = '';
  for (const r of document.querySelectorAll('#status-buttons input')) r.checked = false;
  await renderScans();
  state.channel?.postMessage({ type: 'changed' });
  state.sender?.kick();
  idInput.focus();
});

// Coordinates: watched while the courier allows it, so saving a scan never waits for a fix.
$('use-gps').addEventListener('change', (e) => {
  store.set(GPS_KEY, e.target.checked ? '1' : '0');
  if (e.target.checked) startGps(); else stopGps();
});
function startGps() {
  const text = $('gps-text');
  if (!('geolocation' in navigator)) { text.textContent = tx().gpsNone; return; }
  text.textContent = tx().gpsWaiting;
  state.watchId = navigator.geolocation.watchPosition(
    (p) => {
      state.position = { latitude: p.coords.latitude, longitude: p.coords.longitude, at: Date.now() };
      text.textContent = fill(tx().gpsReady, { m: Math.round(p.coords.accuracy) });
    },
    (err) => {
      state.position = null;
      text.textContent = err.code === err.PERMISSION_DENIED ? tx().gpsDenied : tx().gpsUnavailable;
    },
    { enableHighAccuracy: true, maximumAge: 60000, timeout: 20000 });
}
function stopGps() {
  if (state.watchId !== null) navigator.geolocation.clearWatch(state.watchId);
  state.watchId = null;
  state.position = null;
  $('gps-text').textContent = '';
}

// Camera: only where the browser can read barcodes itself; typing always works.
const canScan = 'BarcodeDetector' in window && Boolean(navigator.mediaDevices?.getUserMedia);
$('camera-btn').hidden = true;
if (canScan) {
  window.BarcodeDetector.getSupportedFormats()
    .then((formats) => { $('camera-btn').hidden = formats.length === 0; })
    .catch(() => { /* no detector after all: typing only */ });
}
$('camera-btn').addEventListener('click', startCamera);
$('camera-stop').addEventListener('click', () => { stopCamera(); $('tracking-id').focus(); });

async function startCamera() {
  const t = tx();
  try {
    const detector = new window.BarcodeDetector({ formats: await window.BarcodeDetector.getSupportedFormats() });
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    const video = $('camera-video');
    video.srcObject = stream;
    $('camera').hidden = false;
    $('camera-text').textContent = t.cameraAim;
    await video.play();
    state.camera = { stream, timer: 0 };
    const look = async () => {
      if (!state.camera) return;
      try {
        const codes = await detector.detect(video);
        const code = codes.map((c) => c.rawValue.trim().toUpperCase()).find((v) => ID_RE.test(v));
        if (code) {
          $('tracking-id').value = code;
          fieldError('tracking-error', $('tracking-id'), '');
          stopCamera();
          navigator.vibrate?.(60);
          say(fill(tx().cameraRead, { id: code }));
          (document.querySelector('#status-buttons input:checked') ?? document.querySelector('#status-buttons input')).focus();
          return;
        }
      } catch { /* a frame that could not be read; try the next one */ }
      state.camera.timer = setTimeout(look, 200);
    };
    look();
  } catch (err) {
    stopCamera();
    fieldError('tracking-error', $('tracking-id'), err?.name === 'NotAllowedError' ? t.cameraDenied : t.cameraFailed);
  }
}
function stopCamera() {
  if (state.camera) {
    clearTimeout(state.camera.timer);
    for (const track of state.camera.stream.getTracks()) track.stop();
  }
  state.camera = null;
  $('camera-video').srcObject = null;
  $('camera').hidden = true;
}

// ---------------------------------------------------------------- courier: the queue and its fates

async function startCourier() {
  state.queue ??= await ScanQueue.open();
  $('location').value ||= store.get(LOCATION_KEY) ?? '';
  const gps = store.get(GPS_KEY) === '1';
  $('use-gps').checked = gps;
  if (gps && state.watchId === null) startGps();
  if (!state.sender && state.auth) {
    state.sender = new Sender({
      queue: state.queue,
      key: state.auth.key,
      onState: (s) => { state.syncState = s; renderSync(); renderScans(); },
      onAnswered: (changed) => {
        for (const rec of changed) announceFate(rec);
        if (changed.length) state.channel?.postMessage({ type: 'changed' });
        if (state.auth?.role === 'unknown' && changed.length) {
          state.auth = { ...state.auth, role: 'writer' };  // the service took a write: a writer key
          store.set(AUTH_KEY, JSON.stringify(state.auth));
          show(state.mode);
        }
        state.queue.prune().then(renderScans);
      },
    });
  }
  await renderScans();
  state.sender?.kick();
}
function stopCourier() {
  stopCamera();
  stopGps();
  state.sender?.stop();
  state.sender = null;
}

function announceFate(rec) {
  const t = tx();
  let text = fill(t.fateLive, { id: rec.body.tracking_id, fate: t.fate[rec.fate] });
  if (rec.fate === 'refused') text += ` ${problemWords(rec.problem)}`;
  say(text, { urgent: rec.fate === 'refused' });
}

function problemWords(problem) {
  const t = tx();
  if (problem?.details?.length) return problem.details.map((d) => reasonWords(t, d)).join(' ');
  return fill(t.refusedGeneric, { status: problem?.status ?? '?', error: problem?.error ?? '' });
}

function renderSync() {
  const t = tx();
  const s = state.syncState;
  const text = $('sync-text');
  const n = s.pending;
  text.dataset.phase = s.phase;
  if (s.phase === 'sending') text.textContent = fill(t.syncSending, { n: s.sending.length });
  else if (s.phase === 'offline') text.textContent = fill(t.syncOffline, { n });
  else if (s.phase === 'auth') text.textContent = t.syncAuth;
  else if (s.phase === 'forbidden') text.textContent = t.syncForbidden;
  else if (s.phase === 'waiting') {
    const why = s.why?.kind === 'status' ? fill(t.whyStatus, { status: s.why.status }) : t.whyNetwork;
    text.textContent = `${fill(t.syncPending, { n })} ${fill(t.syncRetry, { why, s: Math.max(1, Math.round((s.retryAt - Date.now()) / 1000)) })}`;
  } else text.textContent = n ? fill(t.syncPending, { n }) : t.syncIdle;
}

// One read of the database at a time; a change that arrives meanwhile asks for one more.
let scansRender = null;
let scansDirty = false;
async function renderScans() {
  if (!state.queue) return;
  if (scansRender) { scansDirty = true; return scansRender; }
  scansRender = (async () => {
    do {
      scansDirty = false;
      await drawScans(await state.queue.recent(SHOWN_SCANS));
    } while (scansDirty);
  })();
  try { await scansRender; } finally { scansRender = null; }
}

function drawScans(recs) {
  const t = tx();
  const list = $('scans');
  const sending = new Set(state.syncState.sending);
  list.replaceChildren(...recs.map((rec) => {
    const fate = rec.fate === 'queued' && sending.has(rec.seq) ? 'sending' : rec.fate;
    const li = el('li', 'scan');
    li.dataset.fate = fate;
    li.dataset.eventId = rec.event_id;
    const head = el('div', 'scan-head');
    head.append(el('strong', 'scan-id', rec.body.tracking_id), el('span', 'fate', t.fate[fate]));
    const what = el('p', 'scan-what', `${t.status[rec.body.status] ?? rec.body.status} · ${rec.body.location}`);
    const time = el('time', 'scan-time', dateTimeOf(Date.parse(rec.body.timestamp)));
    time.dateTime = rec.body.timestamp;
    li.append(head, what, time);
    if (rec.body.notes) li.append(el('p', 'scan-notes', `${t.note} ${rec.body.notes}`));
    if (fate === 'refused') li.append(el('p', 'scan-problem', problemWords(rec.problem)));
    else if (t.fateAbout[fate]) li.append(el('p', 'scan-about', t.fateAbout[fate]));
    return li;
  }));
  $('scans-empty').hidden = recs.length > 0;
}

$('sync-now').addEventListener('click', () => state.sender?.kick({ fresh: true }));
setInterval(() => { if (state.syncState.phase === 'waiting') renderSync(); }, 1000);

state.channel?.addEventListener('message', (m) => {
  if (m.data?.type === 'changed') { renderScans(); if (state.mode === 'dispatcher') refreshDispatcher(); }
  if (m.data?.type === 'signed-out') { state.auth = null; route(); }
});

// ---------------------------------------------------------------- dispatcher

function readFilters() {
  try {
    const f = JSON.parse(store.get(FILTER_KEY) ?? 'null');
    if (f && Array.isArray(f.statuses)) return { statuses: f.statuses.filter((s) => STATUSES.includes(s)), stale: String(f.stale ?? '') };
  } catch { /* defaults */ }
  return { statuses: ['EXCEPTION', 'DELIVERY_FAILED', 'RETURN_TO_SENDER'], stale: '' };
}
state.filters = readFilters();

function renderFilterStatuses() {
  const box = $('filter-statuses');
  box.replaceChildren();
  for (const s of STATUSES) {
    const label = el('label', 'check filter-status');
    label.dataset.tone = TONE[s];
    const input = el('input');
    input.type = 'checkbox';
    input.value = s;
    input.checked = state.filters.statuses.includes(s);
    label.append(input, el('span', null, tx().status[s]));
    box.append(label);
  }
  $('stale').value = state.filters.stale;
  const t = tx();
  const parts = [state.filters.statuses.length ? state.filters.statuses.map((st) => t.status[st]).join(', ') : t.anyStatus];
  if (state.filters.stale) parts.push($('stale').selectedOptions[0].textContent);
  $('filters-summary').textContent = parts.join(' · ');
}
// Open beside the list on a wide screen; on a phone the list comes first.
$('filters-box').open = window.matchMedia('(min-width: 1000px)').matches;

$('filters').addEventListener('submit', (e) => {
  e.preventDefault();
  state.filters = {
    statuses: [...document.querySelectorAll('#filter-statuses input:checked')].map((i) => i.value),
    stale: $('stale').value,
  };
  store.set(FILTER_KEY, JSON.stringify(state.filters));
  renderFilterStatuses();
  refreshList({ announce: true });
});
$('refresh').addEventListener('click', () => refreshDispatcher({ announce: true }));
$('more').addEventListener('click', () => loadPage({ append: true, announce: true }));
$('auto-refresh').addEventListener('change', scheduleRefresh);

async function api(path) {
  const res = await fetch(path, {
    cache: 'no-store', credentials: 'omit',
    headers: { Accept: 'application/json', Authorization: `Bearer ${state.auth.key}` },
  });
  if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status });
  return res.json();
}
function whyOf(err) {
  if (err?.status === 401) return tx().whyKey;
  return err?.status ? fill(tx().whyStatus, { status: err.status }) : tx().whyNetwork;
}

function listQuery(cursor) {
  const q = new URLSearchParams();
  if (state.filters.statuses.length) q.set('status', state.filters.statuses.join(','));
  if (state.filters.stale) q.set('stale_hours', state.filters.stale);
  q.set('limit', '50');
  if (cursor) q.set('cursor', cursor);
  return `/packages?${q}`;
}

async function loadPage({ append, announce = false }) {
  const t = tx();
  const L = state.list;
  if (L.loading) return;
  if (!state.filters.statuses.length && !state.filters.stale) {
    L.packages = [];
    L.cursor = null;
    L.message = t.noStatus;
    renderPackages();
    return;
  }
  L.loading = true;
  $('list-text').textContent = t.listLoading;
  try {
    const page = await api(listQuery(append ? L.cursor : null));
    L.packages = append ? L.packages.concat(page.packages) : page.packages;
    L.cursor = page.next_cursor;
    L.at = Date.now();
    L.message = null;
  } catch (err) {
    L.message = fill(t.listFailed, { why: whyOf(err) });
  } finally {
    L.loading = false;
  }
  renderPackages();
  if (announce) say($('list-text').textContent);
}
const refreshList = (opts) => loadPage({ append: false, ...opts });

function renderPackages() {
  const t = tx();
  const L = state.list;
  const ul = $('packages');
  ul.replaceChildren(...L.packages.map((p) => {
    const li = el('li', 'pkg');
    li.dataset.tone = TONE[p.status] ?? 'neutral';
    li.dataset.trackingId = p.tracking_id;
    const btn = el('button', 'pkg-open');
    btn.type = 'button';
    btn.addEventListener('click', () => openTimeline(p.tracking_id, btn));
    const top = el('span', 'pkg-top');
    top.append(el('strong', 'pkg-id', p.tracking_id), el('span', 'badge', t.status[p.status] ?? p.status));
    const updated = Date.parse(p.updated_at);
    const meta = el('span', 'pkg-meta', `${p.location} · ${fill(t.updated, { rel: relative(updated) })} · ${fill(t.events, { n: p.event_count })}`);
    btn.append(top, meta);
    li.append(btn);
    return li;
  }));
  $('more').hidden = !L.cursor;
  let text;
  if (L.message) text = L.message;
  else if (L.at) text = L.packages.length ? fill(t.listCount, { n: L.packages.length, more: L.cursor ? t.listMore : '', time: timeOf(L.at) }) : t.listEmpty;
  else text = '';
  if (!L.loading) $('list-text').textContent = text;
}

// Counts per status over every live package, by paging the unfiltered listing.
async function loadChart() {
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  let cursor = null;
  let total = 0;
  let pages = 0;
  do {
    const q = new URLSearchParams({ limit: '200' });
    if (cursor) q.set('cursor', cursor);
    const page = await api(`/packages?${q}`);
    for (const p of page.packages) { if (p.status in counts) counts[p.status] += 1; total += 1; }
    cursor = page.next_cursor;
    pages += 1;
  } while (cursor && pages < CHART_PAGES);
  state.chart = { counts, total, capped: Boolean(cursor), at: Date.now() };
  renderChart();
}

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

// A bar per status, drawn here (no library), at the box's real width so the text keeps its size
// on a phone: the status and its count on one line, the bar under them. Each row is a link that
// filters the list to that status.
function renderChart() {
  const box = $('chart');
  const c = state.chart;
  if (!c) { box.replaceChildren(); $('chart-note').textContent = ''; return; }
  const t = tx();
  const W = Math.max(240, Math.round(box.clientWidth || 320));
  const ROW = 46, BAR = 14, TOP = 18;
  const H = STATUSES.length * ROW;
  const max = Math.max(1, ...Object.values(c.counts));
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'chart-svg', role: 'group', 'aria-labelledby': 'chart-title chart-desc' });
  root.append(svg('desc', { id: 'chart-desc' }, fill(t.chartDesc, { list: STATUSES.map((s) => `${t.status[s]} ${c.counts[s]}`).join(', ') })));
  STATUSES.forEach((s, i) => {
    const y = i * ROW;
    const n = c.counts[s];
    const width = n ? Math.max(4, Math.round((W * n) / max)) : 0;
    const a = svg('a', { href: '#dispatcher', class: 'bar', 'data-tone': TONE[s], 'data-status': s, 'data-count': n });
    a.append(
      svg('rect', { class: 'bar-hit', x: 0, y, width: W, height: ROW - 4 }),
      svg('text', { class: 'bar-label', x: 0, y: y + 14 }, t.status[s]),
      svg('text', { class: 'bar-count', x: W, y: y + 14, 'text-anchor': 'end' }, String(n)),
      svg('rect', { class: 'bar-track', x: 0, y: y + TOP + 4, width: W, height: BAR, rx: 4 }),
      svg('rect', { class: 'bar-fill', x: 0, y: y + TOP + 4, width, height: BAR, rx: 4 }));
    a.addEventListener('click', (e) => {
      e.preventDefault();
      state.filters = { statuses: [s], stale: '' };
      store.set(FILTER_KEY, JSON.stringify(state.filters));
      renderFilterStatuses();
      refreshList({ announce: true });
    });
    root.append(a);
  });
  box.replaceChildren(root);
  $('chart-note').textContent = fill(c.capped ? t.chartCapped : t.chartNote, { n: c.total, time: timeOf(c.at) });
}
if ('ResizeObserver' in window) {
  let lastWidth = 0;
  new ResizeObserver(([entry]) => {
    const w = Math.round(entry.contentRect.width);
    if (w && w !== lastWidth) { lastWidth = w; renderChart(); }
  }).observe($('chart'));
}

async function refreshDispatcher({ announce = false } = {}) {
  if (!state.auth || state.mode !== 'dispatcher') return;
  await Promise.all([
    refreshList({ announce }),
    loadChart().catch((err) => { $('chart-note').textContent = fill(tx().listFailed, { why: whyOf(err) }); }),
  ]);
  scheduleRefresh();
}
function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  if ($('auto-refresh').checked && state.mode === 'dispatcher') {
    state.refreshTimer = setTimeout(() => { if (document.visibilityState === 'visible') refreshDispatcher(); else scheduleRefresh(); }, REFRESH_MS);
  }
}
async function startDispatcher() {
  renderFilterStatuses();
  await refreshDispatcher();
}
function stopDispatcher() { clearTimeout(state.refreshTimer); }

async function openTimeline(id, opener) {
  const t = tx();
  const dialog = $('timeline-dialog');
  $('timeline-title').textContent = fill(t.timelineTitle, { id });
  $('timeline-text').textContent = t.timelineLoading;
  $('timeline').replaceChildren();
  dialog.returnFocus = opener;
  dialog.showModal();
  try {
    const pkg = await api(`/tracking?tracking_id=${encodeURIComponent(id)}`);
    $('timeline').replaceChildren(...pkg.events.map((ev) => {
      const li = el('li', 'tl-item');
      li.dataset.tone = TONE[ev.status] ?? 'neutral';
      li.dataset.status = ev.status;
      const time = el('time', 'tl-time', dateTimeOf(Date.parse(ev.timestamp)));
      time.dateTime = ev.timestamp;
      li.append(el('strong', 'tl-status', t.status[ev.status] ?? ev.status), el('span', 'tl-where', ev.location), time);
      if (ev.notes) li.append(el('p', 'tl-notes', `${t.note} ${ev.notes}`));
      return li;
    }));
    $('timeline-text').textContent = fill(t.timelineCount, { n: pkg.events.length });
  } catch (err) {
    $('timeline-text').textContent = fill(t.timelineFailed, { why: whyOf(err) });
  }
}
$('timeline-close').addEventListener('click', () => $('timeline-dialog').close());
$('timeline-dialog').addEventListener('close', () => $('timeline-dialog').returnFocus?.focus());

// ---------------------------------------------------------------- start

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/staff/sw.js', { scope: '/staff/' }).catch(() => { /* works online without it */ });
}
applyText();
route();
