/* 村务通 service worker. Shell (bundles, icons, manifest, offline page): precached, cache-first.
   Pages: network-first. A copy is kept of public pages (X-Offline-Copy: public) and of the cadre's form
   pages (X-Offline-Copy: form; cleared at logout), so both open with no signal. A page is kept only once every
   /static/ file it names (scripts, stylesheets, icons) is in this worker's cache: a phone that restarts with no
   signal opens it whole. Background Sync sends the outbox. */
"use strict";
const VERSION = {{ version|tojson }};
const SHELL = "shell-" + VERSION;
const ASSETS = "assets-v1";   // /static/ files that kept pages name; outlives updates, pruned at activate
const PAGES = "pages-v1";
const FORMS = "forms-v1";
const SHELL_URLS = {{ shell|tojson }};
const PUBLIC_PAGES = new RegExp({{ public_pages|tojson }});  // pages anyone may read (each kind's, see kinds.Public)
const SLOW_NETWORK_MS = 6000;

importScripts({{ outbox_url|tojson }});  // the same outbox code the pages use (self.VillageOutbox)

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(SHELL_URLS))
    .then(keepOpenPages).then(() => self.skipWaiting()));
});

// The page that registered the worker never went through networkFirst: keep a copy of the public pages open now
// (from the HTTP cache, no new download), so one visit is enough to read them offline.
async function keepOpenPages() {
  try {
    const open = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    await Promise.all(open.map(async (client) => {
      const url = new URL(client.url);
      url.hash = "";
      if (url.origin !== self.location.origin || !isPublicPage(url)) return;
      const response = await fetch(url.href, { cache: "force-cache", credentials: "same-origin" });
      await keep(new Request(url.href), response);
    }));
  } catch (e) { /* a missing copy must not stop the worker from installing */ }
}

self.addEventListener("activate", (event) => {
  // PAGES, FORMS and IndexedDB (the outbox) are never touched by an update. The files the kept pages name are
  // held first (copied from an old shell if that is where they are), then old shells and unnamed files go.
  event.waitUntil(keptRefs().then(async (refs) => {
    await holdAssets(refs).catch(() => false);
    const keys = await caches.keys();
    await Promise.all(keys.filter((k) => k.startsWith("shell-") && k !== SHELL).map((k) => caches.delete(k)));
    await pruneAssets(refs);
  }).catch(() => null).then(() => self.clients.claim()));
});

function isPublicPage(url) {
  return PUBLIC_PAGES.test(url.pathname);
}

// the /static/ files a page names in src= or href=
function staticRefs(html) {
  const refs = new Set();
  const re = /\s(?:src|href)="(\/static\/[^"?#]+)"/g;
  let m;
  while ((m = re.exec(html))) refs.add(m[1]);
  return [...refs];
}

// every file of the list in ASSETS: from any of our caches if there, else from the network; false if one is missing
async function holdAssets(paths) {
  const assets = await caches.open(ASSETS);
  const results = await Promise.all(paths.map(async (path) => {
    if (await assets.match(path)) return true;
    let response = await caches.match(path);
    if (!response) {
      try { response = await fetch(path, { credentials: "same-origin" }); } catch (e) { return false; }
    }
    if (!response.ok) return false;
    await assets.put(path, response);
    return true;
  }));
  return results.every(Boolean);
}

// a page worth keeping is stored only after its scripts, stylesheets and icons are
async function keep(request, response) {
  const kind = response.ok && response.headers.get("X-Offline-Copy");
  if (kind !== "public" && kind !== "form") return;
  const copy = response.clone();
  if (!(await holdAssets(staticRefs(await response.clone().text())))) return;  // try again on the next visit
  if (kind === "public") await (await caches.open(PAGES)).put(request, copy);
  else await (await caches.open(FORMS)).put(new URL(request.url).pathname, copy);
}

// the /static/ files every kept page names
async function keptRefs() {
  const refs = new Set();
  for (const name of [PAGES, FORMS]) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const page = await cache.match(request);
      if (page) staticRefs(await page.text()).forEach((p) => refs.add(p));
    }
  }
  return [...refs];
}

// after an update: keep what the shell or a kept page still names, drop the rest
async function pruneAssets(refs) {
  const wanted = new Set(SHELL_URLS.concat(refs));
  const assets = await caches.open(ASSETS);
  for (const request of await assets.keys()) {
    if (!wanted.has(new URL(request.url).pathname)) await assets.delete(request);
  }
}

async function savedCopy(url) {
  return (await (await caches.open(FORMS)).match(url.pathname)) ||
         (await (await caches.open(PAGES)).match(url.href, { ignoreSearch: true }));
}

function networkFirst(event) {
  const request = event.request;
  const url = new URL(request.url);
  const network = fetch(request);
  // the copy is stored beside the answer (a clone taken before the page reads it); the page does not wait for it
  event.waitUntil(network.then((response) => keep(request, response)).catch(() => null));
  return savedCopy(url).then((cached) => {
    if (!cached) return network.catch(async () => (await caches.match("/offline")) || Response.error());
    // on a very slow line, show the saved copy rather than a blank screen
    const slow = new Promise((resolve) => setTimeout(() => resolve(cached), SLOW_NETWORK_MS));
    return Promise.race([network.catch(() => cached), slow]);
  });
}

async function staticFile(event) {
  const request = event.request;
  const hit = await caches.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok && new URL(request.url).pathname.startsWith("/static/")) {
    const copy = response.clone();  // before the page starts reading the body
    event.waitUntil(caches.open(ASSETS).then((c) => c.put(request, copy)).catch(() => null));
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (SHELL_URLS.includes(url.pathname) || url.pathname.startsWith("/static/")) {
    event.respondWith(staticFile(event));
    return;
  }
  if (request.mode === "navigate") event.respondWith(networkFirst(event));
});

// a cadre's page asks for the form pages to be kept before the signal goes
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (Array.isArray(data.warm)) {
    event.waitUntil(Promise.all(data.warm.filter((path) => typeof path === "string" && path.startsWith("/") && !path.startsWith("//"))
      .map((path) => fetch(path, { credentials: "same-origin" })
        .then((response) => keep(new Request(new URL(path, self.location.origin)), response))
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
