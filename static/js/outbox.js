/* The phone's outbox: records saved on the phone (IndexedDB) and sent to the server one batch at a time,
   exactly once, whatever happens to the signal, the login or the app version. Runs in a page or in the
   service worker (no DOM here). Design: ../shared/SYNC.md. */
(function (root) {
  "use strict";
  var DB_NAME = "villageapp";
  var DB_VERSION = 1;           // bump with a new step in migrate(): stores are never dropped
  var MAX_BATCH = 50, MAX_BATCH_BYTES = 256 * 1024;
  var BACKOFF_MIN = 1000, BACKOFF_MAX = 5 * 60 * 1000;
  var LEASE_MS = 30000;
  var listeners = [], timer = null, flushing = null, heldLease = null;
  var channel = root.BroadcastChannel ? new BroadcastChannel("villageapp-outbox") : null;

  function uuid4() {
    if (root.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // ---- IndexedDB ------------------------------------------------------------------------
  function migrate(db, oldVersion) {
    if (oldVersion < 1) {
      db.createObjectStore("drafts", { keyPath: "uuid" });          // form state, saved on every input
      var out = db.createObjectStore("outbox", { keyPath: "edit_id" });  // edits waiting for the server
      out.createIndex("by_seq", "seq");
      var rec = db.createObjectStore("receipts", { keyPath: "edit_id" }); // the server's answers
      rec.createIndex("by_uuid", "uuid");
      db.createObjectStore("versions", { keyPath: "uuid" });        // the server version this phone last saw
      db.createObjectStore("files", { keyPath: "sha256" });         // photos, shrunk, waiting to go up
      db.createObjectStore("meta", { keyPath: "key" });             // last contact, login state, lease
    }
    // if (oldVersion < 2) { ...add stores or indexes; copy data forward; never delete a store with records... }
  }

  var dbPromise = null;
  function open() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB_NAME, DB_VERSION);
        req.onupgradeneeded = function (e) { migrate(req.result, e.oldVersion); };
        req.onsuccess = function () {
          var db = req.result;
          db.onversionchange = function () { db.close(); dbPromise = null; };  // a newer app version is migrating
          resolve(db);
        };
        req.onerror = function () { dbPromise = null; reject(req.error); };
        req.onblocked = function () { /* an old tab holds the db open; it closes on versionchange */ };
      });
    }
    return dbPromise;
  }

  function req(r) { return new Promise(function (res, rej) { r.onsuccess = function () { res(r.result); }; r.onerror = function () { rej(r.error); }; }); }
  function getOne(store, key) {
    return open().then(function (db) { return req(db.transaction([store], "readonly").objectStore(store).get(key)); });
  }
  function all(store) {
    return open().then(function (db) { return req(db.transaction([store], "readonly").objectStore(store).getAll()); });
  }
  function put(store, value) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction([store], "readwrite");
        tx.objectStore(store).put(value);
        tx.oncomplete = function () { resolve(value); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }
  function del(store, key) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction([store], "readwrite");
        tx.objectStore(store)["delete"](key);
        tx.oncomplete = function () { resolve(); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }
  function meta(key) { return getOne("meta", key).then(function (m) { return m ? m.value : undefined; }); }
  function setMeta(key, value) { return put("meta", { key: key, value: value }); }

  // ---- events ----------------------------------------------------------------------------
  function notify(what) {
    listeners.forEach(function (f) { try { f(what); } catch (e) { /* a listener's bug must not stop sending */ } });
    if (channel) channel.postMessage(what || "changed");
  }
  if (channel) channel.onmessage = function (e) {
    listeners.forEach(function (f) { try { f(e.data); } catch (err) { /* ignore */ } });
  };

  // ---- drafts and the queue ----------------------------------------------------------------
  function saveDraft(draft) {
    draft.updated_at = Date.now();
    if (!draft.state || draft.state === "sent") draft.state = "draft";
    return put("drafts", draft).then(function (d) { askPersist(); notify("draft"); return d; });
  }

  var seq = 0;
  function queue(draft) {
    // a record's edits go in order; each carries its own id so a re-send is recognised by the server
    var edit = {
      edit_id: uuid4(), uuid: draft.uuid, type: draft.type, village: draft.village, payload: draft.payload,
      base_version: draft.base_version == null || draft.base_version === "" ? null : Number(draft.base_version),
      files: draft.files || [], title: draft.title || "", url: draft.url || "", seq: Date.now() * 1000 + (seq++ % 1000),
      state: "queued", attempts: 0, next_try: 0, queued_at: Date.now()
    };
    draft.state = "queued"; draft.edit_id = edit.edit_id; draft.errors = null; draft.updated_at = Date.now();
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(["drafts", "outbox"], "readwrite");
        tx.objectStore("drafts").put(draft);
        tx.objectStore("outbox").put(edit);
        tx.oncomplete = function () { resolve(edit); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    }).then(function (e) { askPersist(); notify("queued"); registerSync(); soon(300); return e; });  // a burst of saves: one flush
  }

  function askPersist() {
    if (root.navigator && navigator.storage && navigator.storage.persist) {
      meta("persist").then(function (asked) {
        if (asked) return;
        navigator.storage.persist().then(function (granted) { setMeta("persist", granted ? "granted" : "refused"); notify("persist"); });
      });
    }
  }

  function registerSync() {
    if (root.navigator && navigator.serviceWorker && navigator.serviceWorker.ready) {
      navigator.serviceWorker.ready.then(function (reg) { if (reg.sync) return reg.sync.register("outbox"); })["catch"](function () { /* not offered: timers do it */ });
    }
  }

  // ---- sending ------------------------------------------------------------------------------
  function backoff(attempts) {
    var base = Math.min(BACKOFF_MAX, BACKOFF_MIN * Math.pow(2, Math.max(0, attempts - 1)));
    return Math.round(base * (0.5 + Math.random() / 2));
  }

  function soon(delay) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(function () { timer = null; flush(); }, delay || 0);
  }

  function withLock(fn) {
    if (root.navigator && navigator.locks && navigator.locks.request) {
      return navigator.locks.request("villageapp-outbox", { ifAvailable: true }, function (lock) {
        return lock ? fn() : "busy";   // another tab (or the worker) is sending: it sends everything
      });
    }
    // fallback: a lease in IndexedDB, taken in one transaction so two tabs cannot both hold it. The owner is the
    // tab (kept in sessionStorage), so the next page of a tab that left while sending takes its own lease back
    var me = tabId();
    heldLease = me;
    return open().then(function (db) {
      return new Promise(function (resolve) {
        var tx = db.transaction(["meta"], "readwrite"), store = tx.objectStore("meta"), got = false;
        store.get("lease").onsuccess = function (e) {
          var lease = e.target.result && e.target.result.value;
          if (!lease || lease.until < Date.now() || lease.owner === me) { store.put({ key: "lease", value: { owner: me, until: Date.now() + LEASE_MS } }); got = true; }
        };
        tx.oncomplete = function () { resolve(got); };
        tx.onerror = function () { resolve(false); };
      });
    }).then(function (got) {
      if (!got) { heldLease = null; return "busy"; }
      var release = function () { heldLease = null; return del("meta", "lease"); };
      return Promise.resolve(fn()).then(function (r) { return release().then(function () { return r; }); },
        function (err) { return release().then(function () { throw err; }); });
    });
  }

  var workerTab = null;
  function tabId() {
    try {
      var id = root.sessionStorage && sessionStorage.getItem("villageapp-tab");
      if (!id && root.sessionStorage) { id = uuid4(); sessionStorage.setItem("villageapp-tab", id); }
      if (id) return id;
    } catch (e) { /* storage blocked: one id for this page's life */ }
    return workerTab || (workerTab = uuid4());
  }

  // now=true (the signal came back, the app was opened): records waiting out a backoff go at once
  function flush(now) {
    if (flushing) return flushing;
    flushing = (now ? retryNow() : Promise.resolve()).then(function () { return withLock(sendAll); }).then(function (r) {
      flushing = null;
      if (r === "busy") soon(3000);  // another tab or the worker is sending; look again shortly
      return r;
    }, function () { flushing = null; notify("error"); soon(backoff(3)); return "error"; });
    return flushing;
  }

  function retryNow() {
    return all("outbox").then(function (edits) {
      return Promise.all(edits.filter(function (e) { return e.state === "waiting" && e.next_try > Date.now(); })
        .map(function (e) { e.next_try = 0; return put("outbox", e); }));
    });
  }

  function fetchJson(url, options) {
    options = options || {};
    options.credentials = "same-origin";
    options.headers = Object.assign({ "Accept": "application/json" }, options.headers || {});
    return fetch(url, options).then(function (response) {
      return response.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
        return { status: response.status, body: body };
      });
    });
  }

  function sendAll() {
    return all("outbox").then(function (edits) {
      if (!edits.length) return "empty";
      return fetchJson("/api/session").then(function (session) {
        if (session.status === 401) return pauseForLogin();
        if (session.status !== 200 || !session.body) throw new Error("session " + session.status);
        return setMeta("last_contact", Date.now()).then(function () { return setMeta("auth", "ok"); })
          .then(retryNow)  // the server answered: the backoff of tries that failed with no signal is over, whatever started this flush
          .then(function () { notify("contact"); return loop(session.body.csrf_token); });
      }, function () { return networkDown(edits); });
    });
  }

  function pauseForLogin() {
    return setMeta("auth", "needed").then(function () { notify("auth"); return "login"; });
  }

  function networkDown(edits) {
    // never trust navigator.onLine alone: a failed request is the signal
    var now = Date.now(), next = Infinity;
    return Promise.all(edits.map(function (e) {
      if (e.state === "needs_fix") return null;
      if (e.next_try > now) { next = Math.min(next, e.next_try); return null; }
      e.attempts += 1; e.state = "waiting"; e.next_try = now + backoff(e.attempts);
      next = Math.min(next, e.next_try);
      return put("outbox", e);
    })).then(function () {
      notify("offline");
      if (next < Infinity) soon(Math.max(0, next - Date.now()));
      return "offline";
    });
  }

  function nextBatch(edits) {
    var now = Date.now(), seen = {}, batch = [], bytes = 0, village = null, waitUntil = Infinity;
    edits.sort(function (a, b) { return a.seq - b.seq; });
    for (var i = 0; i < edits.length; i++) {
      var e = edits[i];
      if (seen[e.uuid]) continue;          // one edit per record per batch: the next waits for this answer
      seen[e.uuid] = true;
      if (e.state === "needs_fix") continue;
      if (e.next_try > now) { waitUntil = Math.min(waitUntil, e.next_try); continue; }
      if (village && e.village !== village) continue;
      var size = JSON.stringify(e.payload).length;
      if (batch.length && (batch.length >= MAX_BATCH || bytes + size > MAX_BATCH_BYTES)) break;
      village = e.village; batch.push(e); bytes += size;
    }
    return { batch: batch, waitUntil: waitUntil };
  }

  function baseFor(edit) {
    if (edit.sent_base !== undefined) return Promise.resolve(edit.sent_base);  // a retry sends exactly the same edit
    return getOne("versions", edit.uuid).then(function (v) {
      // an earlier edit of this phone was accepted: build on the version it made
      var base = v && (edit.base_version == null || v.version > edit.base_version) && v.from_phone ? v.version : edit.base_version;
      edit.sent_base = base == null ? null : base;
      return put("outbox", edit).then(function () { return edit.sent_base; });
    });
  }

  function loop(csrf, csrfRetried) {
    return all("outbox").then(function (edits) {
      var pick = nextBatch(edits);
      if (!pick.batch.length) {
        if (pick.waitUntil < Infinity) soon(Math.max(0, pick.waitUntil - Date.now()));
        return "done";
      }
      return Promise.all(pick.batch.map(function (e) { e.state = "sending"; return baseFor(e).then(function () { return put("outbox", e); }); }))
        .then(function () { notify("sending"); return uploadFiles(pick.batch, csrf); })
        .then(function (ready) { return ready.length ? post(ready, csrf) : "files"; })
        .then(function (r) {
          if (r === "login" || r === "offline") return r;
          if (r !== "csrf") return loop(csrf, false);
          // the token was refused: ask for a new one once; refused again, the batch waits out a backoff
          if (csrfRetried) return backOff(pick.batch, "服务器没有接受这次发送（页面令牌），稍后自动再试").then(function () { return "csrf"; });
          return fetchJson("/api/session").then(function (session) {
            if (session.status === 401) return pauseForLogin();
            if (session.status !== 200 || !session.body) return backOff(pick.batch, "服务器答复 " + session.status).then(function () { return "csrf"; });
            return loop(session.body.csrf_token, true);
          }, function () { return networkDown(pick.batch); });
        });
    });
  }

  function backOff(batch, message) {
    var next = Infinity;
    return Promise.all(batch.map(function (e) {
      e.attempts += 1; e.state = "waiting"; e.last_error = message; e.next_try = Date.now() + backoff(e.attempts);
      next = Math.min(next, e.next_try);
      return put("outbox", e);
    })).then(function () { notify("waiting"); soon(Math.max(0, next - Date.now())); });
  }

  function uploadFiles(batch, csrf) {
    // each photo goes up on its own, before the record that lists it; one already there is skipped
    var ready = [];
    return batch.reduce(function (p, edit) {
      return p.then(function () {
        return (edit.files || []).reduce(function (q, sha) {
          return q.then(function (ok) {
            if (!ok) return false;
            return getOne("files", sha).then(function (f) {
              if (!f || f.uploaded) return true;
              var url = "/api/v/" + edit.village + "/files/" + sha;
              return fetch(url, { method: "HEAD", credentials: "same-origin" }).then(function (head) {
                if (head.status === 200) return true;
                if (head.status === 401) throw { login: true };
                return fetch(url, { method: "PUT", credentials: "same-origin", body: f.blob,
                  headers: { "Content-Type": f.type || "image/jpeg", "X-CSRFToken": csrf } }).then(function (r) {
                  if (r.status === 401) throw { login: true };
                  return r.ok;
                });
              }).then(function (done) {
                if (!done) return false;
                f.uploaded = true;
                return put("files", f).then(function () { notify("file"); return true; });
              });
            });
          });
        }, Promise.resolve(true)).then(function (ok) {
          if (ok) ready.push(edit);
          else { edit.attempts += 1; edit.state = "waiting"; edit.next_try = Date.now() + backoff(edit.attempts); return put("outbox", edit); }
        });
      });
    }, Promise.resolve()).then(function () { return ready; }, function (err) {
      if (err && err.login) return pauseForLogin().then(function () { return []; });
      return networkDown(batch).then(function () { return []; });
    });
  }

  function post(batch, csrf) {
    var village = batch[0].village;
    var body = { edits: batch.map(function (e) {
      return { edit_id: e.edit_id, uuid: e.uuid, type: e.type, base_version: e.sent_base, payload: e.payload };
    }) };
    return fetchJson("/api/v/" + village + "/edits", {
      method: "POST", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }
    }).then(function (res) {
      if (res.status === 401) return batchBack(batch).then(pauseForLogin);
      if (res.status === 400 && res.body && /刷新|CSRF/i.test(res.body.error || "")) return batchBack(batch).then(function () { return "csrf"; });
      if (res.status !== 200 || !res.body || !res.body.results) {
        return Promise.all(batch.map(function (e) {
          return needsFix(e, (res.body && res.body.error) || ("服务器答复 " + res.status), null);
        }));
      }
      return setMeta("last_contact", Date.now()).then(function () {
        return Promise.all(res.body.results.map(function (answer, i) { return settle(batch[i], answer); }));
      }).then(function () { notify("sent"); return "sent"; });
    }, function () { return networkDown(batch); });
  }

  function batchBack(batch) {
    return Promise.all(batch.map(function (e) { e.state = "waiting"; return put("outbox", e); }));
  }

  function settle(edit, answer) {
    if (answer.status === "accepted" || answer.status === "conflict" || answer.status === "needs_review") {
      var receipt = { edit_id: edit.edit_id, uuid: edit.uuid, type: edit.type, village: edit.village, title: edit.title,
        url: edit.url, status: answer.status, receipt: answer.receipt, version: answer.version, at: Date.now(),
        files: (edit.files || []).length };
      return open().then(function (db) {
        return new Promise(function (resolve, reject) {
          var tx = db.transaction(["outbox", "receipts", "versions", "drafts"], "readwrite");
          tx.objectStore("outbox")["delete"](edit.edit_id);
          tx.objectStore("receipts").put(receipt);
          if (answer.status === "accepted") tx.objectStore("versions").put({ uuid: edit.uuid, version: answer.version, from_phone: true });
          var drafts = tx.objectStore("drafts");
          drafts.get(edit.uuid).onsuccess = function (e) {
            var d = e.target.result;
            // the draft goes only if nothing was typed after this edit was queued
            if (d && d.edit_id === edit.edit_id && d.state !== "draft") drafts["delete"](edit.uuid);
          };
          tx.oncomplete = function () { resolve(); };
          tx.onerror = tx.onabort = function () { reject(tx.error); };
        });
      });
    }
    return needsFix(edit, answer.error || (answer.status === "invalid" ? "有内容需要改一下" : "发送没有成功"), answer.errors || null);
  }

  function needsFix(edit, message, errors) {
    edit.state = "needs_fix"; edit.last_error = message; edit.errors = errors;
    return put("outbox", edit).then(function () {
      return getOne("drafts", edit.uuid).then(function (d) {
        if (!d) d = { uuid: edit.uuid, type: edit.type, village: edit.village, payload: edit.payload, base_version: edit.base_version,
          title: edit.title, url: edit.url, files: edit.files };
        d.state = "needs_fix"; d.errors = errors; d.last_error = message; d.edit_id = edit.edit_id;
        return put("drafts", d);
      });
    });
  }

  // a fixed record is queued again as a new edit (a new edit_id: its content differs); the bad one is dropped
  function requeue(draft) {
    return (draft.edit_id ? del("outbox", draft.edit_id) : Promise.resolve()).then(function () { return queue(draft); });
  }

  // ---- what the cadre sees ----------------------------------------------------------------
  function status() {
    return Promise.all([all("outbox"), all("drafts"), meta("last_contact"), meta("auth"), meta("persist")]).then(function (r) {
      var outbox = r[0], drafts = r[1];
      return {
        unsent: outbox.length,
        sending: outbox.filter(function (e) { return e.state === "sending"; }).length,
        needsFix: outbox.filter(function (e) { return e.state === "needs_fix"; }).length,
        drafts: drafts.filter(function (d) { return d.state === "draft"; }).length,
        lastContact: r[2] || null, auth: r[3] || "ok", persist: r[4] || null
      };
    });
  }

  function exportAll() {
    return Promise.all([all("outbox"), all("drafts"), all("files")]).then(function (r) {
      return Promise.all(r[2].filter(function (f) { return !f.uploaded; }).map(function (f) {
        return new Promise(function (resolve) {
          var reader = new FileReader();
          reader.onload = function () { resolve({ sha256: f.sha256, type: f.type, village: f.village, data: reader.result }); };
          reader.readAsDataURL(f.blob);
        });
      })).then(function (files) {
        return { app: "villageapp", kind: "outbox-backup", version: 1, exported_at: new Date().toISOString(),
          outbox: r[0], drafts: r[1], files: files };
      });
    });
  }

  // ---- a backup file from another phone: nothing in it is trusted ----------------------------------
  var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  var SHA = /^[0-9a-f]{64}$/, VILLAGE = /^\d{12}$/, IMAGE = /^data:image\/(jpeg|png|webp);base64,[A-Za-z0-9+\/=]+$/;
  var STATES = { draft: 1, queued: 1, needs_fix: 1 };

  // a path of this site ("/v/…"), or "" for anything else (javascript:, //elsewhere, http://…)
  function safePath(url) {
    if (typeof url !== "string" || url.length > 500 || !/^\/(?![\/\\])/.test(url) || /[\u0000-\u001f\\]/.test(url)) return "";
    try {
      var origin = root.location.origin, u = new URL(url, origin);
      return u.origin === origin ? u.pathname + u.search : "";
    } catch (e) { return ""; }
  }
  function text(v, max) { return typeof v === "string" ? v.slice(0, max) : ""; }
  function cleanPairs(list) {
    if (!Array.isArray(list) || list.length > 2000) return null;
    var out = [];
    for (var i = 0; i < list.length; i++) {
      var p = list[i];
      if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== "string" || typeof p[1] !== "string") return null;
      out.push([p[0].slice(0, 100), p[1].slice(0, 20000)]);
    }
    return out;
  }
  function cleanHashes(list) {
    return Array.isArray(list) && list.every(function (h) { return typeof h === "string" && SHA.test(h); }) ? list.slice(0, 50) : null;
  }
  // the fields the app itself writes, checked one by one; null when the entry is not one of our records
  function cleanRecord(x, types) {
    if (!x || typeof x !== "object" || typeof x.uuid !== "string" || !UUID.test(x.uuid)) return null;
    if (typeof x.type !== "string" || types.indexOf(x.type) === -1 || typeof x.village !== "string" || !VILLAGE.test(x.village)) return null;
    var payload = cleanPairs(x.payload), files = cleanHashes(x.files || []);
    var base = x.base_version == null || x.base_version === "" ? null : x.base_version;
    if (!payload || !files || (base !== null && !(typeof base === "number" && Number.isSafeInteger(base) && base >= 0))) return null;
    return { uuid: x.uuid, type: x.type, village: x.village, payload: payload, files: files, base_version: base,
      title: text(x.title, 200), url: safePath(x.url) };
  }

  // a data: URL as a Blob, decoded here (fetch of data: is not allowed by the page's CSP)
  function dataBlob(url) {
    var comma = url.indexOf(","), bin = atob(url.slice(comma + 1)), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Blob([bytes], { type: url.slice(5, url.indexOf(";")) });
  }

  // types: the record types this server takes (the 待发送 page names them)
  function importBackup(data, types) {
    if (!data || typeof data !== "object" || data.kind !== "outbox-backup") return Promise.reject(new Error("这不是村务通的备份文件"));
    types = Array.isArray(types) ? types : [];
    var refused = 0, edits = [], drafts = [], files = [];
    (Array.isArray(data.outbox) ? data.outbox : []).forEach(function (e) {
      var r = cleanRecord(e, types);
      if (!r || typeof e.edit_id !== "string" || !UUID.test(e.edit_id)) { refused += 1; return; }
      // edits keep their edit_id, so a record already sent from the other phone is recognised, not doubled
      r.edit_id = e.edit_id; r.seq = Date.now() * 1000 + (seq++ % 1000); r.state = "queued"; r.attempts = 0; r.next_try = 0;
      r.queued_at = Date.now();
      if (e.sent_base === null || (typeof e.sent_base === "number" && Number.isSafeInteger(e.sent_base))) r.sent_base = e.sent_base;
      edits.push(r);
    });
    (Array.isArray(data.drafts) ? data.drafts : []).forEach(function (d) {
      var r = cleanRecord(d, types);
      if (!r) { refused += 1; return; }
      r.state = STATES[d.state] ? d.state : "draft"; r.updated_at = Date.now();
      if (typeof d.edit_id === "string" && UUID.test(d.edit_id)) r.edit_id = d.edit_id;
      drafts.push(r);
    });
    (Array.isArray(data.files) ? data.files : []).forEach(function (f) {
      if (!f || typeof f.sha256 !== "string" || !SHA.test(f.sha256) || typeof f.data !== "string" || !IMAGE.test(f.data) ||
          typeof f.village !== "string" || !VILLAGE.test(f.village)) { refused += 1; return; }
      files.push(f);
    });
    return Promise.all(files.map(function (f) {
      return put("files", { sha256: f.sha256, type: "image/" + IMAGE.exec(f.data)[1], village: f.village, blob: dataBlob(f.data), uploaded: false });
    })).then(function () {
      return Promise.all(edits.map(function (e) { return put("outbox", e); }));
    }).then(function () {
      return Promise.all(drafts.map(function (d) {
        return getOne("drafts", d.uuid).then(function (mine) { return mine ? null : put("drafts", d); });
      }));
    }).then(function () { notify("imported"); soon(); return { imported: edits.length, refused: refused }; });
  }

  // a page that goes away while holding the fallback lease gives it back, so other tabs need not wait it out
  if (root.addEventListener && root.document) root.addEventListener("pagehide", function () {
    if (!heldLease) return;
    var mine = heldLease;
    open().then(function (db) {
      var tx = db.transaction(["meta"], "readwrite"), store = tx.objectStore("meta");
      store.get("lease").onsuccess = function (e) {
        var lease = e.target.result && e.target.result.value;
        if (lease && lease.owner === mine) store["delete"]("lease");
      };
    });
  });

  root.VillageOutbox = {
    open: open, uuid4: uuid4, saveDraft: saveDraft, queue: queue, requeue: requeue, flush: flush, soon: soon,
    status: status, exportAll: exportAll, importBackup: importBackup, safePath: safePath,
    drafts: function () { return all("drafts"); }, draft: function (uuid) { return getOne("drafts", uuid); },
    deleteDraft: function (uuid) { return del("drafts", uuid).then(function () { notify("draft"); }); },
    outbox: function () { return all("outbox"); }, receipts: function () { return all("receipts"); },
    putFile: function (f) { return put("files", f); }, file: function (sha) { return getOne("files", sha); },
    onChange: function (f) { listeners.push(f); }, meta: meta, setMeta: setMeta
  };
})(typeof self !== "undefined" ? self : this);
