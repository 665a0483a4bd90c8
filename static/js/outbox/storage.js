/* The phone's outbox: records saved on the phone (IndexedDB) and sent to the server one batch at a time,
   exactly once, whatever happens to the signal, the login or the app version. Runs in a page or in the
   service worker (no DOM here). Design: ../shared/SYNC.md.
   Its parts, joined in this order into one bundle (villageapp/assets.py):
     storage.js    IndexedDB and the change events
     lease.js      one sender at a time, across tabs and the service worker
     transport.js  sending: batches, photos, the server's answers, backoff
     records.js    drafts and the queue, and what the cadre sees of them
     backup.js     a backup file from another phone
     api.js        self.VillageOutbox
   The parts share self.VillageOutboxParts; api.js removes it once the public object is made. */
(function (root, ob) {
  "use strict";
  var DB_NAME = "villageapp";
  var DB_VERSION = 1;           // bump with a new step in migrate(): stores are never dropped
  var KEEP_RECEIPTS = 30;       // the 待发送 page lists the newest 30 receipts; nothing reads older ones

  // ---- IndexedDB ------------------------------------------------------------------------
  function migrate(db, oldVersion) {
    if (oldVersion < 1) {
      // a database made by an earlier app also has two indexes (outbox.by_seq, receipts.by_uuid): never read, so
      // harmless, and left there: a new version to drop them could not be opened by an old bundle a phone keeps offline
      db.createObjectStore("drafts", { keyPath: "uuid" });          // form state, saved on every input
      db.createObjectStore("outbox", { keyPath: "edit_id" });       // edits waiting for the server
      db.createObjectStore("receipts", { keyPath: "edit_id" });     // the server's answers (the newest KEEP_RECEIPTS)
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
  // one readwrite transaction over stores: fn(tx) makes the changes; resolves once they are all stored
  function write(stores, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(stores, "readwrite");
        fn(tx);
        tx.oncomplete = function () { resolve(); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }
  function put(store, value) {
    return write([store], function (tx) { tx.objectStore(store).put(value); }).then(function () { return value; });
  }
  function del(store, key) {
    return write([store], function (tx) { tx.objectStore(store)["delete"](key); });
  }
  function meta(key) { return getOne("meta", key).then(function (m) { return m ? m.value : undefined; }); }
  function setMeta(key, value) { return put("meta", { key: key, value: value }); }

  function pruneReceipts() {
    return write(["receipts"], function (tx) {
      var store = tx.objectStore("receipts");
      store.getAll().onsuccess = function (e) {
        e.target.result.sort(function (a, b) { return b.at - a.at; }).slice(KEEP_RECEIPTS)
          .forEach(function (r) { store["delete"](r.edit_id); });
      };
    });
  }

  // ---- events: this page's listeners, and the other tabs and the worker through a BroadcastChannel -------------
  var listeners = [];
  var channel = root.BroadcastChannel ? new BroadcastChannel("villageapp-outbox") : null;
  function notify(what) {
    listeners.forEach(function (f) { try { f(what); } catch (e) { /* a listener's bug must not stop sending */ } });
    if (channel) channel.postMessage(what || "changed");
  }
  if (channel) channel.onmessage = function (e) {
    listeners.forEach(function (f) { try { f(e.data); } catch (err) { /* ignore */ } });
  };
  function onChange(f) { listeners.push(f); }

  ob.open = open; ob.getOne = getOne; ob.all = all; ob.write = write; ob.put = put; ob.del = del;
  ob.meta = meta; ob.setMeta = setMeta; ob.pruneReceipts = pruneReceipts; ob.notify = notify; ob.onChange = onChange;
})(self, self.VillageOutboxParts = self.VillageOutboxParts || {});
