/* The outbox, part 6: self.VillageOutbox, what the pages (forms.js) and the service worker use. */
(function (root, ob) {
  "use strict";
  root.VillageOutbox = {
    uuid4: root.villageUuid4, saveDraft: ob.saveDraft, queue: ob.queue, requeue: ob.requeue, flush: ob.flush,
    status: ob.status, exportAll: ob.exportAll, importBackup: ob.importBackup, safePath: ob.safePath,
    drafts: function () { return ob.all("drafts"); }, draft: function (uuid) { return ob.getOne("drafts", uuid); },
    outbox: function () { return ob.all("outbox"); }, receipts: function () { return ob.all("receipts"); },
    putFile: function (f) { return ob.put("files", f); }, file: function (sha) { return ob.getOne("files", sha); },
    onChange: ob.onChange, meta: ob.meta
  };
  delete root.VillageOutboxParts;  // the parts' shared internals: not for anyone else
})(self, self.VillageOutboxParts);
