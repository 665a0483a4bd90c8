/* 村务通 service worker. Shell (bundles, icon, offline page): precached, cache-first.
   Pages: network-first. A copy is kept of public pages (X-Offline-Copy: public) and of the cadre's form
   pages (X-Offline-Copy: form; cleared at logout), so both open with no signal. Background Sync sends the outbox. */
"use strict";
const VERSION = {{ version|tojson }};
const SHELL = "shell-" + VERSION;
const PAGES = "pages-v1";
const FORMS = "forms-v1";
const SHELL_URLS = {{ shell|tojson }};
const SLOW_NETWORK_MS = 6000;

importScripts({{ outbox_url|tojson }});  // the same outbox code the pages use (self.VillageOutbox)

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
  // old shells go; PAGES, FORMS and IndexedDB (the outbox) are never touched by an update
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k.startsWith("shell-") && k !== SHELL).map((k) => caches.delete(k))
  )).then(() => self.clients.claim()));
});

function isPublicPage(url) {
  return /^\/v\/\d{12}\/(notices\/[0-9a-f-]{36})?$/.test(url.pathname) || url.pathname === "/";
}

async function keep(request, response) {
  const kind = response.ok && response.headers.get("X-Offline-Copy");
  if (kind === "public") await (await caches.open(PAGES)).put(request, response.clone());
  else if (kind === "form") await (await caches.open(FORMS)).put(new URL(request.url).pathname, response.clone());
  return response;
}

async function savedCopy(url) {
  return (await (await caches.open(FORMS)).match(url.pathname)) ||
         (await (await caches.open(PAGES)).match(url.href, { ignoreSearch: true }));
}

async function networkFirst(request) {
  const url = new URL(request.url);
  const cached = await savedCopy(url);
  const network = fetch(request).then((response) => keep(request, response));
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
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (SHELL_URLS.includes(url.pathname) || url.pathname.startsWith("/static/gen/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request).then((response) => {
      if (response.ok) caches.open(SHELL).then((c) => c.put(request, response.clone()));
      return response;
    })));
    return;
  }
  if (request.mode === "navigate") event.respondWith(networkFirst(request));
});

// a cadre's page asks for the form pages to be kept before the signal goes
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (Array.isArray(data.warm)) {
    event.waitUntil(Promise.all(data.warm.map((path) =>
      fetch(path, { credentials: "same-origin" }).then((response) => keep(new Request(new URL(path, self.location.origin)), response))
        .catch(() => null))));
  }
});

self.addEventListener("sync", (event) => {
  if (event.tag !== "outbox") return;
  event.waitUntil(self.clients.matchAll({ type: "window" }).then((pages) => {
    if (pages.length) { pages.forEach((p) => p.postMessage("flush")); return null; }
    return self.VillageOutbox.flush(true).then((result) => {
      if (result === "offline") throw new Error("still offline: the browser retries this sync later");
    });
  }));
});
