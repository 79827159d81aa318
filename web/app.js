// DINEX customer tracking page. Plain ES module: no framework, no build step, no eval,
// no inline styles; every piece of server data is written with textContent.

const ID_RE = /^[A-Z0-9][A-Z0-9_-]{2,39}$/;
const LANG_KEY = 'dinex.lang';
const TIMEOUT_MS = 15000;
const SVG_NS = 'http://www.w3.org/2000/svg';
const MAIN_STAGES = ['INFO_RECEIVED', 'PICKED_UP', 'IN_TRANSIT', 'OUT_FOR_DELIVERY', 'DELIVERED'];

// status: [tone, icon]
const LOOK = {
  INFO_RECEIVED: ['neutral', 'box'], PICKED_UP: ['info', 'box'], IN_TRANSIT: ['info', 'truck'],
  OUT_FOR_DELIVERY: ['info', 'truck'], AVAILABLE_FOR_PICKUP: ['info', 'store'], DELIVERY_FAILED: ['warning', 'alert'],
  DELIVERED: ['success', 'check'], EXCEPTION: ['danger', 'alert'], RETURN_TO_SENDER: ['warning', 'return'], CANCELLED: ['muted', 'x'],
};

const TEXT = {
  es: {
    title: 'Seguimiento de envíos · DINEX',
    skip: 'Saltar al contenido',
    tagline: 'Seguimiento',
    langGroup: 'Idioma',
    h1: 'Rastrea tu envío',
    lead: 'Ingresa tu número de seguimiento para ver dónde está tu paquete y cuándo llegará.',
    label: 'Número de seguimiento',
    placeholder: 'Ej. TRK001',
    hint: 'Lo encuentras en tu correo de confirmación o en la etiqueta del paquete.',
    submit: 'Rastrear',
    footer: 'DINEX · Envíos en Perú y Chile',
    empty: 'Ingresa un número de seguimiento.',
    invalid: 'Número no válido. Usa de 3 a 40 letras, números, guiones (-) o guiones bajos (_), empezando por una letra o un número.',
    loading: 'Buscando el envío {id}…',
    shipment: 'Envío {id}',
    lastLocation: 'Última ubicación',
    lastUpdate: 'Última actualización',
    deliveredAt: 'Fecha de entrega',
    eta: 'Entrega estimada',
    notes: 'Notas',
    note: 'Nota:',
    progress: 'Progreso del envío',
    history: 'Historial del envío',
    tz: 'Horas en tu zona horaria ({tz}).',
    noEvents: 'Todavía no hay movimientos registrados.',
    stepState: { done: 'completado', current: 'etapa actual', issue: 'con incidencia', todo: 'pendiente', skipped: 'no se realizará' },
    nfTitle: 'No encontramos el envío {id}',
    nfText: 'Revisa que el número esté bien escrito. Si el envío es reciente, puede tardar unas horas en aparecer.',
    errTitle: 'No pudimos consultar tu envío',
    errText: 'Hubo un problema de conexión o del servicio. Inténtalo de nuevo en unos momentos.',
    busyText: 'Estamos recibiendo muchas consultas. Espera un momento e inténtalo de nuevo.',
    retry: 'Reintentar',
    other: 'Buscar otro número',
    ref: 'Código de referencia: {ref}',
    liveResult: 'Envío {id}: {status}.',
    liveWhere: ' Última ubicación: {loc}.',
    steps: ['Recibido', 'Recogido', 'En tránsito', 'En reparto', 'Entregado'],
    status: {
      INFO_RECEIVED: 'Información recibida', PICKED_UP: 'Recogido', IN_TRANSIT: 'En tránsito',
      OUT_FOR_DELIVERY: 'En reparto', AVAILABLE_FOR_PICKUP: 'Disponible para retiro',
      DELIVERY_FAILED: 'Entrega fallida', DELIVERED: 'Entregado', EXCEPTION: 'Incidencia en el envío',
      RETURN_TO_SENDER: 'En devolución al remitente', CANCELLED: 'Cancelado',
    },
    about: {
      INFO_RECEIVED: 'El remitente registró tu envío. Pronto lo recogeremos.',
      PICKED_UP: 'Recogimos tu paquete y lo preparamos para su traslado.',
      IN_TRANSIT: 'Tu paquete va en camino hacia su destino.',
      OUT_FOR_DELIVERY: 'Tu paquete salió a reparto y llegará pronto.',
      AVAILABLE_FOR_PICKUP: 'Tu paquete te espera en el punto de retiro.',
      DELIVERY_FAILED: 'No pudimos entregar tu paquete. Haremos un nuevo intento o te contactaremos.',
      DELIVERED: 'Tu paquete fue entregado.',
      EXCEPTION: 'Hay un inconveniente con tu envío y nuestro equipo lo está revisando.',
      RETURN_TO_SENDER: 'Tu paquete está regresando al remitente.',
      CANCELLED: 'Este envío fue cancelado.',
    },
  },
  en: {
    title: 'Shipment tracking · DINEX',
    skip: 'Skip to content',
    tagline: 'Tracking',
    langGroup: 'Language',
    h1: 'Track your shipment',
    lead: 'Enter your tracking number to see where your parcel is and when it will arrive.',
    label: 'Tracking number',
    placeholder: 'e.g. TRK001',
    hint: 'You will find it in your confirmation email or on the parcel label.',
    submit: 'Track',
    footer: 'DINEX · Deliveries in Peru and Chile',
    empty: 'Enter a tracking number.',
    invalid: 'Invalid number. Use 3 to 40 letters, digits, hyphens (-) or underscores (_), starting with a letter or a digit.',
    loading: 'Looking up shipment {id}…',
    shipment: 'Shipment {id}',
    lastLocation: 'Last location',
    lastUpdate: 'Last update',
    deliveredAt: 'Delivered on',
    eta: 'Estimated delivery',
    notes: 'Notes',
    note: 'Note:',
    progress: 'Shipment progress',
    history: 'Shipment history',
    tz: 'Times shown in your time zone ({tz}).',
    noEvents: 'No movements recorded yet.',
    stepState: { done: 'completed', current: 'current stage', issue: 'with an issue', todo: 'pending', skipped: 'will not happen' },
    nfTitle: 'We could not find shipment {id}',
    nfText: 'Check that the number is spelled correctly. A new shipment can take a few hours to appear.',
    errTitle: 'We could not look up your shipment',
    errText: 'There was a connection or service problem. Please try again in a moment.',
    busyText: 'We are receiving many requests. Please wait a moment and try again.',
    retry: 'Try again',
    other: 'Track another number',
    ref: 'Reference code: {ref}',
    liveResult: 'Shipment {id}: {status}.',
    liveWhere: ' Last location: {loc}.',
    steps: ['Received', 'Picked up', 'In transit', 'Out for delivery', 'Delivered'],
    status: {
      INFO_RECEIVED: 'Information received', PICKED_UP: 'Picked up', IN_TRANSIT: 'In transit',
      OUT_FOR_DELIVERY: 'Out for delivery', AVAILABLE_FOR_PICKUP: 'Available for pickup',
      DELIVERY_FAILED: 'Delivery attempt failed', DELIVERED: 'Delivered', EXCEPTION: 'Shipment exception',
      RETURN_TO_SENDER: 'Returning to sender', CANCELLED: 'Cancelled',
    },
    about: {
      INFO_RECEIVED: 'The sender has registered your shipment. We will pick it up soon.',
      PICKED_UP: 'We have picked up your parcel and are preparing it for transport.',
      IN_TRANSIT: 'Your parcel is on its way to its destination.',
      OUT_FOR_DELIVERY: 'Your parcel is out for delivery and will arrive soon.',
      AVAILABLE_FOR_PICKUP: 'Your parcel is waiting for you at the pickup point.',
      DELIVERY_FAILED: 'We could not deliver your parcel. We will try again or contact you.',
      DELIVERED: 'Your parcel has been delivered.',
      EXCEPTION: 'There is an issue with your shipment and our team is looking into it.',
      RETURN_TO_SENDER: 'Your parcel is on its way back to the sender.',
      CANCELLED: 'This shipment has been cancelled.',
    },
  },
};

const $ = (sel) => document.querySelector(sel);
const form = $('#track-form');
const input = $('#tracking-id');
const fieldError = $('#tracking-error');
const panel = $('#panel');
const live = $('#live');

// view: idle | loading | result | not-found | invalid | error
const state = { lang: initialLang(), view: 'idle', id: '', data: null, httpStatus: 0, ref: '' };
let seq = 0;
let inflight = null;

function initialLang() {
  try {
    const saved = localStorage.getItem(LANG_KEY);
    if (saved in TEXT) return saved;
  } catch { /* storage unavailable: fall back to Spanish */ }
  return 'es';
}

const t = () => TEXT[state.lang];
const fill = (s, vars) => s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : ''));
const normalizeId = (raw) => String(raw ?? '').trim().toUpperCase();
const isValidId = (id) => ID_RE.test(id);

function locale() {
  const prefs = navigator.languages || [navigator.language || ''];
  return prefs.find((l) => l && l.toLowerCase().split('-')[0] === state.lang) || (state.lang === 'es' ? 'es-PE' : 'en');
}

// Element builder: h('p', {class: 'x', text: '…'}, child, …). Never uses innerHTML.
function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'onclick') el.addEventListener('click', v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false) el.append(kid);
  return el;
}

function icon(name, cls = 'icon') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS(SVG_NS, 'use');
  use.setAttribute('href', `#i-${name}`);
  svg.append(use);
  return svg;
}

// ---- time

function toDate(v) {
  if (typeof v === 'number' && Number.isFinite(v)) return new Date(v < 1e12 ? v * 1000 : v);
  if (typeof v === 'string' && v.trim()) {
    if (/^\d+$/.test(v)) return toDate(Number(v));
    const d = new Date(v);
    if (!Number.isNaN(d.getTime())) return d;
  }
  return null;
}

const DATE_TIME = { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' };
const fmt = (d, opts) => new Intl.DateTimeFormat(locale(), opts).format(d);

function timeEl(d, opts = DATE_TIME) {
  return h('time', { datetime: d.toISOString(), text: fmt(d, opts) });
}

function relative(d) {
  const diff = (d.getTime() - Date.now()) / 1000;
  const units = [['year', 31536000], ['month', 2592000], ['week', 604800], ['day', 86400], ['hour', 3600], ['minute', 60]];
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  for (const [unit, secs] of units) if (Math.abs(diff) >= secs) return rtf.format(Math.round(diff / secs), unit);
  return rtf.format(0, 'minute');
}

function etaEl(raw) {
  if (typeof raw !== 'string') return null;
  if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) {
    const d = new Date(`${raw}T12:00:00Z`);
    if (Number.isNaN(d.getTime())) return null;
    return h('time', { datetime: raw, text: fmt(d, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }) });
  }
  const d = toDate(raw);
  return d && timeEl(d, { weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit' });
}

// ---- status helpers

const statusText = (s) => t().status[s] || (s ? String(s).replace(/_/g, ' ').toLowerCase().replace(/^./, (c) => c.toUpperCase()) : '—');
const toneOf = (s) => (LOOK[s] || ['neutral'])[0];

function stageOf(s) {
  const i = MAIN_STAGES.indexOf(s);
  if (i >= 0) return i;
  return s === 'AVAILABLE_FOR_PICKUP' || s === 'DELIVERY_FAILED' ? 3 : -1;
}

// The five main stages, each {label, state}; state is done | current | issue | todo | skipped.
function progressSteps(status, events, labels = TEXT.es.steps, names = TEXT.es.status) {
  const steps = labels.map((label) => ({ label, state: 'todo' }));
  const reached = Math.max(0, ...events.map((e) => stageOf(e && e.status)));
  const mark = (upTo, st = 'done') => { for (let i = 0; i < upTo; i++) steps[i].state = st; };
  const main = MAIN_STAGES.indexOf(status);
  if (main >= 0) {
    mark(main);
    steps[main].state = status === 'DELIVERED' ? 'done' : 'current';
  } else if (status === 'AVAILABLE_FOR_PICKUP' || status === 'DELIVERY_FAILED') {
    mark(3);
    steps[3] = { label: names[status], state: status === 'DELIVERY_FAILED' ? 'issue' : 'current' };
  } else if (status === 'EXCEPTION') {
    mark(reached);
    steps[reached].state = 'issue';
  } else if (status === 'RETURN_TO_SENDER' || status === 'CANCELLED') {
    for (let i = 0; i < 4; i++) steps[i].state = i <= reached ? 'done' : 'skipped';
    steps[4] = status === 'CANCELLED' ? { label: names[status], state: 'issue', mark: 'x' } : { label: names[status], state: 'current' };
  } else {
    mark(reached + 1);
  }
  return steps;
}

function sortedEvents(list) {
  const events = Array.isArray(list) ? list.filter((e) => e && typeof e === 'object') : [];
  const key = (e) => { const d = toDate(e.timestamp); return d ? d.getTime() : -Infinity; };
  return events.map((e, i) => [e, i]).sort((a, b) => (key(b[0]) - key(a[0])) || (a[1] - b[1])).map(([e]) => e);
}

const text = (v) => (typeof v === 'string' && v.trim() ? v.trim() : typeof v === 'number' ? String(v) : '');

// ---- rendering

function applyStaticText() {
  const tx = t();
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = tx[el.dataset.i18n];
  for (const el of document.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', tx[el.dataset.i18nAria]);
  for (const el of document.querySelectorAll('[data-i18n-ph]')) el.setAttribute('placeholder', tx[el.dataset.i18nPh]);
  for (const b of document.querySelectorAll('[data-lang]')) b.setAttribute('aria-pressed', String(b.dataset.lang === state.lang));
  if (state.view === 'invalid') fieldError.textContent = state.id ? tx.invalid : tx.empty;
}

function updateTitle() {
  const tx = t();
  document.title = state.view === 'result' && state.data
    ? `${state.id} · ${statusText(state.data.status)} · DINEX`
    : tx.title;
}

function renderResult(d) {
  const tx = t();
  const status = text(d.status);
  const tone = toneOf(status);
  const events = sortedEvents(d.events);
  const latest = events[0];
  const lastSeen = toDate(latest && latest.timestamp) || toDate(d.timestamp) || toDate(d.updated_at);
  const location = text(d.location) || text(latest && latest.location);
  const done = status === 'DELIVERED' || status === 'CANCELLED' || status === 'RETURN_TO_SENDER';
  const eta = done ? null : etaEl(d.estimated_delivery);
  const notes = text(d.notes);

  const fact = (label, value, cls) => h('div', { class: `fact ${cls || ''}` }, h('dt', { text: label }), h('dd', null, value));
  const facts = h('dl', { class: 'facts' },
    fact(tx.lastLocation, h('span', { class: 'with-icon' }, icon('pin'), location || '—')),
    fact(status === 'DELIVERED' ? tx.deliveredAt : tx.lastUpdate, lastSeen
      ? h('span', null, timeEl(lastSeen), h('span', { class: 'rel', text: ` (${relative(lastSeen)})` }))
      : '—'),
    eta && fact(tx.eta, eta, 'fact-eta'),
    notes && fact(tx.notes, notes, 'fact-wide'));

  const steps = progressSteps(status, events, tx.steps, tx.status);
  const progress = h('section', { class: 'progress', 'aria-labelledby': 'progress-title' },
    h('h3', { id: 'progress-title', class: 'visually-hidden', text: tx.progress }),
    h('ol', { class: 'steps', 'data-tone': tone }, steps.map((s) => h('li', {
      class: 'step', 'data-state': s.state, 'data-mark': s.mark || null,
      'aria-current': s.state === 'current' || s.state === 'issue' ? 'step' : null,
    }, h('span', { class: 'step-dot', 'aria-hidden': 'true' }),
    h('span', { class: 'step-label', text: s.label }),
    h('span', { class: 'visually-hidden', text: ` (${tx.stepState[s.state]})` })))));

  const summary = h('article', { class: 'card summary', 'data-tone': tone, 'aria-labelledby': 'result-title' },
    h('div', { class: 'summary-head' },
      h('span', { class: 'status-badge', 'aria-hidden': 'true' }, icon((LOOK[status] || [0, 'box'])[1], 'icon icon-lg')),
      h('h2', { id: 'result-title', class: 'summary-title', tabindex: '-1' },
        h('span', { class: 'eyebrow', text: fill(tx.shipment, { id: text(d.tracking_id) || state.id }) }),
        h('span', { class: 'status-text', 'data-status': status, text: statusText(status) }))),
    h('p', { class: 'status-about', text: tx.about[status] || '' }),
    facts,
    progress);

  const items = events.map((e, i) => {
    const st = text(e.status);
    const when = toDate(e.timestamp);
    const loc = text(e.location);
    return h('li', { class: 'event', 'data-tone': toneOf(st), 'data-latest': i === 0 ? 'true' : null },
      h('span', { class: 'event-dot', 'aria-hidden': 'true' }),
      h('div', { class: 'event-body' },
        h('h3', { class: 'event-status', 'data-status': st, text: statusText(st) }),
        h('p', { class: 'event-meta' },
          when ? timeEl(when) : null,
          loc ? h('span', { class: 'event-location with-icon' }, icon('pin'), loc) : null),
        text(e.description) ? h('p', { class: 'event-desc', text: text(e.description) }) : null,
        text(e.notes) ? h('p', { class: 'event-notes' }, h('strong', { text: `${tx.note} ` }), text(e.notes)) : null));
  });

  let zone = '';
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch { /* ignore */ }
  const history = h('section', { class: 'card history', 'aria-labelledby': 'history-title' },
    h('h2', { id: 'history-title', class: 'section-title', text: tx.history }),
    zone ? h('p', { class: 'muted small', text: fill(tx.tz, { tz: zone.replace(/_/g, ' ') }) }) : null,
    items.length ? h('ol', { class: 'timeline' }, items) : h('p', { class: 'muted', text: tx.noEvents }));

  return [summary, history];
}

function renderMessage({ iconName, tone, title, body, ref, retry }) {
  const tx = t();
  return h('section', { class: 'card message', 'data-tone': tone, 'aria-labelledby': 'result-title' },
    h('span', { class: 'status-badge', 'aria-hidden': 'true' }, icon(iconName, 'icon icon-lg')),
    h('div', { class: 'message-body' },
      h('h2', { id: 'result-title', class: 'message-title', tabindex: '-1', text: title }),
      h('p', { text: body }),
      ref ? h('p', { class: 'muted small', text: fill(tx.ref, { ref }) }) : null,
      h('div', { class: 'actions' },
        retry ? h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'retry', onclick: () => lookup(state.id) }, tx.retry) : null,
        h('button', { type: 'button', class: 'btn btn-secondary', 'data-action': 'other', onclick: focusInput }, tx.other))));
}

function render() {
  const tx = t();
  const hadFocus = panel.contains(document.activeElement);
  let content = [];
  if (state.view === 'loading') {
    content = [h('div', { class: 'card loading', tabindex: '-1' },
      h('span', { class: 'spinner', 'aria-hidden': 'true' }),
      h('p', { text: fill(tx.loading, { id: state.id }) }))];
  } else if (state.view === 'result' && state.data) {
    content = renderResult(state.data);
  } else if (state.view === 'not-found') {
    content = [renderMessage({ iconName: 'search', tone: 'neutral', title: fill(tx.nfTitle, { id: state.id }), body: tx.nfText })];
  } else if (state.view === 'error') {
    content = [renderMessage({ iconName: 'cloud', tone: 'danger', title: tx.errTitle, body: state.httpStatus === 429 ? tx.busyText : tx.errText, ref: state.ref, retry: true })];
  }
  panel.replaceChildren(...content);
  panel.dataset.state = state.view;
  document.body.dataset.view = state.view;
  panel.setAttribute('aria-busy', String(state.view === 'loading'));
  const invalid = state.view === 'invalid';
  fieldError.hidden = !invalid;
  fieldError.textContent = invalid ? (state.id ? tx.invalid : tx.empty) : '';
  if (invalid) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
  updateTitle();
  if (hadFocus) {
    const target = panel.querySelector('#result-title, .loading');
    if (target) target.focus(); else focusInput();
  }
}

function announce(message) {
  live.textContent = '';
  setTimeout(() => { live.textContent = message; }, 60);
}

function announceState() {
  const tx = t();
  if (state.view === 'result' && state.data) {
    const d = state.data;
    const loc = text(d.location);
    announce(fill(tx.liveResult, { id: state.id, status: statusText(text(d.status)) }) + (loc ? fill(tx.liveWhere, { loc }) : ''));
  } else if (state.view === 'not-found') announce(`${fill(tx.nfTitle, { id: state.id })}. ${tx.nfText}`);
  else if (state.view === 'error') announce(`${tx.errTitle}. ${state.httpStatus === 429 ? tx.busyText : tx.errText}`);
  else if (state.view === 'invalid') announce(state.id ? tx.invalid : tx.empty);
  else if (state.view === 'loading') announce(fill(tx.loading, { id: state.id }));
}

function setView(view, extra = {}) {
  Object.assign(state, { data: null, httpStatus: 0, ref: '' }, extra, { view });
  render();
  announceState();
}

const focusInput = () => { input.focus(); input.select(); };

// ---- network

function cancel() {
  seq++;
  if (inflight) inflight.abort();
  inflight = null;
}

async function lookup(id) {
  cancel();
  const mine = seq;
  const ctrl = new AbortController();
  inflight = ctrl;
  const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
  setView('loading', { id });
  let res = null;
  let body = null;
  try {
    res = await fetch(`/tracking?tracking_id=${encodeURIComponent(id)}`, {
      headers: { Accept: 'application/json' }, signal: ctrl.signal, cache: 'no-store', credentials: 'same-origin',
    });
    body = await res.json().catch(() => null);
  } catch {
    res = null;
  } finally {
    clearTimeout(timer);
  }
  if (mine !== seq) return; // a newer search replaced this one
  inflight = null;
  const ref = body && typeof body.request_id === 'string' ? body.request_id : (res && res.headers.get('X-Request-Id')) || '';
  if (res && res.ok && body && typeof body === 'object' && typeof body.tracking_id === 'string') {
    setView('result', { id, data: body });
  } else if (res && res.status === 404) {
    setView('not-found', { id, ref });
  } else if (res && res.status === 400) {
    setView('invalid', { id });
  } else {
    setView('error', { id, httpStatus: res ? res.status : 0, ref });
  }
}

// ---- navigation

const idFromUrl = () => new URLSearchParams(window.location.search).get('tracking_id');
const urlFor = (id) => `${window.location.pathname}?tracking_id=${encodeURIComponent(id)}`;

// Shows whatever the address bar asks for (first load, back/forward).
function showFromUrl() {
  const raw = idFromUrl();
  if (raw === null) {
    cancel();
    input.value = '';
    setView('idle', { id: '' });
    return;
  }
  const id = normalizeId(raw);
  input.value = id;
  if (!isValidId(id)) {
    cancel();
    setView('invalid', { id });
    return;
  }
  if (raw !== id) history.replaceState({ id }, '', urlFor(id));
  lookup(id);
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const id = normalizeId(input.value);
  input.value = id;
  if (!isValidId(id)) {
    cancel();
    setView('invalid', { id });
    focusInput();
    return;
  }
  history[idFromUrl() === id ? 'replaceState' : 'pushState']({ id }, '', urlFor(id));
  lookup(id);
});

input.addEventListener('input', () => {
  if (state.view === 'invalid') {
    input.removeAttribute('aria-invalid');
    fieldError.hidden = true;
    fieldError.textContent = '';
  }
});

for (const btn of document.querySelectorAll('[data-lang]')) {
  btn.addEventListener('click', () => {
    if (btn.dataset.lang === state.lang) return;
    state.lang = btn.dataset.lang;
    try { localStorage.setItem(LANG_KEY, state.lang); } catch { /* not remembered, still switched */ }
    applyStaticText();
    render();
  });
}

window.addEventListener('popstate', showFromUrl);

applyStaticText();
showFromUrl();
