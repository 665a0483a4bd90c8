/* The little script every page loads: registers the service worker, shows the offline bar,
   fills client-made record UUIDs (uuid4.js) and asks before destructive buttons. Needs nothing outside its bundle. */
(function () {
  "use strict";
  // 大字模式: one tap in the header makes all text about 1.4× larger; remembered on this phone
  var BIG = "villageapp-big-text";
  function bigText() { try { return localStorage.getItem(BIG) === "1"; } catch (e) { return false; } }
  document.documentElement.classList.toggle("big", bigText());  // before the first paint: no flash of small text
  function textSizeButton() {
    var btn = document.querySelector("[data-textsize]");
    if (!btn) return;
    function show() {
      var on = document.documentElement.classList.contains("big");
      btn.setAttribute("aria-pressed", on ? "true" : "false");
      btn.textContent = on ? "正常字" : "大字";
      btn.setAttribute("aria-label", on ? "大字模式已开，点一下回到正常字" : "大字模式：字放大");
    }
    btn.hidden = false;
    show();
    btn.addEventListener("click", function () {
      var on = !document.documentElement.classList.contains("big");
      document.documentElement.classList.toggle("big", on);
      try { localStorage.setItem(BIG, on ? "1" : "0"); } catch (e) { /* this page only */ }
      show();
      scrollBoxes();
    });
  }
  // where no service worker can run (WeChat on iPhone is one), a cadre is told once what that means and what to do
  var NO_WORKER_SEEN = "villageapp-no-worker-note";
  function noWorker() {
    document.documentElement.setAttribute("data-no-worker", "");
    var bar = document.getElementById("sync-bar");
    try { if (!bar || localStorage.getItem(NO_WORKER_SEEN)) return; } catch (e) { return; }
    var note = document.createElement("div");
    note.className = "offline-note"; note.id = "no-worker-note"; note.setAttribute("role", "note");
    var text = document.createElement("p");
    text.textContent = "这个浏览器不能把村务通的页面存在手机上：没信号时，已经打开的表格照样能填、能保存（有信号后自动发送），但打不开别的页面。" +
      "要在没信号的地方用：点右上角“…”，选“在浏览器打开”，再“添加到主屏幕”。";
    var ok = document.createElement("button");
    ok.type = "button"; ok.className = "button secondary"; ok.textContent = "知道了";
    ok.addEventListener("click", function () { note.remove(); });
    note.appendChild(text); note.appendChild(ok);
    bar.parentNode.insertBefore(note, bar.nextSibling);
    try { localStorage.setItem(NO_WORKER_SEEN, String(Date.now())); } catch (e) { /* shown again next time: harmless */ }
  }
  window.addEventListener("load", function () {
    if (!("serviceWorker" in navigator)) { noWorker(); return; }
    navigator.serviceWorker.register("/sw.js").then(function (reg) {
      if (!reg) noWorker();  // a browser that pretends (an in-app browser, a blocked worker) answers with nothing
    }, function (err) {
      // offline, a worker that is there already keeps working; only a browser that refuses workers gets the note
      if (!navigator.serviceWorker.controller && !(err && err.name === "TypeError" && navigator.onLine === false)) noWorker();
    });
  });
  // no service worker and no signal: a link would end on the browser's "no internet" page; say so and stay here
  document.addEventListener("click", function (e) {
    var a = e.target && e.target.closest ? e.target.closest("a[href]") : null;
    if (!a || e.defaultPrevented || navigator.onLine !== false || a.origin !== location.origin || a.hasAttribute("download") ||
        (a.getAttribute("href") || "").charAt(0) === "#") return;
    if (navigator.serviceWorker && navigator.serviceWorker.controller) return;  // the worker answers, with a kept copy or a note
    e.preventDefault();
    window.alert("现在没有信号，这一页打不开。已经保存的记录都在手机上，有信号后会自动发送。");
  });
  function showNet() {
    var bar = document.getElementById("offline-bar");
    if (bar) bar.hidden = navigator.onLine !== false;
  }
  window.addEventListener("online", showNet);
  window.addEventListener("offline", showNet);
  // coming back to a page with the Back button: its buttons work again
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(document.querySelectorAll("button[data-label]"), function (b) {
      b.disabled = false; b.textContent = b.getAttribute("data-label"); b.removeAttribute("data-label");
    });
  });
  // a table wider than the phone scrolls in its own box (first column stays, see base.css); a box that scrolls can be
  // reached and scrolled with the keyboard too
  function scrollBoxes() {
    Array.prototype.forEach.call(document.querySelectorAll("main table"), function (table) {
      if (table.closest(".scroll")) return;
      var box = document.createElement("div");
      box.className = "scroll";
      table.parentNode.insertBefore(box, table);
      box.appendChild(table);
    });
    Array.prototype.forEach.call(document.querySelectorAll(".scroll, .columns"), function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.tabIndex = 0; box.setAttribute("role", "region"); box.setAttribute("aria-label", "可以左右滑动查看");
      } else if (box.getAttribute("role") === "region") {
        box.removeAttribute("tabindex"); box.removeAttribute("role"); box.removeAttribute("aria-label");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    showNet();
    textSizeButton();
    scrollBoxes();
    window.addEventListener("resize", scrollBoxes);
    // buttons that once had inline handlers (a strict CSP forbids them): data-action="print" / "reload"
    Array.prototype.forEach.call(document.querySelectorAll("[data-action]"), function (btn) {
      var action = { print: function () { window.print(); }, reload: function () { location.reload(); } }[btn.getAttribute("data-action")];
      if (action) btn.addEventListener("click", action);
    });
    // a record's identity is made on the phone when the form opens; without JS the server makes one on POST
    Array.prototype.forEach.call(document.querySelectorAll("input[data-client-uuid]"), function (el) {
      if (!el.value) el.value = window.villageUuid4();  // uuid4.js, first in this bundle
    });
    // a file over the limit is refused before it is sent over a weak signal (the server checks again)
    Array.prototype.forEach.call(document.querySelectorAll("input[type=file][data-max-bytes]"), function (input) {
      input.addEventListener("change", function () {
        if (input.hasAttribute("data-photos") && window.VillageOutbox && window.indexedDB) return;  // forms.js shrinks these to ≤ 300 KB first
        var max = +input.getAttribute("data-max-bytes"), big = [];
        Array.prototype.forEach.call(input.files || [], function (f) { if (f.size > max) big.push(f.name); });
        var box = input.parentNode, msg = box.querySelector(".error.js-size");
        if (!msg) { msg = document.createElement("p"); msg.className = "error js-size"; msg.setAttribute("role", "alert"); box.appendChild(msg); }
        msg.textContent = big.length ? "“" + big.join("”“") + "”超过 " + Math.round(max / 1048576) + " MB，请换一个小一些的文件" : "";
        if (big.length) input.value = "";
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (f) {
      f.addEventListener("submit", function (e) { if (!window.confirm(f.getAttribute("data-confirm"))) e.preventDefault(); });
    });
    // a submitted form cannot be sent twice by a second tap; with no signal it is not sent at all,
    // so the page (and everything typed on it) stays instead of turning into the browser's error page
    Array.prototype.forEach.call(document.querySelectorAll("form"), function (f) {
      f.addEventListener("submit", function (e) {
        if (e.defaultPrevented) return;  // e.g. a confirm() answered 取消
        if (f.hasAttribute("data-sync-type") && window.VillageOutbox && window.indexedDB) return;  // forms.js saves it on the phone
        if (f.method.toLowerCase() === "post" && navigator.onLine === false) {
          e.preventDefault();
          var note = f.querySelector(".offline-note");
          if (!note) { note = document.createElement("p"); note.className = "offline-note"; note.setAttribute("role", "alert"); f.appendChild(note); }
          note.textContent = "现在没有网络，还没有发出去。您写的内容都还在这一页上，有信号后再点一次。";
          return;
        }
        var b = f.querySelector("button[type=submit], button:not([type])");
        if (b) setTimeout(function () { b.setAttribute("data-label", b.textContent); b.disabled = true; b.textContent = "正在提交…"; }, 0);
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-speak]"), function (btn) {
      btn.classList.remove("pending");
      if (!("speechSynthesis" in window)) { btn.hidden = true; return; }
      btn.addEventListener("click", function () {
        var el = document.getElementById(btn.getAttribute("data-speak"));
        speechSynthesis.cancel();
        var u = new SpeechSynthesisUtterance(el ? el.innerText : "");
        u.lang = "zh-CN"; u.rate = 0.9;
        speechSynthesis.speak(u);
      });
    });
  });
})();
