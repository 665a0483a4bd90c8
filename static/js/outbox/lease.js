/* The outbox, part 2: one sender at a time, across the tabs and the service worker (Web Locks where the browser
   has them, else a lease in IndexedDB). */
(function (root, ob) {
  "use strict";
  var LEASE_MS = 30000;
  var heldLease = null;

  // fn() runs only if nobody else is sending; "busy" if another tab (or the worker) is, and it sends everything
  function withLock(fn) {
    if (root.navigator && navigator.locks && navigator.locks.request) {
      return navigator.locks.request("villageapp-outbox", { ifAvailable: true }, function (lock) {
        return lock ? fn() : "busy";
      });
    }
    // fallback: a lease in IndexedDB, taken in one transaction so two tabs cannot both hold it. The owner is the
    // tab (kept in sessionStorage), so the next page of a tab that left while sending takes its own lease back
    var me = tabId();
    heldLease = me;
    return ob.open().then(function (db) {
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
      var release = function () { heldLease = null; return ob.del("meta", "lease"); };
      return Promise.resolve(fn()).then(function (r) { return release().then(function () { return r; }); },
        function (err) { return release().then(function () { throw err; }); });
    });
  }

  var workerTab = null;
  function tabId() {
    try {
      var id = root.sessionStorage && sessionStorage.getItem("villageapp-tab");
      if (!id && root.sessionStorage) { id = root.villageUuid4(); sessionStorage.setItem("villageapp-tab", id); }
      if (id) return id;
    } catch (e) { /* storage blocked: one id for this page's life */ }
    return workerTab || (workerTab = root.villageUuid4());
  }

  // a page that goes away while holding the fallback lease gives it back, so other tabs need not wait it out
  if (root.addEventListener && root.document) root.addEventListener("pagehide", function () {
    if (!heldLease) return;
    var mine = heldLease;
    ob.open().then(function (db) {
      var tx = db.transaction(["meta"], "readwrite"), store = tx.objectStore("meta");
      store.get("lease").onsuccess = function (e) {
        var lease = e.target.result && e.target.result.value;
        if (lease && lease.owner === mine) store["delete"]("lease");
      };
    });
  });

  ob.withLock = withLock;
})(self, self.VillageOutboxParts);
