/* The outbox, part 3: sending. One batch at a time over HTTP (photos first, then the edits), the server's answers
   stored, and backoff when there is no signal. */
(function (root, ob) {
  "use strict";
  var MAX_BATCH = 50, MAX_BATCH_BYTES = 256 * 1024;
  var BACKOFF_MIN = 1000, BACKOFF_MAX = 5 * 60 * 1000;
  var getOne = ob.getOne, all = ob.all, put = ob.put, setMeta = ob.setMeta, notify = ob.notify;
  var timer = null, flushing = null;

  function backoff(attempts) {
    var base = Math.min(BACKOFF_MAX, BACKOFF_MIN * Math.pow(2, Math.max(0, attempts - 1)));
    return Math.round(base * (0.5 + Math.random() / 2));
  }

  function soon(delay) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(function () { timer = null; flush(); }, delay || 0);
  }

  // now=true (the signal came back, the app was opened): records waiting out a backoff go at once
  function flush(now) {
    if (flushing) return flushing;
    flushing = (now ? retryNow() : Promise.resolve()).then(function () { return ob.withLock(sendAll); }).then(function (r) {
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
      }).then(function () {
        return ob.pruneReceipts()["catch"](function () { /* kept a while longer: the next batch prunes */ });
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
      return ob.write(["outbox", "receipts", "versions", "drafts"], function (tx) {
        tx.objectStore("outbox")["delete"](edit.edit_id);
        tx.objectStore("receipts").put(receipt);
        if (answer.status === "accepted") tx.objectStore("versions").put({ uuid: edit.uuid, version: answer.version, from_phone: true });
        var drafts = tx.objectStore("drafts");
        drafts.get(edit.uuid).onsuccess = function (e) {
          var d = e.target.result;
          // the draft goes only if nothing was typed after this edit was queued
          if (d && d.edit_id === edit.edit_id && d.state !== "draft") drafts["delete"](edit.uuid);
        };
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

  ob.flush = flush; ob.soon = soon;
})(self, self.VillageOutboxParts);
