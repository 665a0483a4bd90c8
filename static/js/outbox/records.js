/* The outbox, part 4: drafts and the queue (what the forms save), and what the cadre sees of them. */
(function (root, ob) {
  "use strict";
  var all = ob.all, put = ob.put, meta = ob.meta, notify = ob.notify;

  // the order edits go in: by the time they were queued (unique within this page)
  var seq = 0;
  function nextSeq() { return Date.now() * 1000 + (seq++ % 1000); }

  function saveDraft(draft) {
    draft.updated_at = Date.now();
    if (!draft.state) draft.state = "draft";
    return put("drafts", draft).then(function (d) { askPersist(); notify("draft"); return d; });
  }

  function queue(draft) {
    // a record's edits go in order; each carries its own id so a re-send is recognised by the server
    var edit = {
      edit_id: root.villageUuid4(), uuid: draft.uuid, type: draft.type, village: draft.village, payload: draft.payload,
      base_version: draft.base_version == null || draft.base_version === "" ? null : Number(draft.base_version),
      files: draft.files || [], title: draft.title || "", url: draft.url || "", seq: nextSeq(),
      state: "queued", attempts: 0, next_try: 0, queued_at: Date.now()
    };
    draft.state = "queued"; draft.edit_id = edit.edit_id; draft.errors = null; draft.updated_at = Date.now();
    return ob.write(["drafts", "outbox"], function (tx) {
      tx.objectStore("drafts").put(draft);
      tx.objectStore("outbox").put(edit);
    }).then(function () { askPersist(); notify("queued"); registerSync(); ob.soon(300); return edit; });  // a burst of saves: one flush
  }

  // a fixed record is queued again as a new edit (a new edit_id: its content differs); the bad one is dropped
  function requeue(draft) {
    return (draft.edit_id ? ob.del("outbox", draft.edit_id) : Promise.resolve()).then(function () { return queue(draft); });
  }

  function askPersist() {
    if (root.navigator && navigator.storage && navigator.storage.persist) {
      meta("persist").then(function (asked) {
        if (asked) return;
        navigator.storage.persist().then(function (granted) { ob.setMeta("persist", granted ? "granted" : "refused"); notify("persist"); });
      });
    }
  }

  function registerSync() {
    if (root.navigator && navigator.serviceWorker && navigator.serviceWorker.ready) {
      navigator.serviceWorker.ready.then(function (reg) { if (reg.sync) return reg.sync.register("outbox"); })["catch"](function () { /* not offered: timers do it */ });
    }
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

  ob.nextSeq = nextSeq; ob.saveDraft = saveDraft; ob.queue = queue; ob.requeue = requeue; ob.status = status; ob.exportAll = exportAll;
})(self, self.VillageOutboxParts);
