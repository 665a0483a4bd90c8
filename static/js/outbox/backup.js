/* The outbox, part 5: a backup file from another phone. Nothing in it is trusted. */
(function (root, ob) {
  "use strict";
  var put = ob.put;
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
      r.edit_id = e.edit_id; r.seq = ob.nextSeq(); r.state = "queued"; r.attempts = 0; r.next_try = 0;
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
        return ob.getOne("drafts", d.uuid).then(function (mine) { return mine ? null : put("drafts", d); });
      }));
    }).then(function () { ob.notify("imported"); ob.soon(); return { imported: edits.length, refused: refused }; });
  }

  ob.safePath = safePath; ob.importBackup = importBackup;
})(self, self.VillageOutboxParts);
