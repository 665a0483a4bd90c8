/* 村务通 service worker. Shell: precached, cache-first. Public pages (marked X-Offline-Copy: public):
   network-first with a copy kept for reading offline. Everything else: network only, with the offline page. */
"use strict";
const VERSION = {{ version|tojson }};
const SHELL = "shell-" + VERSION;
const PAGES = "pages-v1";
const SHELL_URLS = {{ shell|tojson }};
const SLOW_NETWORK_MS = 6000;

self.addEventListener("install", (event) => {
  event.waitUntil(Promise.all([caches.open(SHELL).then((c) => c.addAll(SHELL_URLS)), keepOpenPages()])
    .then(() => self.skipWaiting()));
});

// The page that registered the worker never went through networkFirst: keep a copy of the public pages open now
// (from the HTTP cache, no new download), so one visit is enough to read them offline.
async function keepOpenPages() {
  try {
    const cache = await caches.open(PAGES);
    const open = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    await Promise.all(open.map(async (client) => {
      const url = new URL(client.url);
      url.hash = "";
      if (url.origin !== self.location.origin || !isPublicPage(url)) return;
      const response = await fetch(url.href, { cache: "force-cache", credentials: "same-origin" });
      if (response.ok && response.headers.get("X-Offline-Copy") === "public") await cache.put(url.href, response);
    }));
  } catch (e) { /* a missing copy must not stop the worker from installing */ }
}

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k.startsWith("shell-") && k !== SHELL).map((k) => caches.delete(k))
  )).then(() => self.clients.claim()));
});

function isPublicPage(url) {
  return /^\/v\/\d{12}\/(notices\/[0-9a-f-]{36})?$/.test(url.pathname) || url.pathname === "/";
}

async function networkFirst(request) {
  const cache = await caches.open(PAGES);
  const cached = await cache.match(request, { ignoreSearch: true });
  const network = fetch(request).then((response) => {
    if (response.ok && response.headers.get("X-Offline-Copy") === "public") cache.put(request, response.clone());
    return response;
  });
  if (!cached) {
    return network.catch(async () => (await caches.match("/offline")) || Response.error());
  }
  // on a very slow line, show the saved copy rather than a blank screen
  const slow = new Promise((resolve) => setTimeout(() => resolve(cached), SLOW_NETWORK_MS));
  return Promise.race([network.catch(() => cached), slow]);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (SHELL_URLS.includes(url.pathname) || url.pathname.startsWith("/static/gen/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request).then((response) => {
      if (response.ok) caches.open(SHELL).then((c) => c.put(request, response.clone()));
      return response;
    })));
    return;
  }
  if (request.mode === "navigate" && isPublicPage(url)) {
    event.respondWith(networkFirst(request));
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(async () => (await caches.match("/offline")) || Response.error()));
  }
});
