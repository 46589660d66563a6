// Rounds service worker: a started round's pages and the app's assets stay on the phone for the
// underground garage. Served at /sw.js (root scope) by app/main/pwa.py, which puts
// `const CONFIG = {version, assets, offline}` above this file.
//
// One strategy per kind of request:
//   static assets (/static/app.<hash>.css, named by app/static_files.py)
//                                      cache-first: the URL changes with the file, so never stale
//   pages (Today, a round, its checkpoints, the work orders list and an order a crew opened)
//                                      network-first, kept per user; with no network (or one
//                                      that hangs) the kept copy, else the offline page
//   any other navigation               network; with no network the offline page
//   POST, htmx fragments, photos, …    not handled here: straight to the network, never cached
// Pages are filed under the user the server names in X-Rounds-User: one user's pages at a time,
// dropped when another user's page arrives and when the user logs out (a shared phone never shows
// the previous supervisor's round). Starting a round (opening its first checkpoint) keeps all its pages.
//
// The changes made with no signal wait in IndexedDB (static/queue.js), not in Cache Storage: nothing here
// touches IndexedDB, so neither a new version of this worker (activate drops old caches only) nor a
// logout (drops the user's pages only) loses them.
"use strict";

const STATIC = "rounds-static-" + CONFIG.version;
const PAGES = "rounds-pages-";  // + the user's token
const META = "rounds-meta";     // the current user's token and the offline page's language
const KEPT_PAGES = [/^\/today$/, /^\/rounds\/\d+$/, /^\/rounds\/\d+\/checkpoints\/\d+$/,
                    /^\/orders$/, /^\/orders\/\d+$/];
const ROUND_PAGE = /^\/rounds\/(\d+)(?:\/checkpoints\/\d+)?$/;
const HANGING_NETWORK_MS = 6000;   // a page that is kept is shown from the phone after this long
const ROUND_REFETCH_MS = 10 * 60 * 1000;
const USER_HEADER = "X-Rounds-User";
const HASHED_ASSET = /\.[0-9a-f]{12}(?:\.[\w]+)?$/;  // app.<12 hex>.css: kept; an unhashed name may change

// --- lifecycle ----------------------------------------------------------------------------------

// The worker's own fetches of assets and the offline page go without cookies: their responses then
// cannot set one either, so a response that comes back late never overwrites a session that a login
// or a logout has just changed.
const NO_COOKIES = {credentials: "omit", cache: "no-store"};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(STATIC)
    .then((cache) => Promise.all([
      cache.addAll(CONFIG.assets.map((url) => new Request(url, {credentials: "omit"}))),
      keepOfflinePage(cache, ""),
    ]))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names
      .filter((name) => name.startsWith("rounds-static-") && name !== STATIC)
      .map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

// --- routing ------------------------------------------------------------------------------------

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === "/logout") {
    event.respondWith(logout(request));
    return;
  }
  if (request.method !== "GET") return;  // answers, notes and photos go to the server, never a cache
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(request));
    return;
  }
  if (request.mode === "navigate") event.respondWith(page(event, request, url));
});

self.addEventListener("message", (event) => {
  const msg = event.data || {};
  if (msg.type === "page" && typeof msg.path === "string") event.waitUntil(opened(msg, event.source));
});

// --- static assets: cache-first -----------------------------------------------------------------

async function cacheFirst(request) {
  const cache = await caches.open(STATIC);
  const hit = await cache.match(request, {ignoreVary: true});
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok && response.type === "basic" && HASHED_ASSET.test(new URL(request.url).pathname)) {
    cache.put(request, response.clone());
  }
  return response;
}

// --- pages: network-first, kept per user --------------------------------------------------------

function kept(url) {
  return !url.search && KEPT_PAGES.some((re) => re.test(url.pathname));
}

async function page(event, request, url) {
  const keep = kept(url);
  const copy = keep ? await keptCopy(url.pathname) : null;
  const network = fetch(request).then((response) => {
    if (keep) event.waitUntil(remember(url.pathname, response.clone()));
    return response;
  });
  try {
    if (!copy) return await network;
    // A kept page does not wait on a network that hangs (a weak signal in a stairwell); the network's
    // answer still refreshes the kept copy when it comes.
    network.catch(() => {});
    return await Promise.race([network, new Promise((resolve) => setTimeout(() => resolve(copy), HANGING_NETWORK_MS))]);
  } catch (err) {
    return copy || offlinePage();
  }
}

// Keep a page only if it is a whole page of a logged-in user: 200, this origin, no redirect, no no-store.
async function remember(path, response) {
  const user = response.headers.get(USER_HEADER);
  if (!user || response.status !== 200 || response.type !== "basic" || response.redirected) return;
  if ((response.headers.get("Cache-Control") || "").includes("no-store")) return;
  await adopt(user);
  const cache = await caches.open(PAGES + user);
  await cache.put(path, response);
}

async function keptCopy(path) {
  const user = await currentUser();
  if (!user) return null;
  const cache = await caches.open(PAGES + user);
  const hit = await cache.match(path, {ignoreVary: true});
  return hit && hit.headers.get(USER_HEADER) === user ? hit : null;
}

async function offlinePage() {
  const cache = await caches.open(STATIC);
  return (await cache.match(CONFIG.offline, {ignoreVary: true}))
    || new Response("Offline / 无网络", {status: 503, headers: {"Content-Type": "text/plain; charset=utf-8"}});
}

// --- whose pages: one user at a time ------------------------------------------------------------

let userToken = null;  // null: not read yet; "": nobody

async function currentUser() {
  if (userToken === null) {
    const hit = await (await caches.open(META)).match("/sw-state/user");
    userToken = hit ? await hit.text() : "";
  }
  return userToken;
}

async function setUser(token) {
  userToken = token;
  await (await caches.open(META)).put("/sw-state/user", new Response(token));
}

// Another user's page arrived: the previous user's pages go before any of the new user's are kept.
async function adopt(token) {
  if ((await currentUser()) === token) return;
  await dropPages(token);
  await setUser(token);
}

async function dropPages(except) {
  const names = await caches.keys();
  await Promise.all(names.filter((n) => n.startsWith(PAGES) && n !== PAGES + except).map((n) => caches.delete(n)));
}

// Logging out (the server answers with a redirect to the login page): nothing of the user stays.
async function logout(request) {
  try {
    const response = await fetch(request);
    if (response.type === "opaqueredirect" || response.ok || response.status === 302) await forgetUser();
    return response;
  } catch (err) {
    return offlinePage();  // no network: still logged in, the pages stay
  }
}

async function forgetUser() {
  roundsKept.clear();
  await dropPages("");
  await setUser("");
}

// --- a round started: keep all its pages --------------------------------------------------------

const roundsKept = new Map();  // round id -> when its pages were last fetched (this worker's life)

async function opened(msg, client) {
  if (!msg.online) return;  // opened from the phone: nothing to fetch, keep what is kept
  await refreshOfflinePage(msg.lang);
  const match = ROUND_PAGE.exec(msg.path);
  if (!match) return;
  const id = match[1];
  const last = roundsKept.get(id);
  if (last === undefined || Date.now() - last > ROUND_REFETCH_MS) {
    roundsKept.set(id, Date.now());
    const count = await keepRound(id, msg.path);
    if (count === null) { roundsKept.delete(id); return; }
  }
  if (client) client.postMessage({type: "round-kept", round: id});
}

// The round page lists every checkpoint: fetch it, then each checkpoint and Today, one at a time
// (not the page just opened: it was kept on its way to the screen).
async function keepRound(id, openedPath) {
  const roundPath = "/rounds/" + id;
  const first = await fetchPage(roundPath);
  if (!first) return null;
  const html = await first.clone().text();
  await remember(roundPath, first);
  const links = new Set([roundPath + "/checkpoints/1"]);
  const re = new RegExp('href="(' + roundPath + '/checkpoints/\\d+)"', "g");
  for (let m = re.exec(html); m; m = re.exec(html)) links.add(m[1]);
  links.add("/today");
  let count = 1;
  for (const path of links) {
    if (path === openedPath && await keptCopy(path)) continue;
    const response = await fetchPage(path);
    if (!response) return null;
    await remember(path, response);
    count += 1;
  }
  return count;
}

async function fetchPage(path) {
  try {
    const response = await fetch(path, {credentials: "same-origin", cache: "no-store"});
    return response.ok && !response.redirected ? response : null;
  } catch (err) {
    return null;
  }
}

// The offline page speaks the language of the pages the user opens (asked by name: no cookies).
async function refreshOfflinePage(lang) {
  if (!lang) return;
  const cache = await caches.open(STATIC);
  const hit = await cache.match(CONFIG.offline);
  if (hit && hit.headers.get("Content-Language") === lang) return;
  try {
    await keepOfflinePage(cache, lang);
  } catch (err) { /* offline: keep the one we have */ }
}

async function keepOfflinePage(cache, lang) {
  const response = await fetch(CONFIG.offline + (lang ? "?lang=" + encodeURIComponent(lang) : ""), NO_COOKIES);
  if (!response.ok) throw new Error("offline page: " + response.status);
  await cache.put(CONFIG.offline, response);
}
