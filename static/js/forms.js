/* Forms that work offline (form[data-sync-type]): every change is saved on the phone as you type,
   保存 puts the record in the outbox, photos are shrunk and kept until sent; plus the sync bar on every
   cadre page and the 待发送 page. Needs outbox.js. Without JS the same forms post as plain HTML. */
(function () {
  "use strict";
  var OB = window.VillageOutbox;
  if (!OB || !window.indexedDB) return;
  var ENVELOPE = { csrf_token: 1, edit_id: 1, base_version: 1, uuid: 1 };
  var STATE_WORDS = { draft: "草稿", queued: "已存手机", waiting: "已存手机", sending: "发送中", needs_fix: "需处理",
    accepted: "已送达", conflict: "已送达 · 有冲突待定", needs_review: "已送达 · 待审核" };

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function hhmm(t) { var d = new Date(t); return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2); }
  // a value inside an attribute selector: names can come from a backup file or the server's answer
  function q(v) { return '"' + String(v).replace(/["\\]/g, "\\$&").replace(/[\n\r\f]/g, " ") + '"'; }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }

  // ---- form <-> [name, value] pairs ------------------------------------------------------------
  function pairs(form) {
    var out = [];
    new FormData(form).forEach(function (value, name) {
      if (!ENVELOPE[name] && typeof value === "string") out.push([name, value]);
    });
    return out;
  }

  var ENTRY = /^(.*)-(\d+)-[^-]+$/;   // agenda-2-title → list "agenda", entry 2
  function ensureEntry(form, prefix, index) {
    while (!form.querySelector("[name^=" + q(prefix + "-" + index + "-") + "]")) {
      var entries = $$("[data-entry=" + q(prefix) + "]", form);
      if (!entries.length) return false;
      var last = entries[entries.length - 1], m = null;
      $$("[name]", last).some(function (i) { m = i.name.slice(prefix.length + 1).match(/^(\d+)-/); return !!m; });
      if (!m) return false;
      var from = prefix + "-" + m[1] + "-", to = prefix + "-" + (Number(m[1]) + 1) + "-";
      var copy = last.cloneNode(true);
      [copy].concat($$("[name],[id],[for],[data-entry],[data-add-entry]", copy)).forEach(function (n) {
        ["name", "id", "for", "data-entry", "data-add-entry", "value"].forEach(function (a) {
          if (a === "value" && n.tagName !== "BUTTON") return;
          var v = n.getAttribute(a); if (v && v.indexOf(from) !== -1) n.setAttribute(a, v.split(from).join(to));
        });
        if (/^(INPUT|TEXTAREA)$/.test(n.tagName) && n.type !== "checkbox" && n.type !== "radio") n.value = "";
        if (n.type === "checkbox" || n.type === "radio") n.checked = false;
      });
      $$(".error", copy).forEach(function (e) { e.remove(); });
      var legend = copy.querySelector("legend");
      if (legend) legend.textContent = legend.textContent.replace(/\d+/, String(Number(m[1]) + 2));
      last.parentNode.insertBefore(copy, last.nextSibling);
    }
    return true;
  }

  function fill(form, list) {
    var values = {};
    list.forEach(function (p) { (values[p[0]] = values[p[0]] || []).push(p[1]); });
    Object.keys(values).forEach(function (name) {
      var m = name.match(ENTRY);
      if (m) ensureEntry(form, m[1], Number(m[2]));
    });
    $$("[name]", form).forEach(function (input) {
      var name = input.name;
      if (ENVELOPE[name] || input.type === "file" || name === "photos") return;
      var v = values[name] || [];
      if (input.type === "checkbox" || input.type === "radio") input.checked = v.indexOf(input.value) !== -1;
      else if (input.tagName === "SELECT" && input.multiple) $$("option", input).forEach(function (o) { o.selected = v.indexOf(o.value) !== -1; });
      else input.value = v.length ? v[0] : "";
    });
    (values.photos || []).forEach(function (sha) { addPhoto(form, sha); });
  }

  function showErrors(form, errors, message) {
    $$(".error.js-sync", form).forEach(function (e) { e.remove(); });
    var first = null;
    Object.keys(errors || {}).forEach(function (name) {
      var input = form.querySelector("[name=" + q(name) + "]");
      var box = input ? (input.closest(".field") || input.parentNode) : form;
      for (var fold = input && input.closest("details"); fold; fold = fold.parentNode.closest("details")) fold.open = true;  // a folded section with a mistake opens
      (errors[name] || []).forEach(function (msg) { var p = el("p", "error js-sync", msg); p.setAttribute("role", "alert"); box.appendChild(p); });
      if (box.classList) box.classList.add("has-error");
      if (!first && input) first = input;
    });
    var summary = el("p", "error-summary js-sync", "这条记录需要改一下才能发送：" + (message || "请看下面红字") + "。改好后再点保存。");
    form.insertBefore(summary, form.firstChild);
    if (first) { first.scrollIntoView({ block: "center" }); first.focus(); }
  }

  // ---- photos: shrunk on the phone (≤ 300 KB), named by their SHA-256 -----------------------------
  function shrink(file) {
    return new Promise(function (resolve, reject) {
      var img = new Image(), url = URL.createObjectURL(file);
      img.onload = function () {
        var scale = Math.min(1, 1600 / Math.max(img.naturalWidth, img.naturalHeight));
        var c = document.createElement("canvas");
        c.width = Math.round(img.naturalWidth * scale); c.height = Math.round(img.naturalHeight * scale);
        c.getContext("2d").drawImage(img, 0, 0, c.width, c.height);
        URL.revokeObjectURL(url);
        (function attempt(q) {
          c.toBlob(function (blob) {
            if (blob.size <= 300 * 1024 || c.width < 400) return resolve(blob);
            if (q > 0.35) return attempt(q - 0.1);
            // quality alone was not enough (a very detailed photo): fewer pixels, then try again
            var smaller = document.createElement("canvas");
            smaller.width = Math.round(c.width * 0.8); smaller.height = Math.round(c.height * 0.8);
            smaller.getContext("2d").drawImage(c, 0, 0, smaller.width, smaller.height);
            c = smaller;
            attempt(0.6);
          }, "image/jpeg", q);
        })(0.7);
      };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("这张照片打不开")); };
      img.src = url;
    });
  }
  function sha256(blob) {
    return blob.arrayBuffer().then(function (buf) { return crypto.subtle.digest("SHA-256", buf); }).then(function (h) {
      return Array.prototype.map.call(new Uint8Array(h), function (x) { return (x + 256).toString(16).slice(1); }).join("");
    });
  }
  function addPhoto(form, sha) {
    var list = $("[data-photo-list]", form);
    if (!list || list.querySelector("[value=" + q(sha) + "]")) return;
    var item = el("div", "photo");
    var hidden = el("input"); hidden.type = "hidden"; hidden.name = "photos"; hidden.value = sha;
    var img = el("img", "thumb"); img.alt = "照片";
    OB.file(sha).then(function (f) {
      img.src = f && f.blob ? URL.createObjectURL(f.blob) : "/v/" + form.getAttribute("data-village") + "/files/" + sha;
    });
    var remove = el("button", "link", "删掉这张"); remove.type = "button";
    remove.onclick = function () { item.remove(); form.dispatchEvent(new Event("change")); };
    item.appendChild(hidden); item.appendChild(img); item.appendChild(remove);
    list.appendChild(item);
  }
  function bindPhotos(form) {
    $$("input[type=file][data-photos]", form).forEach(function (input) {
      input.addEventListener("change", function () {
        var files = Array.prototype.slice.call(input.files || []);
        input.value = "";
        files.reduce(function (p, file) {
          return p.then(function () { return shrink(file); }).then(function (blob) {
            return sha256(blob).then(function (sha) {
              return OB.putFile({ sha256: sha, blob: blob, type: "image/jpeg", village: form.getAttribute("data-village"), uploaded: false })
                .then(function () { addPhoto(form, sha); });
            });
          });
        }, Promise.resolve()).then(function () { form.dispatchEvent(new Event("change")); }, function (err) { alert(err.message); });
      });
    });
  }

  // ---- one offline form -------------------------------------------------------------------------
  function bindForm(form) {
    var idInput = form.elements.uuid, editInput = form.elements.edit_id, baseInput = form.elements.base_version;
    if (!idInput) return;
    $$("[data-offline-risk]", form).forEach(function (n) { n.hidden = true; });  // this phone keeps what is typed here
    if (!idInput.value) idInput.value = OB.uuid4();
    if (editInput && !editInput.value) editInput.value = OB.uuid4();
    var isNew = !baseInput || !baseInput.value;
    var stateBox = $("[data-sync-state]", form);
    if (!stateBox) {  // the saved-on-the-phone line sits just above the main button
      stateBox = el("p", "meta"); stateBox.setAttribute("data-sync-state", ""); stateBox.setAttribute("role", "status");
      var buttons = $$("button[type=submit]:not([data-add-entry]), button:not([type]):not([data-add-entry])", form);
      var main = buttons[buttons.length - 1];
      if (main) main.parentNode.insertBefore(stateBox, main); else form.appendChild(stateBox);
    }
    var wanted = new URLSearchParams(location.search).get("draft");
    var timerId = null, current = null;

    function draftFromForm(state) {
      var list = pairs(form);
      return { uuid: idInput.value, type: form.getAttribute("data-sync-type"), village: form.getAttribute("data-village"),
        payload: list, base_version: baseInput && baseInput.value !== "" ? Number(baseInput.value) : null,
        files: list.filter(function (p) { return p[0] === "photos"; }).map(function (p) { return p[1]; }),
        title: titleOf(form), url: isNew ? location.pathname + "?draft=" + idInput.value : location.pathname,
        state: state || "draft", edit_id: current && current.edit_id };
    }
    function show(text) { stateBox.textContent = text; stateBox.className = "meta"; }
    function save() {
      if (isNew && !wanted) history.replaceState(history.state, "", location.pathname + "?draft=" + idInput.value);  // a reload reopens this draft
      return OB.saveDraft(draftFromForm("draft")).then(function (d) { current = d; show("草稿 · 已存手机 " + hhmm(d.updated_at)); });
    }

    bindPhotos(form);
    if (isNew && !wanted) {  // a form page kept offline was rendered days ago: "now" is now
      var d = new Date(), pad = function (n) { return ("0" + n).slice(-2); };
      $$('[data-now="date"]', form).forEach(function (i) { i.value = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); });
      // a meeting starts on the hour or the half hour: 14:24 proposes 14:00, 14:41 proposes 14:30 (not the second the page opened)
      $$('[data-now="time"]', form).forEach(function (i) { i.value = pad(d.getHours()) + ":" + (d.getMinutes() < 30 ? "00" : "30"); });
    }
    var load = wanted ? OB.draft(wanted) : OB.draft(idInput.value);
    load.then(function (d) {
      if (!d || d.type !== form.getAttribute("data-sync-type")) return;
      if (!wanted && baseInput && String(d.base_version) !== baseInput.value) return;
      current = d; idInput.value = d.uuid; fill(form, d.payload || []);
      if (d.state === "needs_fix") showErrors(form, d.errors, d.last_error);
      show((STATE_WORDS[d.state] || "草稿") + " · 手机上的内容，" + hhmm(d.updated_at) + " 保存");
    });
    ["input", "change"].forEach(function (type) {
      form.addEventListener(type, function () { clearTimeout(timerId); timerId = setTimeout(save, 300); });
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var adder = e.submitter && e.submitter.getAttribute("data-add-entry");
      if (adder) {  // "＋ 再加一个…": without JS the server adds the row; here the phone does, offline too
        var entries = $$("[data-entry=" + q(adder) + "]", form);
        ensureEntry(form, adder, entries.length);
        var added = $$("[data-entry=" + q(adder) + "]", form).pop();
        var first = added && added.querySelector("input, textarea, select");
        if (first) first.focus();
        save();
        return;
      }
      clearTimeout(timerId);
      var draft = draftFromForm("queued");
      (draft.edit_id ? OB.requeue(draft) : OB.queue(draft)).then(function (edit) {
        current = draft; current.edit_id = edit.edit_id;
        var next = "/outbox?saved=" + encodeURIComponent(draft.uuid);
        return canOpen(next).then(function (yes) {
          if (yes) { location.href = next; return; }
          // no service worker and no signal: 待发送 cannot load, so the answer is given here, on this page
          show("已存手机 " + hhmm(Date.now()) + "。有信号时会自动发送，不用再填一遍；打开村务通的任何一页也会接着发送。");
          stateBox.className = "offline-note";
          stateBox.scrollIntoView({ block: "center" });
        });
      }, function (err) { show("没有存上：" + err.message); });
    });
  }

  // a page opens if the service worker keeps a copy of it, or if the server answers now (a short look, not a download)
  function canOpen(path) {
    var worker = navigator.serviceWorker && navigator.serviceWorker.controller;
    var kept = worker && window.caches ? caches.open("forms-v1").then(function (c) { return c.match(path.split("?")[0]); })
      .then(function (r) { return !!r; }, function () { return false; }) : Promise.resolve(false);
    return kept.then(function (yes) { return yes || answersNow(path); });
  }
  function answersNow(path) {
    var timeout = new Promise(function (resolve) { setTimeout(function () { resolve(false); }, 4000); });
    var look = fetch(path, { method: "HEAD", credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok; }, function () { return false; });
    return Promise.race([look, timeout]);
  }

  // what the record is called in the 待发送 list: the form's own words (data-title), then the fields marked data-title-source
  function titleOf(form) {
    var parts = $$("[data-title-source]", form).map(function (i) {
      return i.tagName === "SELECT" ? (i.options[i.selectedIndex] || {}).text || "" : i.value;
    }).filter(Boolean);
    return [form.getAttribute("data-title") || document.title.split(" · ")[0]].concat(parts).join(" ");
  }

  // ---- the sync bar, the 待发送 page ---------------------------------------------------------------
  var lastStatus = null;
  function renderBar() {
    var bar = document.getElementById("sync-bar");
    OB.status().then(function (s) {
      lastStatus = s;
      if (!bar) return;
      bar.hidden = false;
      var contact = s.lastContact ? " · 上次联网 " + hhmm(s.lastContact) : "";
      var text, cls = "sync-bar";
      if (s.auth === "needed" && s.unsent) {
        clear(bar); bar.className = "sync-bar warn";
        bar.appendChild(document.createTextNode("登录已过期，" + s.unsent + " 条等着发送。"));
        var a = el("a", "", "请重新登录"); a.href = "/login?next=/outbox"; bar.appendChild(a);
        bar.appendChild(document.createTextNode("，登录后会自动接着发。"));
        return;
      }
      if (s.needsFix) { text = s.needsFix + " 条需处理 · " + (s.unsent - s.needsFix) + " 条待发送"; cls += " warn"; }
      else if (s.sending) text = "正在发送 " + s.sending + " 条…";
      else if (s.unsent) text = s.unsent + " 条待发送" + (navigator.onLine === false ? " · 离线" : "");
      else text = "全部已发送 ✓";
      bar.className = cls;
      clear(bar);
      var link = el("a", "", text + contact); link.href = "/outbox"; bar.appendChild(link);
      $$("[data-unsent-count]").forEach(function (n) { n.textContent = s.unsent ? s.unsent + " 条待发送" : "全部已发送"; });
    });
  }

  function renderOutboxPage() {
    var list = document.getElementById("outbox-list");
    if (!list) return;
    Promise.all([OB.drafts(), OB.outbox(), OB.receipts(), OB.status()]).then(function (r) {
      var drafts = r[0], edits = r[1], receipts = r[2], s = r[3], byUuid = {};
      edits.forEach(function (e) { byUuid[e.uuid] = e; });
      var rows = [];
      drafts.forEach(function (d) {
        var e = byUuid[d.uuid];
        rows.push({ title: d.title, url: d.url, state: d.state === "queued" && e ? e.state : d.state, error: d.last_error || (e && e.last_error),
          at: d.updated_at, files: d.files || [], uuid: d.uuid });
      });
      edits.forEach(function (e) {
        if (!drafts.some(function (d) { return d.uuid === e.uuid; })) rows.push({ title: e.title, url: e.url, state: e.state, error: e.last_error, at: e.queued_at, files: e.files || [], uuid: e.uuid });
      });
      receipts.sort(function (a, b) { return b.at - a.at; }).slice(0, 30).forEach(function (x) {
        rows.push({ title: x.title, url: x.url, state: x.status, receipt: x.receipt, at: x.at, files: [], done: true, uuid: x.uuid });
      });
      clear(list);
      if (!rows.length) list.appendChild(el("li", "card", "手机上没有要发送的记录。"));
      rows.forEach(function (row) {
        var li = el("li", "card" + (row.state === "needs_fix" ? " current" : ""));
        li.setAttribute("data-uuid", row.uuid);
        var a = el("a"), href = OB.safePath(row.url);
        if (href) a.href = href;
        var tag = el("span", "tag " + ({ needs_fix: "tag-open", accepted: "tag-done", conflict: "tag-notice", needs_review: "tag-notice", draft: "tag-off" }[row.state] || "tag-finance"),
          STATE_WORDS[row.state] || row.state);
        tag.setAttribute("data-state", row.state);
        a.appendChild(tag); a.appendChild(document.createTextNode(" " + (row.title || "（没有标题）")));
        li.appendChild(a);
        var meta = (row.receipt ? "回执 " + row.receipt + " · " : "") + hhmm(row.at);
        li.appendChild(el("p", "meta", meta));
        if (row.error && row.state === "needs_fix") li.appendChild(el("p", "error", row.error + "（点开改一下）"));
        if (row.files.length) {
          var p = el("p", "meta", "");
          Promise.all(row.files.map(OB.file)).then(function (fs) {
            var up = fs.filter(function (f) { return !f || f.uploaded; }).length;
            p.textContent = "照片 " + up + "/" + row.files.length + " 已上传";
          });
          li.appendChild(p);
        }
        list.appendChild(li);
      });
      var warn = document.getElementById("persist-warning");
      if (warn) warn.hidden = s.persist !== "refused";
    });
  }

  function download(data) {
    var blob = new Blob([JSON.stringify(data, null, 1)], { type: "application/json" });
    var a = el("a"); a.href = URL.createObjectURL(blob);
    a.download = "村务通-未发送-" + new Date().toISOString().slice(0, 16).replace(/[T:]/g, "-") + ".json";
    document.body.appendChild(a); a.click(); a.remove();
  }

  function bindOutboxPage() {
    var send = document.getElementById("send-now"), backup = document.getElementById("backup"), restore = document.getElementById("restore");
    if (send) send.onclick = function () { OB.flush(true).then(renderOutboxPage); };
    if (backup) backup.onclick = function () { OB.exportAll().then(download); };
    if (restore) restore.onchange = function () {
      var f = restore.files[0]; if (!f) return;
      var types = (restore.getAttribute("data-types") || "").split(/\s+/).filter(Boolean);
      restore.value = "";
      f.text().then(JSON.parse).then(function (data) { return OB.importBackup(data, types); }).then(function (r) {
        alert("导入了 " + r.imported + " 条待发送的记录" + (r.refused ? "；" + r.refused + " 条不是村务通的记录，没有导入" : ""));
        renderOutboxPage();
      }, function (err) { alert("导入没有成功：" + (err instanceof SyntaxError ? "文件内容不对" : err.message)); });
    };
  }

  function refresh() { renderBar(); renderOutboxPage(); }

  document.addEventListener("DOMContentLoaded", function () {
    $$("form[data-sync-type]").forEach(bindForm);
    bindOutboxPage();
    // logging out keeps unsent records on the phone (they go after the next login) but drops cached form pages
    $$("form[action='/logout']").forEach(function (f) {
      f.addEventListener("submit", function (e) {
        if (lastStatus && lastStatus.unsent && !window.confirm("还有 " + lastStatus.unsent + " 条没发送。退出后它们仍保存在这部手机上，下次登录后自动发送。确定退出？")) {
          e.preventDefault(); return;
        }
        if (window.caches) caches.delete("forms-v1");
        localStorage.removeItem("villageapp-warmed");
      });
    });
    OB.onChange(refresh);
    refresh();
    OB.flush(true).then(refresh);
    var warm = document.querySelector('meta[name="offline-pages"]');
    // keep the form pages on the phone: once per list of pages and at most every 6 hours (3G costs money)
    var stamp = warm && JSON.parse(localStorage.getItem("villageapp-warmed") || "{}");
    if (warm && (stamp.list !== warm.content || Date.now() - (stamp.at || 0) > 6 * 3600 * 1000) &&
        navigator.serviceWorker && navigator.serviceWorker.ready) {
      localStorage.setItem("villageapp-warmed", JSON.stringify({ list: warm.content, at: Date.now() }));
      navigator.serviceWorker.ready.then(function (reg) {
        if (reg.active) reg.active.postMessage({ warm: warm.content.split(/\s+/).filter(Boolean) });
      });
    }
  });
  window.addEventListener("online", function () { OB.flush(true).then(refresh); });
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") OB.flush(true).then(refresh); });
  if (navigator.serviceWorker) navigator.serviceWorker.addEventListener("message", function (e) { if (e.data === "flush") OB.flush(true).then(refresh); });
  setInterval(renderBar, 30000);
})();
