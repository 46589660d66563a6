// Changes kept on the phone with no signal (an underground garage) and sent when the network returns.
//
// What is queued: a checkpoint item's answer (pass / fail / n.a., note, photos: the htmx form in
// templates/rounds/_item.html), "mark the rest pass" on a checkpoint, and a work order's action forms
// (form[data-queue] in templates/workorders/order.html: resolve with an after photo, comments, …).
// Online, htmx (items) or a fetch (orders) sends them as before; a change is queued when the phone is
// offline, when its request fails on the network, or when older changes are still waiting (so the
// server gets them in the order they were made).
//
// Each change is one entry in IndexedDB (idb-keyval, static/vendor/; database "rounds-queue"), with the
// token of the user who made it (body[data-user]: a shared phone sends only the current user's) and an
// op id made once per tap and sent with every try, so the server applies it exactly once; an answer also
// carries the phone's time of the tap (answered_at) and of this try (sent_at). Photos are
// downscaled on the phone before they are kept (long edge 1600 px, JPEG 0.85), the originals of photos
// drawn on (field "originals", static/markup.js) too; file names are kept, which pair them.
//
// Sending: in order, one at a time, on `online`, `pageshow`, the page becoming visible, every 20 s while
// a page is open and from "Send now" (not Background Sync: iOS Safari and WeChat lack it). An entry is
// removed only when the server acknowledged it. A refusal (404, 409, 413, 422) stays on the phone with
// the server's reason until the user dismisses it; a lost connection, a server error (5xx), an expired
// login or an expired page stops the run and keeps everything for the next one.
//
// Every word shown comes from the page (data attributes rendered in the user's language).

// A photo file decoded upright (EXIF orientation), for shrinking here and for drawing on it
// (static/markup.js): createImageBitmap where the browser has it, else an <img>.
window.RoundsImages = {
  decode(file) {
    const viaImage = () => new Promise((resolve, reject) => {
      const url = URL.createObjectURL(file);
      const img = new Image();
      img.onload = () => { URL.revokeObjectURL(url); resolve(img); };
      img.onerror = () => { URL.revokeObjectURL(url); reject(new Error("not an image")); };
      img.src = url;
    });
    if (!window.createImageBitmap) return viaImage();
    try {
      return createImageBitmap(file, {imageOrientation: "from-image"}).catch(viaImage);
    } catch (e) {
      return viaImage();
    }
  },
};

(function () {
  "use strict";
  const kv = window.idbKeyval;
  const body = document.body;
  const USER = body && body.dataset.user;
  const bar = document.getElementById("outbox");
  if (!kv || !window.indexedDB || !window.fetch || !USER || !bar) return;  // forms work as before

  const store = kv.createStore("rounds-queue", "changes");
  const ANSWER_PATH = /^\/rounds\/(\d+)\/stops\/(\d+)\/items\/(\d+)$/;
  const ORDER_PATH = /^\/orders\/(\d+)\/[a-z_-]+$/;
  const LONG_EDGE = 1600;
  const JPEG_QUALITY = 0.85;
  const EVERY_MS = 20000;
  // A request that hangs (a weak signal in a stairwell) counts as failed after this long; it is then
  // kept and sent again under the same op, so if it did arrive it still counts once.
  function patience(bytes) {
    return 30000 + bytes / 5;  // 30 s, plus 1 s per 5 KB (at least 40 kbit/s up)
  }
  const words = {};           // the texts, in the page's language: data-t-* on the bar
  Object.keys(bar.dataset).forEach((k) => {
    if (/^t[A-Z]/.test(k)) words[k.charAt(1).toLowerCase() + k.slice(2)] = bar.dataset[k];
  });
  const cache = [];           // this user's entries, oldest first (a copy of what IndexedDB holds)
  let loaded = false;
  let writes = Promise.resolve();  // entries are written in the order they were made
  let seqCounter = 0;
  let running = null;          // the sync under way
  const problem = {login: false, expired: false, server: false};
  const previews = new Map();  // op -> object URLs of its photos shown on the page

  // --- words ------------------------------------------------------------------------------------

  function plural(name, n) {  // data-NAME-one / data-NAME-many hold "{n} …" in the page's language
    const text = n === 1 ? words[name + "One"] : words[name + "Many"];
    return (text || "").replace("{n}", String(n));
  }

  // --- the entries ------------------------------------------------------------------------------

  function newOp() {
    if (window.crypto && crypto.randomUUID) {
      try { return crypto.randomUUID(); } catch (e) { /* not a secure context */ }
    }
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, (b) => (b < 16 ? "0" : "") + b.toString(16)).join("");
  }

  function nextSeq() {
    seqCounter = (seqCounter + 1) % 1000;
    return Date.now() * 1000 + seqCounter;
  }

  const waiting = (e) => e.state === "waiting";
  const bySeq = (a, b) => a.seq - b.seq;

  // Read this user's entries again (another tab may have added or sent some); entries made on this page
  // whose write is still under way stay as they are.
  function load() {
    return kv.entries(store).then((all) => {
      const mine = all.map((pair) => pair[1]).filter((e) => e && e.user === USER);
      const ops = new Set(mine.map((e) => e.op));
      const unwritten = cache.filter((e) => e.unsaved && !ops.has(e.op));
      cache.length = 0;
      Array.prototype.push.apply(cache, mine.concat(unwritten).sort(bySeq));
      loaded = true;
    });
  }

  function find(op) {
    return cache.find((e) => e.op === op);
  }

  function waitingCount(filter) {
    return cache.filter((e) => waiting(e) && (!filter || filter(e))).length;
  }

  // Keep an entry: shown on the page at once, written after the entries made before it.
  function keep(entry, photos) {
    cache.push(entry);
    entry.pending = photos;  // the originals, shown until they are shrunk and written
    // Until its write has finished, a load() whose read began before the write keeps the entry:
    // `pending` alone ends when the photos are shrunk, before the write, and the entry then went
    // missing from the count (seen on a busy phone: "2 waiting" for 3).
    entry.unsaved = true;
    const write = writes.then(() => shrinkAll(photos)).then((files) => {
      entry.files = files;
      delete entry.pending;
      return kv.set(entry.op, plain(entry), store);
    }).then(() => { delete entry.unsaved; });
    writes = write.catch(() => {});
    render();
    write.then(() => { render(); soon(); }, () => {
      // Storage refused (full, private mode): say so where the user acted, keep nothing half-written.
      const i = cache.indexOf(entry);
      if (i >= 0) cache.splice(i, 1);
      render();
      const form = document.getElementById(entry.form);
      if (form) tellInForm(form, words.notKept);
    });
  }

  function plain(entry) {
    const copy = {};
    Object.keys(entry).forEach((k) => { if (k !== "pending" && k !== "unsaved") copy[k] = entry[k]; });
    return copy;
  }

  function save(entry) {
    return kv.set(entry.op, plain(entry), store);
  }

  function drop(entry) {
    const i = cache.findIndex((e) => e.op === entry.op);
    if (i >= 0) cache.splice(i, 1);
    revoke(entry.op);
    return kv.del(entry.op, store);
  }

  // Fields of a form's request: text fields kept as they are, chosen photos apart (empty file fields
  // and the CSRF token, which is taken fresh from the page when sending, are left out).
  function split(formData) {
    const fields = [], photos = [];
    formData.forEach((value, name) => {
      if (name === "csrf_token" || name === "op" || name === "answered_at" || name === "sent_at") return;
      if (typeof value === "string") fields.push([name, value]);
      else if (value && value.size) photos.push({name: name, file: value});
    });
    return {fields: fields, photos: photos};
  }

  // --- photos: downscaled on the phone before they are kept -----------------------------------

  function shrinkAll(photos) {
    return photos.reduce((done, p) => done.then((list) => shrink(p.file).then((blob) =>
      blob.arrayBuffer ? blob.arrayBuffer() : new Response(blob).arrayBuffer()).then((data) => {
      list.push({name: p.name, type: "image/jpeg", filename: jpegName(p.file.name), data: data});
      return list;
    })), Promise.resolve([]));
  }

  function jpegName(name) {
    return (name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
  }

  const decode = window.RoundsImages.decode;

  // Long edge at most 1600 px, JPEG ~0.85; a file the browser cannot decode is kept as it is (the
  // server decides, as it would online).
  function shrink(file) {
    return decode(file).then((img) => {
      const w = img.naturalWidth || img.width, h = img.naturalHeight || img.height;
      const scale = Math.min(1, LONG_EDGE / Math.max(w, h));
      const canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(w * scale));
      canvas.height = Math.max(1, Math.round(h * scale));
      canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
      if (img.close) img.close();
      return new Promise((resolve) => canvas.toBlob((blob) => resolve(blob || file), "image/jpeg", JPEG_QUALITY));
    }).then((blob) => (blob.size < file.size || file.type !== "image/jpeg" ? blob : file), () => file);
  }

  // --- answers: htmx requests of a checkpoint's items -----------------------------------------

  function pathOf(url) {
    try { return new URL(url, location.href).pathname; } catch (e) { return ""; }
  }

  function itemForm(elt) {
    return elt && elt.closest ? elt.closest("form.item") : null;
  }

  // Every answer carries an op id (made once per tap) and the phone's time of the tap; offline, or
  // with older changes still waiting, the tap is kept instead of sent.
  document.addEventListener("htmx:configRequest", (evt) => {
    const d = evt.detail;
    const path = pathOf(d.path);
    if (d.verb !== "post" || !ANSWER_PATH.test(path)) return;
    const form = itemForm(d.elt);
    const now = new Date().toISOString();
    d.parameters.op = newOp();
    d.parameters.answered_at = now;
    d.parameters.sent_at = now;  // with the server's receive time, the phone clock's skew
    let bytes = 0;
    d.formData.forEach((v) => { if (v && v.size) bytes += v.size; });
    d.timeout = patience(bytes);
    if (!form || !(shouldQueue())) return;
    evt.preventDefault();
    queueAnswer(form, d.formData, path);
  });

  // The request failed on the network or hung: keep it (same op: if it did reach the server, it counts
  // once).
  const failed = (evt) => {
    const cfg = evt.detail.requestConfig;
    if (!cfg || cfg.verb !== "post" || !ANSWER_PATH.test(pathOf(cfg.path))) return;
    const form = itemForm(cfg.elt);
    if (!form || !form.isConnected) return;
    evt.detail.queued = true;  // app.js then says nothing about "not saved"
    queueAnswer(form, cfg.formData, pathOf(cfg.path));
  };
  window.addEventListener("htmx:sendError", failed, true);
  window.addEventListener("htmx:timeout", failed, true);

  function shouldQueue() {
    return !navigator.onLine || (loaded && waitingCount() > 0);
  }

  function queueAnswer(form, formData, path) {
    const parts = split(formData);
    const result = (parts.fields.find((f) => f[0] === "result") || [])[1] || "";
    clearTold(form);
    const refusal = photoRefusal(form, result, parts.photos.length);
    if (refusal) {
      tellInForm(form, refusal);
      return;
    }
    const m = ANSWER_PATH.exec(path);
    const button = result && form.querySelector('.choice[value="' + result + '"]');
    const text = form.querySelector(".text");
    keep({
      op: String(formData.get("op") || newOp()), at: String(formData.get("answered_at") || new Date().toISOString()),
      seq: nextSeq(), user: USER, kind: "answer", url: path, round: m[1], form: form.id, page: location.pathname,
      fields: parts.fields, files: [], state: "waiting", tries: 0,
      label: (text ? text.textContent.trim() : "") + " · " +
        (button ? button.textContent.trim() : (parts.photos.length ? words.photo : words.note)),
    }, parts.photos);
    // The photos (and the originals of those drawn on: static/markup.js) are kept: the next tap must not
    // send them again.
    form.querySelectorAll("input[type=file]").forEach((input) => { input.value = ""; });
  }

  // The rule the server applies, from the page: failing an item that needs a photo needs one (sent
  // with this tap, already on the server, or waiting on the phone).
  function photoRefusal(form, result, photosNow) {
    const rule = form.dataset.photoRequired;
    if (!rule || result !== "fail" || photosNow) return null;
    if (form.querySelector(".thumbs:not(.queued) li")) return null;
    const queued = cache.some((e) => waiting(e) && e.form === form.id &&
                                     ((e.files && e.files.length) || (e.pending && e.pending.length)));
    return queued ? null : rule;
  }

  // "Mark the rest pass" with changes waiting or no signal: one pass per item not answered here.
  document.addEventListener("submit", (evt) => {
    const form = evt.target;
    if (!form.matches || !form.matches("form.pass-rest") || evt.defaultPrevented || !shouldQueue()) return;
    evt.preventDefault();
    document.querySelectorAll("form.item").forEach((item) => {
      if (item.classList.contains("answered") || !item.querySelector('.choice[value="pass"]')) return;
      const action = item.getAttribute("hx-post") || item.getAttribute("action");
      const fd = new FormData();
      fd.append("result", "pass");
      fd.append("op", newOp());
      fd.append("answered_at", new Date().toISOString());
      queueAnswer(item, fd, pathOf(action));
    });
    form.hidden = true;
  });

  // --- work-order actions: fetch online, queue offline or when the network fails ---------------

  document.addEventListener("submit", (evt) => {
    const form = evt.target;
    if (!form.matches || !form.matches("form[data-queue]") || evt.defaultPrevented) return;
    evt.preventDefault();
    const fd = new FormData(form);
    const op = newOp();
    clearTold(form);
    if (!navigator.onLine) { queueOrder(form, fd, op); return; }
    const button = form.querySelector("button:not([type=button])");
    if (button) button.disabled = true;
    fd.set("op", op);
    post(form.action, fd, {})
      .then((resp) => {
        if (isLogin(resp)) {  // the session ended: keep the change, log in, it is sent afterwards
          queueOrder(form, fd, op);
          return writes.then(() => location.assign(loginUrl()));
        }
        if (resp.ok && resp.redirected) return location.assign(resp.url);
        return showPage(resp.html);
      }, () => {
        if (button) button.disabled = false;
        queueOrder(form, fd, op);
      });
  });

  function queueOrder(form, fd, op) {
    const parts = split(fd);
    const note = (parts.fields.find((f) => f[0] === "note") || [])[1] || "";
    const rule = (form.dataset.photoRequired && !parts.photos.length && form.dataset.photoRequired) ||
                 (form.dataset.noteOrPhoto && !parts.photos.length && !note.trim() && form.dataset.noteOrPhoto);
    if (rule) { tellInForm(form, rule); return; }
    const button = form.querySelector("button:not([type=button])");
    const h1 = document.querySelector("main h1");
    keep({
      op: op, at: new Date().toISOString(), seq: nextSeq(), user: USER, kind: "order", url: pathOf(form.action),
      order: (ORDER_PATH.exec(pathOf(form.action)) || [])[1], form: form.id, page: location.pathname,
      fields: parts.fields, files: [], state: "waiting", tries: 0,
      label: (h1 ? h1.textContent.trim() : "") + " · " + (button ? button.textContent.trim() : ""),
    }, parts.photos);
    form.querySelectorAll("textarea").forEach((t) => { t.value = ""; });
    form.querySelectorAll("input[type=file]").forEach((input) => {
      input.value = "";
      input.dispatchEvent(new Event("change", {bubbles: true}));  // app.js empties the "photos chosen" line
    });
  }

  // A whole page the server answered (an order refused, or acknowledged) replaces this page's <main>.
  function showPage(html) {
    const doc = new DOMParser().parseFromString(html, "text/html");
    const fresh = doc.getElementById("main");
    const main = document.getElementById("main");
    if (!fresh || !main) { document.open(); document.write(html); document.close(); return; }
    if (doc.title) document.title = doc.title;
    const adopted = document.adoptNode(fresh);
    main.replaceWith(adopted);
    if (window.htmx) htmx.process(adopted);
    render();
    // As app.js does on a page load: the refusal in its form first (where the user acts), else any.
    const alert = adopted.querySelector(".refusal") || adopted.querySelector(".error[role=alert], .flash-error");
    if (alert && alert.textContent.trim()) {
      if (!alert.hasAttribute("tabindex")) alert.setAttribute("tabindex", "-1");
      alert.focus({preventScroll: true});
      alert.scrollIntoView({block: "center"});
    }
  }

  // --- telling the user in the form -------------------------------------------------------------

  function tellInForm(form, text) {
    let box = form.querySelector("p.qtold");
    if (!box) {
      box = document.createElement("p");
      box.className = "error qtold";
      box.setAttribute("role", "alert");
      box.setAttribute("tabindex", "-1");
      const anchor = form.querySelector(".choices") || form.querySelector("input[name=version]") || form.firstElementChild;
      anchor.insertAdjacentElement("afterend", box);
    }
    box.textContent = text;
    form.classList.add("has-error");
    box.focus({preventScroll: true});
    box.scrollIntoView({block: "center"});
  }

  function clearTold(form) {
    const box = form.querySelector("p.qtold");
    if (box) box.remove();
    const offline = form.querySelector("p.offline");
    if (offline) offline.hidden = true;
    if (!form.querySelector("p.error:not(.qtold)")) form.classList.remove("has-error");
  }

  // --- sending ----------------------------------------------------------------------------------

  // fetch, given up after patience(): a hanging request rejects as a lost network does.
  function post(url, fd, headers) {
    let bytes = 0;
    fd.forEach((v) => { bytes += v && v.size ? v.size : String(v).length; });
    const abort = window.AbortController ? new AbortController() : null;
    const timer = abort ? setTimeout(() => abort.abort(), patience(bytes)) : null;
    return fetch(url, {method: "POST", body: fd, headers: headers, credentials: "same-origin", redirect: "follow",
                       cache: "no-store", signal: abort ? abort.signal : undefined})
      .then((resp) => resp.text().then((html) => {
        clearTimeout(timer);
        resp.html = html;
        return resp;
      }), (err) => { clearTimeout(timer); throw err; });
  }

  function csrfToken() {
    try {
      const token = JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
      if (token) return token;
    } catch (e) { /* fall through */ }
    const input = document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  function loginUrl() {
    const url = new URL(words.loginUrl || "/login", location.href);
    url.searchParams.set("next", location.pathname + location.search);
    return url.toString();
  }

  function isLogin(resp) {
    return pathOf(resp.url) === pathOf(words.loginUrl || "/login");
  }

  // Send what waits, unless a run is under way or only a new login can help.
  function soon() {
    if (navigator.onLine && waitingCount() && !running && !problem.login) sync();
  }

  // One run at a time, also across the tabs of this browser where it has Web Locks.
  function sync() {
    if (running) return running;
    if (!navigator.onLine) { render(); return Promise.resolve(); }
    const run = () => writes.then(load).then(sendAll);
    const locked = navigator.locks && navigator.locks.request
      ? navigator.locks.request("rounds-outbox-send", {ifAvailable: true}, (lock) => (lock ? run() : null))
      : run();
    running = Promise.resolve(locked).catch(() => false).then((complete) => {
      running = null;
      render();
      if (complete) soon();  // changes made while it ran
    });
    render();
    return running;
  }

  // Send the waiting entries in order; true if it went through all of them.
  async function sendAll() {
    problem.login = problem.expired = problem.server = false;
    render();
    let todo = cache.filter(waiting);
    while (todo.length) {
      if (!navigator.onLine) return false;
      let entry = todo.shift();
      const later = todo.filter((e) => mergeable(entry, e));
      if (later.length) {
        entry = await merge(entry, later);
        todo = todo.filter((e) => later.indexOf(e) < 0);
      }
      const go = await sendOne(entry);
      render();
      if (!go) return false;
    }
    return true;
  }

  // An item's changes that never left the phone go as one: its photo and then Fail (or a note and then
  // Pass) are one request on a slow network, and the server cannot take the Fail for the older change
  // (the photo's upload time counts into the phone clock's skew it measures per request). Only entries
  // never sent are merged: one the server may have seen keeps its op and its content.
  const MAX_FILES = 10;  // the server's photos per request
  function mergeable(first, other) {
    return first.kind === "answer" && other.kind === "answer" && other.form === first.form &&
           !first.tries && !other.tries && other.url === first.url;
  }

  async function merge(first, later) {
    const group = [first];
    let files = (first.files || []).length;
    for (const e of later) {
      files += (e.files || []).length;
      if (files > MAX_FILES) break;
      group.push(e);
    }
    if (group.length === 1) return first;
    const last = group[group.length - 1];
    const fields = new Map();
    let label = first.label;
    group.forEach((e) => {
      e.fields.forEach((f) => { if (f[0] !== "result" || f[1]) fields.set(f[0], f[1]); });
      if (e.fields.some((f) => f[0] === "result" && f[1])) label = e.label;
    });
    const merged = Object.assign({}, last, {
      seq: first.seq, fields: Array.from(fields.entries()), label: label,
      files: group.reduce((all, e) => all.concat(e.files || []), []),
    });
    // Written under the last change's op before the others go: a phone that dies in between sends the
    // others again, which the server takes as the older changes they are.
    await save(merged);
    const gone = group.slice(0, -1).map((e) => e.op);
    await kv.delMany(gone, store);
    gone.forEach(revoke);
    for (let i = cache.length - 1; i >= 0; i--) if (gone.indexOf(cache[i].op) >= 0) cache.splice(i, 1);
    const i = cache.findIndex((e) => e.op === merged.op);
    if (i >= 0) cache[i] = merged;
    return merged;
  }

  // Send one entry; true to go on with the next.
  async function sendOne(entry) {
    const token = csrfToken();
    const fd = new FormData();
    entry.fields.forEach((f) => fd.append(f[0], f[0] === "version" ? currentVersion(entry, f[1]) : f[1]));
    (entry.files || []).forEach((f) => fd.append(f.name, new Blob([f.data], {type: f.type}), f.filename));
    fd.set("csrf_token", token);
    fd.set("op", entry.op);
    const headers = {"X-CSRFToken": token, "X-Rounds-Queue": "1"};
    if (entry.kind === "answer") {
      fd.set("answered_at", entry.at);
      fd.set("sent_at", new Date().toISOString());
      headers["HX-Request"] = "true";
      headers["HX-Current-URL"] = location.href;
    }
    if (!entry.tries) {  // kept, so a later run never merges a change the server may have seen
      entry.tries = 1;
      await save(entry);
    }
    let resp, html;
    try {
      resp = await post(entry.url, fd, headers);
      html = resp.html;
    } catch (e) {
      return false;  // no network (or it went in the middle): everything stays for the next run
    }
    if (resp.headers.get("HX-Redirect") || isLogin(resp)) { problem.login = true; return false; }
    if (resp.status === 400) { problem.expired = true; return false; }  // this page's token is stale
    if (resp.status >= 500 || resp.status === 429) { problem.server = true; return false; }
    const done = entry.kind === "answer" ? resp.status === 200 : resp.ok && resp.redirected;
    if (done) {
      await drop(entry);
      if (entry.kind === "answer") showAnswer(entry, html);
      else acknowledgedOrder(entry, html);
      return true;
    }
    const kept = find(entry.op) || entry;
    kept.state = "refused";
    kept.status = resp.status;
    kept.reason = reasonIn(html, resp.status);
    if (entry.kind === "answer" && (resp.status === 409 || resp.status === 422)) showAnswer(entry, html);
    await save(kept);
    return true;
  }

  // The server's reason: the refusal in its answer, else a plain word for the status.
  function reasonIn(html, status) {
    const doc = new DOMParser().parseFromString(html || "", "text/html");
    const found = doc.querySelector(".refusal") || doc.querySelector("p.error") ||
                  doc.querySelector("#error [role=alert]") || doc.querySelector("main [role=alert]");
    const text = found ? found.textContent.replace(/\s+/g, " ").trim() : "";
    return text || (status === 413 ? body.dataset.tooLarge : words.refused);
  }

  // Two actions queued on one order from the same page: the second was made on the state the first
  // leads to, so it carries the version the server gave the first (anyone else's change still shows).
  const versions = {};  // order id -> {from, to}
  function currentVersion(entry, version) {
    const seen = versions[entry.order];
    return seen && seen.from === version ? seen.to : version;
  }

  function acknowledgedOrder(entry, html) {
    const doc = new DOMParser().parseFromString(html, "text/html");
    const version = doc.querySelector("input[name=version]");
    const sent = (entry.fields.find((f) => f[0] === "version") || [])[1];
    if (version && sent) versions[entry.order] = {from: sent, to: version.value};
    const here = entry.page === location.pathname &&
      !cache.some((e) => waiting(e) && e.kind === "order" && e.page === location.pathname);
    if (here && !(document.activeElement && document.activeElement.closest("main form"))) showPage(html);
  }

  // The server's state of an item replaces the one on the page (with the progress counter), unless
  // the user is typing in it; changes still waiting are shown over it again by render().
  function showAnswer(entry, html) {
    const form = document.getElementById(entry.form);
    const typing = form && form.contains(document.activeElement) && document.activeElement.matches("textarea");
    if (form && !typing && window.htmx && htmx.swap && /<form[^>]+id="item-/.test(html)) {
      htmx.swap(form, html, {swapStyle: "outerHTML", swapDelay: 0, settleDelay: 0});
    } else if (!form) {
      const progress = document.getElementById("progress");
      const doc = new DOMParser().parseFromString(html, "text/html");
      const fresh = doc.getElementById("progress");
      if (progress && fresh) {
        fresh.removeAttribute("hx-swap-oob");
        progress.replaceWith(document.adoptNode(fresh));
      }
    }
  }

  // --- what the page shows ----------------------------------------------------------------------

  const count = bar.querySelector("[data-outbox-count]");
  const sendButton = bar.querySelector("[data-send-now]");
  const loginLink = bar.querySelector("[data-outbox-login]");
  const note = bar.querySelector("[data-outbox-note]");
  const refusedBox = document.getElementById("outbox-refused");

  function setText(el, text) {
    if (el && el.textContent !== text) el.textContent = text;
  }

  function render() {
    const n = waitingCount();
    const refused = cache.filter((e) => e.state === "refused");
    bar.hidden = !n;
    setText(count, n ? plural("waiting", n) : "");
    sendButton.disabled = !!running;
    setText(sendButton, running ? words.sending : words.sendNow);
    loginLink.hidden = !(problem.login && n);
    if (problem.login) {
      setText(loginLink, plural("login", n));
      loginLink.href = loginUrl();
    }
    const told = problem.expired ? words.expired : problem.server ? words.server : "";
    setText(note, told);
    note.hidden = !told;
    renderRefused(refused);
    document.querySelectorAll("form.item, form[data-queue]").forEach(decorate);
    renderFinish();
  }

  function renderRefused(refused) {
    if (!refusedBox) return;
    refusedBox.hidden = !refused.length;
    const list = refusedBox.querySelector("ul");
    const shown = Array.prototype.map.call(list.children, (li) => li.dataset.op).join(",");
    if (shown === refused.map((e) => e.op).join(",")) return;
    list.textContent = "";
    refused.forEach((e) => {
      const li = document.createElement("li");
      li.dataset.op = e.op;
      const what = document.createElement(e.page ? "a" : "p");
      what.className = "qwhat";
      what.textContent = e.label;
      if (e.page) what.href = e.page + (e.kind === "answer" ? "#" + e.form : "");
      const why = document.createElement("p");
      why.className = "error";
      why.id = "qwhy-" + e.op;
      why.textContent = e.reason;
      const dismiss = document.createElement("button");
      dismiss.type = "button";
      dismiss.className = "secondary";
      dismiss.dataset.dismiss = e.op;
      dismiss.textContent = words.dismiss;
      dismiss.setAttribute("aria-describedby", why.id);
      li.append(what, why, dismiss);
      list.appendChild(li);
    });
    const all = refusedBox.querySelector("[data-dismiss-all]");
    if (all) all.hidden = refused.length < 2;
  }

  // An item (or an order's action form) with changes on the phone: their state, and a mark.
  function decorate(form) {
    // (an item's id names its round's stop: unique; an order's action form is known by its page too)
    const mine = cache.filter((e) => e.form === form.id && (e.kind === "answer" || e.page === location.pathname));
    const pending = mine.filter(waiting);
    const refused = mine.filter((e) => e.state === "refused");
    form.classList.toggle("waiting", pending.length > 0);
    form.classList.toggle("refused", refused.length > 0);
    if (form.matches("form.item")) pending.forEach((e) => applyAnswer(form, e));
    mark(form, "qwait", pending.length ? words.mark : "");
    mark(form, "qrefused", refused.length ? words.notSent + " " + refused[refused.length - 1].reason : "");
    thumbs(form, pending);
  }

  function mark(form, cls, text) {
    let el = form.querySelector("p.qmark." + cls);
    if (!text) { if (el) el.remove(); return; }
    if (!el) {
      el = document.createElement("p");
      el.className = "qmark " + cls;
      // Below the answer buttons, never above them: a mark that appeared during a tap (a note's change
      // sent as the finger lands on Pass) would move the button away from under the finger.
      const anchor = form.querySelector(".choices") || form.querySelector("input[name=version]") || form.firstElementChild;
      anchor.insertAdjacentElement("afterend", el);
    }
    setText(el, text);
  }

  function applyAnswer(form, entry) {
    entry.fields.forEach((f) => {
      if (f[0] === "result" && f[1]) {
        form.classList.remove("result-pass", "result-fail", "result-na");
        form.classList.add("answered", "result-" + f[1]);
        form.querySelectorAll(".choice").forEach((b) => b.setAttribute("aria-pressed", String(b.value === f[1])));
      } else if (f[0] === "note") {
        const area = form.querySelector("textarea[name=note]");
        if (area && area !== document.activeElement && area.value !== f[1]) area.value = f[1];
      }
    });
  }

  // The photos waiting to be sent, shown from the phone (blob: URLs).
  function thumbs(form, pending) {
    const withPhotos = pending.filter((e) => (e.files && e.files.length) || (e.pending && e.pending.length));
    let list = form.querySelector("ul.thumbs.queued");
    if (!withPhotos.length) { if (list) list.remove(); return; }
    const key = withPhotos.map((e) => e.op + ":" + (e.files && e.files.length ? "f" : "p")).join(",");
    if (list && list.dataset.key === key) return;
    if (!list) {
      list = document.createElement("ul");
      list.className = "thumbs queued";
      const anchor = form.querySelector("ul.thumbs:not(.queued)") || form.querySelector("p.qmark") ||
                     form.querySelector(".choices") || form.firstElementChild;
      anchor.insertAdjacentElement("afterend", list);
    }
    list.dataset.key = key;
    list.textContent = "";
    withPhotos.forEach((e) => {
      revoke(e.op);
      const urls = (e.files && e.files.length)
        ? e.files.filter((f) => f.name !== "originals").map((f) => URL.createObjectURL(new Blob([f.data], {type: f.type})))
        : e.pending.filter((p) => p.name !== "originals").map((p) => URL.createObjectURL(p.file));
      previews.set(e.op, urls);
      urls.forEach((url) => {
        const li = document.createElement("li");
        const img = document.createElement("img");
        img.src = url;
        img.width = 72;
        img.height = 72;
        img.alt = words.photoWaiting;
        li.appendChild(img);
        list.appendChild(li);
      });
    });
  }

  function revoke(op) {
    (previews.get(op) || []).forEach((url) => URL.revokeObjectURL(url));
    previews.delete(op);
  }

  // --- finishing a round with changes still waiting ---------------------------------------------

  const finishForm = document.querySelector("form[data-finish-round]");
  const finishBox = document.getElementById("finish-waiting");

  function renderFinish() {
    if (!finishForm || !finishBox) return;
    const round = finishForm.dataset.finishRound;
    const n = waitingCount((e) => e.kind === "answer" && e.round === round);
    finishBox.hidden = !n;
    if (!n) return;
    const texts = finishForm.dataset;  // data-t-finish-*: the finish page's own words
    const say = (name) => ((n === 1 ? texts[name + "One"] : texts[name + "Many"]) || "").replace("{n}", String(n));
    setText(finishBox.querySelector("[data-finish-text]"), say("tFinishWaiting"));
    setText(finishBox.querySelector("[data-finish-anyway]"), say("tFinishAnyway"));
  }

  document.addEventListener("submit", (evt) => {
    if (!finishForm || evt.target !== finishForm) return;
    const round = finishForm.dataset.finishRound;
    const confirmed = finishForm.dataset.confirmed === "1";
    if (confirmed || !waitingCount((e) => e.kind === "answer" && e.round === round)) return;
    evt.preventDefault();  // refused until they are sent, or the loss is confirmed
    renderFinish();
    const text = finishBox.querySelector("[data-finish-text]");
    text.focus({preventScroll: true});
    finishBox.scrollIntoView({block: "center"});
  });

  // --- buttons ----------------------------------------------------------------------------------

  document.addEventListener("click", (evt) => {
    const t = evt.target.closest &&
      evt.target.closest("[data-send-now], [data-dismiss], [data-dismiss-all], [data-finish-anyway]");
    if (!t) return;
    if (t.hasAttribute("data-finish-anyway")) {
      if (finishForm) finishForm.dataset.confirmed = "1";  // told how many are lost, and confirmed
    } else if (t.hasAttribute("data-send-now")) {
      sync();
    } else {
      const ops = t.hasAttribute("data-dismiss-all")
        ? cache.filter((e) => e.state === "refused").map((e) => e.op) : [t.dataset.dismiss];
      Promise.all(cache.filter((e) => ops.indexOf(e.op) >= 0).map(drop)).then(render, render);
    }
  });

  // --- when to send -----------------------------------------------------------------------------

  function refresh() {
    if (running) { render(); return running; }  // the run reads the entries itself
    return writes.then(load).then(() => { render(); soon(); }, () => {});
  }

  window.addEventListener("online", () => { render(); sync(); });
  window.addEventListener("offline", render);
  window.addEventListener("pageshow", (evt) => { if (evt.persisted) refresh(); });
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") refresh(); });
  setInterval(() => { if (document.visibilityState === "visible") soon(); }, EVERY_MS);
  // Re-marked after htmx swaps an item in (an online answer while nothing waits clears nothing).
  document.addEventListener("htmx:load", (evt) => {
    const form = evt.detail.elt;
    if (form && form.matches && form.matches("form.item")) decorate(form);
  });
  refresh();

  // Tests and the benchmark read the queue through this (never needed by the pages themselves).
  window.RoundsQueue = {
    store: store, sync: sync, reload: refresh, entries: () => cache.slice(), loaded: () => loaded,
    idle: () => writes.then(() => running),
  };
})();
