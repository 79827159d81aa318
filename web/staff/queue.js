// The courier's scans: an IndexedDB queue on the device, and the loop that sends it with
// POST /tracking/batch. A scan is written here before anything goes on the network, and stays
// "queued" until the service's answer for it is recorded in the same database; resends after a
// cut are safe because every scan carries its own event_id, which the service answers as a replay.

const DB_NAME = 'dinex-staff';
const STORE = 'scans';
export const BATCH_MAX = 100;    // well under the service's 500 items and 1 MiB
const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 60000;
const REQUEST_TIMEOUT_MS = 30000;
const KEEP_ANSWERED = 200;       // answered scans kept for the courier to look back at

const done = (req) => new Promise((resolve, reject) => {
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => reject(req.error);
});
const committed = (tx) => new Promise((resolve, reject) => {
  tx.oncomplete = () => resolve();
  tx.onerror = () => reject(tx.error);
  tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
});

export class ScanQueue {
  static async open() {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => {
      // seq (auto-increment) is the order the courier scanned in; event_id is unique so the same
      // scan can never be stored twice on the device.
      const store = req.result.createObjectStore(STORE, { keyPath: 'seq', autoIncrement: true });
      store.createIndex('event_id', 'event_id', { unique: true });
      store.createIndex('fate', 'fate');
    };
    return new ScanQueue(await done(req));
  }

  constructor(db) { this.db = db; }

  async add(body) {
    const tx = this.db.transaction(STORE, 'readwrite');
    const record = { event_id: body.event_id, body, fate: 'queued', saved_at: Date.now(), answered_at: null, problem: null };
    record.seq = await done(tx.objectStore(STORE).add(record));
    await committed(tx);
    return record;
  }

  // Newest first, for the courier's list.
  async recent(limit) {
    const tx = this.db.transaction(STORE);
    const out = [];
    await new Promise((resolve, reject) => {
      const req = tx.objectStore(STORE).openCursor(null, 'prev');
      req.onerror = () => reject(req.error);
      req.onsuccess = () => {
        const cursor = req.result;
        if (!cursor || out.length >= limit) return resolve();
        out.push(cursor.value);
        cursor.continue();
      };
    });
    return out;
  }

  // The oldest queued scans, in the order they were made.
  async queued(limit) {
    const tx = this.db.transaction(STORE);
    return done(tx.objectStore(STORE).index('fate').getAll(IDBKeyRange.only('queued'), limit));
  }

  async countQueued() {
    const tx = this.db.transaction(STORE);
    return done(tx.objectStore(STORE).index('fate').count(IDBKeyRange.only('queued')));
  }

  // Records the service's answers in one transaction. Only a scan still queued changes: an
  // answer that arrives after another one was recorded (two tabs) never rewrites a fate.
  async record(outcomes) {
    const tx = this.db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    const changed = [];
    for (const o of outcomes) {
      const rec = await done(store.get(o.seq));
      if (!rec || rec.fate !== 'queued') continue;
      rec.fate = o.fate;
      rec.problem = o.problem ?? null;
      rec.answered_at = Date.now();
      store.put(rec);
      changed.push(rec);
    }
    await committed(tx);
    return changed;
  }

  async dropQueued() {
    const tx = this.db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    const keys = await done(store.index('fate').getAllKeys(IDBKeyRange.only('queued')));
    for (const k of keys) store.delete(k);
    await committed(tx);
  }

  // Forgets the oldest answered scans beyond KEEP_ANSWERED; queued ones are never pruned.
  async prune() {
    const tx = this.db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    let answered = 0;
    await new Promise((resolve, reject) => {
      const req = store.openCursor(null, 'prev');
      req.onerror = () => reject(req.error);
      req.onsuccess = () => {
        const cursor = req.result;
        if (!cursor) return resolve();
        if (cursor.value.fate !== 'queued' && ++answered > KEEP_ANSWERED) cursor.delete();
        cursor.continue();
      };
    });
    await committed(tx);
  }
}

// Exponential backoff with jitter: half the window fixed, half random, so phones that lost the
// same cell tower do not all come back in the same second.
export function backoffDelay(attempt) {
  const window = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
  return Math.round(window / 2 + Math.random() * (window / 2));
}

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

// What a batch result says about one scan.
export function fateOf(result) {
  if (result.result === 'created') return { fate: 'sent' };
  if (result.result === 'late_arrival') return { fate: 'late' };
  if (result.result === 'replay') return { fate: 'replayed' };
  if (RETRYABLE.has(result.status)) return { fate: 'queued' };
  return {
    fate: 'refused',
    problem: { status: result.status, code: result.code ?? '', error: result.error ?? '', details: Array.isArray(result.details) ? result.details : [] },
  };
}

// The sending loop. `state.phase`: idle | sending | waiting (a retry is scheduled) | offline |
// auth (401: the key is not accepted) | forbidden (403: a read-only key). One tab sends at a
// time (Web Locks); the others hear about answers on a BroadcastChannel.
export class Sender {
  constructor({ queue, key, onState, onAnswered }) {
    this.queue = queue;
    this.key = key;
    this.onState = onState;
    this.onAnswered = onAnswered;
    this.state = { phase: 'idle', pending: 0, sending: [], retryAt: 0, why: null };
    this.attempt = 0;
    this.timer = 0;
    this.running = false;
    this.again = false;
    this.stopped = false;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  set(patch) {
    this.state = { ...this.state, ...patch };
    this.onState(this.state);
  }

  // Starts a round now; `fresh` (the courier pressed "send now", or the connection came back)
  // forgets the backoff.
  kick({ fresh = false } = {}) {
    if (this.stopped) return;
    if (fresh) this.attempt = 0;
    clearTimeout(this.timer);
    this.timer = 0;
    if (this.running) { this.again = true; return; }
    this.running = true;
    const round = () => this.round().catch((e) => this.retry({ kind: 'network', detail: String(e) }));
    const locked = navigator.locks
      ? navigator.locks.request('dinex-staff-sync', { ifAvailable: true }, (lock) => (lock ? round() : this.busyElsewhere()))
      : round();
    locked.finally(() => {
      this.running = false;
      if (this.again && !this.stopped) { this.again = false; this.kick(); }
    });
  }

  async busyElsewhere() {
    // Another tab is sending; look again shortly.
    this.set({ pending: await this.queue.countQueued() });
    this.timer = setTimeout(() => this.kick(), 2000);
  }

  retry(why, retryAfterS = 0) {
    const delay = Math.max(backoffDelay(this.attempt), retryAfterS * 1000);
    this.attempt = Math.min(this.attempt + 1, 16);
    this.set({ phase: 'waiting', sending: [], retryAt: Date.now() + delay, why });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), delay);
  }

  async round() {
    let size = BATCH_MAX;
    for (;;) {
      if (this.stopped) return;
      const items = await this.queue.queued(size);
      if (items.length === 0) {
        this.attempt = 0;
        this.set({ phase: 'idle', pending: 0, sending: [], why: null });
        return;
      }
      const pending = await this.queue.countQueued();
      if (!navigator.onLine) {
        this.set({ phase: 'offline', pending, sending: [] });
        return;  // the 'online' event kicks again
      }
      this.set({ phase: 'sending', pending, sending: items.map((i) => i.seq) });
      let res;
      let body;
      const abort = new AbortController();
      const timeout = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
      try {
        res = await fetch('/tracking/batch', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${this.key}` },
          body: JSON.stringify({ events: items.map((i) => i.body) }),
          signal: abort.signal,
          cache: 'no-store',
          credentials: 'omit',
        });
        body = res.status === 200 ? await res.json() : null;
      } catch (e) {
        // No answer, or an answer cut short: nothing is known, so every scan stays queued and
        // is sent again; the service answers those it already stored as replays.
        return this.retry({ kind: 'network', detail: String(e) });
      } finally {
        clearTimeout(timeout);
      }
      if (res.status === 200) {
        const results = Array.isArray(body?.results) ? body.results : [];
        if (results.length !== items.length) return this.retry({ kind: 'status', status: 200 });
        const outcomes = results.map((r, i) => ({ seq: items[i].seq, ...fateOf(r) }));
        const changed = await this.queue.record(outcomes.filter((o) => o.fate !== 'queued'));
        this.onAnswered(changed);
        const busy = results.find((r) => RETRYABLE.has(r.status));
        if (busy) return this.retry({ kind: 'status', status: busy.status });
        this.attempt = 0;
        continue;
      }
      if (res.status === 401) return this.set({ phase: 'auth', pending, sending: [] });
      if (res.status === 403) return this.set({ phase: 'forbidden', pending, sending: [] });
      if (res.status === 413 && items.length > 1) {
        size = Math.max(1, Math.floor(items.length / 2));
        continue;
      }
      const retryAfter = Number.parseInt(res.headers.get('retry-after') ?? '', 10);
      return this.retry({ kind: 'status', status: res.status }, Number.isFinite(retryAfter) ? Math.min(retryAfter, 300) : 0);
    }
  }
}
