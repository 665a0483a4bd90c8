/* The one uuid4 of the app: record ids made on the phone (app.js), edit ids and tab ids (the outbox). In both the
   page bundle and the outbox bundle, so the service worker (which loads only the outbox) has it too. */
(function (root) {
  "use strict";
  if (root.villageUuid4) return;  // a cadre's page loads both bundles: the first one defines it
  root.villageUuid4 = function () {
    var c = root.crypto || root.msCrypto;
    if (c.randomUUID) return c.randomUUID();  // absent in older browsers (WeChat's) and on plain http: the same by hand
    var b = new Uint8Array(16); c.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  };
})(self);
