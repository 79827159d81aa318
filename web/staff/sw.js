// The staff app's service worker: keeps the app shell so the app opens without a connection.
// It only ever answers GETs of the shell under /staff/; API requests (which carry keys) are
// never looked at, and no API answer is ever cached.
const CACHE = 'dinex-staff-shell';
const SHELL = ['/staff/', '/staff/app.js', '/staff/queue.js', '/staff/text.js', '/staff/app.css',
  '/staff/manifest.webmanifest', '/staff/icon.svg'];
const NETWORK_WAIT_MS = 4000;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SHELL.map((u) => new Request(u, { cache: 'no-cache' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

function shellPath(request) {
  if (request.method !== 'GET' || request.headers.has('authorization')) return null;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return null;
  const path = url.pathname === '/staff' || url.pathname === '/staff/index.html' ? '/staff/' : url.pathname;
  return SHELL.includes(path) ? path : null;
}

// Network first, so a new version is seen at once when online; the cached copy when the network
// fails or is too slow to wait for.
self.addEventListener('fetch', (event) => {
  const path = shellPath(event.request);
  if (!path) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const network = fetch(event.request.mode === 'navigate' ? path : event.request, { cache: 'no-cache' })
      .then(async (res) => {
        if (res.ok) await cache.put(path, res.clone());
        return res;
      });
    network.catch(() => { /* answered from the cache below */ });
    const timeout = new Promise((resolve) => { setTimeout(resolve, NETWORK_WAIT_MS, null); });
    try {
      const res = await Promise.race([network, timeout]);
      if (res) return res;
    } catch { /* offline: fall back to the cache */ }
    const cached = await cache.match(path);
    return cached ?? network;
  })());
});
