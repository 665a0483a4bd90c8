/* The little script every page loads: registers the service worker, shows the offline bar,
   fills client-made record UUIDs and asks before destructive buttons. No dependencies. */
(function () {
  "use strict";
  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js").catch(function () { /* works without it */ });
    });
  }
  function showNet() {
    var bar = document.getElementById("offline-bar");
    if (bar) bar.hidden = navigator.onLine !== false;
  }
  window.addEventListener("online", showNet);
  window.addEventListener("offline", showNet);
  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  // coming back to a page with the Back button: its buttons work again
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(document.querySelectorAll("button[data-label]"), function (b) {
      b.disabled = false; b.textContent = b.getAttribute("data-label"); b.removeAttribute("data-label");
    });
  });
  document.addEventListener("DOMContentLoaded", function () {
    showNet();
    // a record's identity is made on the phone when the form opens; without JS the server makes one on POST
    Array.prototype.forEach.call(document.querySelectorAll("input[data-client-uuid]"), function (el) {
      if (!el.value) el.value = uuid4();
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
      if (!("speechSynthesis" in window)) { btn.hidden = true; return; }
      btn.hidden = false;
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
