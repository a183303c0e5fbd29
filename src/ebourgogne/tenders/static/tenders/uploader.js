// The bid's files: encrypted in the browser with age to the consultation's recipient, then uploaded in
// resumable chunks (docs/bids-protocol.md). Markup and texts: templates/tenders/_uploader.html.
//
// For each file picked: the ciphertext size is known before encrypting (age's STREAM format), so the file is
// announced at once (POST .../files), then encryption and upload run side by side:
// - with the Origin Private File System, encryption writes the ciphertext there, one file per protocol chunk
//   (the browser never holds more than a chunk or two), and the upload reads the chunks back as they come.
//   age encryption is randomised: only the ciphertext kept there lets an upload resume to the same bytes,
//   and so the same SHA-256, after the browser was closed. On return, every unfinished upload of the bid
//   whose ciphertext is here resumes from the server's offset (HEAD); one whose ciphertext is not (another
//   computer, or encryption cut short) says so and offers to pick the file again.
// - without it, encryption feeds the upload directly, a chunk or two ahead; a lost connection is still
//   resumed (the unacknowledged chunk is kept), a closed page is not.
// A Web Lock per upload keeps two tabs from sending the same file.
(function () {
  "use strict";
  var root = document.querySelector("[data-sealed-uploader]");
  var stringsElement = root && root.querySelector("[data-uploader-strings]");
  if (!root || !stringsElement || !window.ebSealed || !window.ebAge) { return; }
  var S = stringsElement.dataset;
  var Sealed = window.ebSealed;
  var lang = document.documentElement.lang || "fr";
  var csrf = (root.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
  var editable = root.dataset.editable === "true";
  var live = root.querySelector("[data-uploader-live]");
  var errorBox = root.querySelector("[data-uploader-error]");
  var recipient = root.dataset.recipient || "";
  var chunkSize = 8 * 1024 * 1024;
  var opfsAvailable = false;
  var jobs = {}; // upload id -> job
  var finishedHere = false; // a file completed during this visit
  var allReceived = root.querySelector("[data-all-received]");
  var RETRY_MAX_MS = 30000;
  var ACTIVE_MAX = 2; // files encrypted and sent at once; the others wait (memory, and one uplink anyway)
  var active = 0;
  var queue = [];
  var CHECKSUMS = true; // Upload-Checksum on every chunk (WebCrypto SHA-256: a few % of the time, see docs)

  root.querySelectorAll("[data-js-required]").forEach(function (element) { element.hidden = true; });

  function fill(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, function (match, key) { return key in values ? values[key] : match; });
  }
  function size(bytes) { return Sealed.formatSize(bytes, lang); }
  function sleep(ms) { return new Promise(function (resolve) { window.setTimeout(resolve, ms); }); }

  var lastAnnounce = "";
  function announce(text) {
    if (!live) { return; }
    lastAnnounce = text;
    live.textContent = "";
    window.setTimeout(function () { if (lastAnnounce === text) { live.textContent = text; } }, 50);
  }
  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }
  function messageOf(error) {
    if (error instanceof Sealed.HttpError) {
      return (error.body && (error.body.message || error.body.detail)) || error.message;
    }
    return S.unreachable;
  }

  // ---- Rows ---------------------------------------------------------------------------------------------

  function envelopeList(envelope) {
    return root.querySelector('[data-envelope="' + envelope + '"] [data-files]');
  }

  function button(text, label, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "button-secondary button";
    b.textContent = text;
    if (label) { b.setAttribute("aria-label", label); }
    b.addEventListener("click", onClick);
    return b;
  }

  function makeRow(file) {
    var list = envelopeList(file.envelope);
    var row = list.querySelector('[data-upload-id="' + file.upload_id + '"]');
    if (!row) {
      row = document.createElement("li");
      row.dataset.uploadId = file.upload_id;
      list.appendChild(row);
    }
    row.className = "sealed-file";
    row.replaceChildren();
    var name = document.createElement("span");
    name.className = "sealed-file-name";
    name.textContent = file.name;
    var status = document.createElement("span");
    status.className = "sealed-file-status";
    var bar = document.createElement("progress");
    bar.max = file.size;
    bar.value = file.offset || 0;
    bar.setAttribute("aria-label", fill(S.progressLabel, { name: file.name }));
    var error = document.createElement("span");
    error.className = "sealed-file-error";
    error.hidden = true;
    var actions = document.createElement("div");
    actions.className = "sealed-file-actions";
    row.append(name, status, bar, error, actions);
    return { row: row, status: status, bar: bar, error: error, actions: actions };
  }

  function setActions(job, buttons) {
    job.ui.actions.replaceChildren.apply(job.ui.actions, buttons);
  }

  function removeButton(job) {
    return button(S.remove, fill(S.removeLabel, { name: job.name }), function () { remove(job); });
  }

  function showComplete(job, sha256) {
    job.state = "complete";
    job.ui.bar.value = job.size;
    job.ui.bar.hidden = true;
    job.ui.error.hidden = true;
    job.ui.row.dataset.state = "complete";
    job.ui.status.textContent = fill(S.complete, { size: size(job.size), sha256: sha256 || "" });
    setActions(job, editable ? [removeButton(job)] : []);
  }

  function showFailure(job, message, withRetry) {
    job.state = "failed";
    job.ui.row.dataset.state = "failed";
    job.ui.error.hidden = false;
    job.ui.error.textContent = message;
    announce(fill(S.failed, { name: job.name, message: message }));
    var buttons = [];
    if (withRetry) {
      buttons.push(button(S.retry, fill(S.retryLabel, { name: job.name }), function () { resumeJob(job); }));
    }
    if (editable) { buttons.push(removeButton(job)); }
    setActions(job, buttons);
    changed();
  }

  function showProgress(job) {
    var sent = job.offset;
    job.ui.bar.value = sent;
    if (job.retrying) { return; } // keep "connection lost, retrying in N s" on screen
    var text;
    if (job.source && !job.source.done && job.encrypted < job.size) {
      text = fill(S.encrypting, { encrypted: Math.floor((100 * job.encrypted) / job.size), sent: size(sent), size: size(job.size) });
    } else {
      var rate = speed(job);
      text = rate > 0
        ? fill(S.uploading, { sent: size(sent), size: size(job.size), rate: size(rate), left: Sealed.formatDuration((job.size - sent) / rate) })
        : fill(S.uploadingNospeed, { sent: size(sent), size: size(job.size) });
    }
    job.ui.status.textContent = text;
  }

  // Bytes per second over the last 20 seconds of acknowledged chunks.
  function speed(job) {
    var now = performance.now();
    job.samples = job.samples.filter(function (s) { return now - s.t < 20000; });
    if (job.samples.length < 2) { return 0; }
    var first = job.samples[0];
    var last = job.samples[job.samples.length - 1];
    return last.t > first.t ? ((last.offset - first.offset) * 1000) / (last.t - first.t) : 0;
  }

  // ---- Pending count, deposit button ------------------------------------------------------------------

  function changed() {
    var pending = 0;
    var failed = 0;
    Object.keys(jobs).forEach(function (id) {
      var state = jobs[id].state;
      if (state === "uploading" || state === "encrypting") { pending += 1; }
      if (state === "failed" || state === "missing") { failed += 1; }
    });
    root.dataset.pending = String(pending);
    // The page's deposit control (a form or a link marked data-bid-deposit) waits for the uploads.
    document.querySelectorAll("[data-bid-deposit]").forEach(function (control) {
      var targets = control.matches("form") ? control.querySelectorAll("[type=submit]") : [control];
      targets.forEach(function (target) {
        if (target.tagName === "A") {
          if (pending > 0) { target.setAttribute("aria-disabled", "true"); } else { target.removeAttribute("aria-disabled"); }
        } else {
          target.disabled = pending > 0;
        }
      });
    });
    var complete = Object.keys(jobs).filter(function (id) { return jobs[id].state === "complete"; }).length;
    if (pending === 0 && failed === 0 && finishedHere && complete > 0) {
      // Every file arrived during this visit: the rest of the page (states, deposit) was made before.
      allReceived.hidden = false;
    } else {
      allReceived.hidden = true;
    }
    root.dispatchEvent(new CustomEvent("ebourgogne:uploads", { bubbles: true, detail: { pending: pending, failed: failed } }));
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-bid-deposit][aria-disabled=true]");
    if (link) { event.preventDefault(); }
  });

  window.addEventListener("beforeunload", function (event) {
    // Only what cannot be resumed: an encryption running, or an upload without a stored ciphertext.
    var atRisk = Object.keys(jobs).some(function (id) {
      var job = jobs[id];
      return (job.state === "uploading" || job.state === "encrypting") && job.source && (!job.source.done || !job.source.folder);
    });
    if (atRisk) { event.preventDefault(); event.returnValue = ""; }
  });

  // ---- Chunk sources ----------------------------------------------------------------------------------

  // Chunks of ciphertext as encryption makes them: stored in OPFS (folder) or kept in memory until sent.
  function Source(folder) {
    this.folder = folder;
    this.available = 0;
    this.done = false;
    this.failure = null;
    this.memory = new Map();
    this.waiters = [];
  }
  Source.prototype.notify = function () {
    var waiters = this.waiters;
    this.waiters = [];
    waiters.forEach(function (resolve) { resolve(); });
  };
  Source.prototype.until = async function (condition) {
    while (!condition()) {
      var self = this;
      await new Promise(function (resolve) { self.waiters.push(resolve); });
    }
  };
  Source.prototype.get = async function (index) {
    var self = this;
    await this.until(function () { return self.available > index || self.failure; });
    if (this.failure) { throw this.failure; }
    if (this.folder) { return Sealed.opfs.readChunk(this.folder, index); }
    var chunk = this.memory.get(index);
    if (!chunk) { throw new Sealed.HttpError(0, null, S.missingHere); }
    return chunk;
  };
  Source.prototype.release = function (below) {
    if (this.folder) { return; }
    var self = this;
    Array.from(this.memory.keys()).forEach(function (i) { if (i < below) { self.memory.delete(i); } });
    this.notify();
  };

  async function encryptInto(job, sealed) {
    var source = job.source;
    var index = 0;
    var seen = 0;
    var shown = 0;
    function progressed(bytes) {
      seen += bytes;
      job.encrypted = Math.min(job.size, seen);
      if (seen - shown >= 1024 * 1024) { shown = seen; showProgress(job); }
    }
    try {
      for await (var chunk of Sealed.chunks(sealed.stream, job.chunkSize, progressed)) {
        if (job.cancelled) { return; }
        if (source.folder) {
          await Sealed.opfs.writeChunk(source.folder, index, chunk);
        } else {
          source.memory.set(index, chunk);
          // Keep at most two chunks ahead of the upload.
          await source.until(function () { return source.memory.size < 2 || job.cancelled; });
        }
        index += 1;
        source.available = index;
        source.notify();
      }
      if (source.folder) {
        await Sealed.opfs.writeManifest(source.folder, {
          upload_id: job.id, url: job.url, size: job.size, chunk_size: job.chunkSize, chunks: index,
        });
      }
      source.done = true;
      source.notify();
    } catch (error) {
      source.failure = error;
      source.notify();
    }
  }

  // ---- Upload loop ------------------------------------------------------------------------------------

  function waitOnline(ms) {
    return new Promise(function (resolve) {
      var timer = window.setTimeout(done, ms);
      function done() {
        window.clearTimeout(timer);
        window.removeEventListener("online", done);
        resolve();
      }
      window.addEventListener("online", done);
    });
  }

  // The server's offset, asked until the server answers (the connection may be coming back).
  async function serverOffset(job, delay) {
    for (;;) {
      try {
        return (await Sealed.head(job.url, csrf)).offset;
      } catch (error) {
        if (error instanceof Sealed.HttpError && error.status > 0 && error.status < 500 && error.status !== 429) {
          throw error;
        }
        job.retrying = true;
        job.ui.status.textContent = fill(S.retrying, { seconds: Math.round(delay / 1000) });
        await waitOnline(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  async function upload(job) {
    var delay = 1000;
    var refusals = 0;
    job.state = "uploading";
    job.ui.row.dataset.state = "uploading";
    changed();
    showProgress(job);
    while (job.offset < job.size) {
      if (job.cancelled) { return; }
      var index = Math.floor(job.offset / job.chunkSize);
      var chunk;
      try {
        chunk = await job.source.get(index);
      } catch (error) {
        showFailure(job, error instanceof Sealed.HttpError ? error.message : String(error.message || error), false);
        return;
      }
      var body = chunk.subarray(job.offset - index * job.chunkSize);
      try {
        job.offset = await Sealed.patch(job.url, csrf, job.offset, body, CHECKSUMS);
        delay = 1000;
        refusals = 0;
        job.retrying = false;
        job.samples.push({ t: performance.now(), offset: job.offset });
        job.source.release(Math.floor(job.offset / job.chunkSize));
        showProgress(job);
      } catch (error) {
        if (job.cancelled) { return; }
        var retriable = !(error instanceof Sealed.HttpError) || error.status >= 500 || error.status === 429 ||
          error.code === "upload_busy" || error.code === "checksum_mismatch" || error.code === "truncated_chunk" ||
          error.code === "offset_mismatch";
        if (error instanceof Sealed.HttpError && error.code === "offset_mismatch" && typeof error.body.offset === "number") {
          job.offset = error.body.offset;
          continue;
        }
        // The server refused this chunk in a way worth retrying (busy, checksum, truncated): a few times only.
        if (error instanceof Sealed.HttpError && error.status < 500) {
          refusals += 1;
          if (refusals > 5) { retriable = false; }
        }
        if (!retriable) {
          showFailure(job, messageOf(error), error.status === 409 || error.status === 403);
          return;
        }
        job.retrying = true;
        job.ui.status.textContent = fill(S.retrying, { seconds: Math.round(delay / 1000) });
        await waitOnline(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
        try {
          job.offset = await serverOffset(job, delay);
        } catch (headError) {
          showFailure(job, messageOf(headError), true);
          return;
        }
      }
    }
    await finish(job);
  }

  async function finish(job) {
    var state = null;
    try {
      state = await Sealed.getJSON(job.url);
    } catch (error) {
      state = null;
    }
    showComplete(job, state && state.sha256);
    announce(fill(S.done, { name: job.name }));
    finishedHere = true;
    changed();
    if (state && state.sha256 && job.source && job.source.folder) {
      // The platform's SHA-256 against the ciphertext kept here: the bytes it holds are the ones encrypted.
      var local = null;
      try {
        local = await Sealed.opfs.sha256Hex(job.id);
      } catch (error) {
        return; // the copy was removed meanwhile (another tab): nothing to compare
      }
      if (!local) { return; }
      var note = document.createElement("span");
      note.className = "sealed-file-status";
      note.dataset.check = local === state.sha256 ? "same" : "different";
      note.textContent = local === state.sha256 ? S.verified : S.mismatch;
      job.ui.row.insertBefore(note, job.ui.actions);
    }
  }

  // Run `work` when fewer than ACTIVE_MAX files are in progress.
  async function slot(work) {
    if (active >= ACTIVE_MAX) { await new Promise(function (resolve) { queue.push(resolve); }); }
    active += 1;
    try {
      return await work();
    } finally {
      active -= 1;
      var next = queue.shift();
      if (next) { next(); }
    }
  }

  function lock(job, work) {
    if (!navigator.locks) { return work(); }
    return navigator.locks.request("ebourgogne-upload-" + job.id, { ifAvailable: true }, function (held) {
      if (!held) {
        job.state = "elsewhere";
        job.ui.status.textContent = S.otherTab;
        return null;
      }
      return work();
    });
  }

  function newJob(file, ui) {
    var job = {
      id: String(file.upload_id), url: file.url, name: file.name, envelope: file.envelope, size: file.size,
      offset: file.offset || 0, chunkSize: file.chunk_size || chunkSize, encrypted: 0, samples: [],
      state: "waiting", source: null, cancelled: false, ui: ui,
    };
    jobs[job.id] = job;
    return job;
  }

  // ---- Adding, resuming, removing ---------------------------------------------------------------------

  async function addFile(envelope, file, replacing) {
    if (!Sealed.isX25519Recipient(recipient)) { showError(S.noRecipient); return; }
    var sealed;
    try {
      sealed = await Sealed.encrypt(recipient, file.stream(), file.size);
    } catch (error) {
      showError(S.noStreams);
      return;
    }
    if (replacing) { await remove(replacing, true); }
    var announced;
    try {
      announced = await Sealed.sendJSON("POST", root.dataset.filesUrl, csrf, { envelope: envelope, name: file.name, size: sealed.size });
    } catch (error) {
      sealed.stream.cancel().catch(function () {});
      showError(fill(S.failed, { name: file.name, message: messageOf(error) }));
      announce(fill(S.failed, { name: file.name, message: messageOf(error) }));
      return;
    }
    showError("");
    var job = newJob(announced, makeRow(announced));
    var folder = null;
    if (opfsAvailable && (await Sealed.opfs.hasRoomFor(job.size))) {
      folder = await Sealed.opfs.folder(job.id, true);
    }
    job.source = new Source(folder);
    job.state = "encrypting";
    job.ui.status.textContent = S.waiting;
    setActions(job, editable ? [removeButton(job)] : []);
    changed();
    await slot(function () {
      if (job.cancelled) { return null; }
      announce(fill(S.started, { name: job.name }));
      return lock(job, function () {
        encryptInto(job, sealed);
        return upload(job);
      });
    });
  }

  async function resumeJob(job) {
    job.ui.error.hidden = true;
    job.ui.row.dataset.state = "uploading";
    setActions(job, editable ? [removeButton(job)] : []);
    job.ui.status.textContent = S.waiting;
    await slot(function () { return lock(job, async function () {
      try {
        job.offset = await serverOffset(job, 1000);
      } catch (error) {
        showFailure(job, messageOf(error), true);
        return;
      }
      if (job.offset > 0) { announce(fill(S.resumed, { name: job.name, sent: size(job.offset), size: size(job.size) })); }
      await upload(job);
    }); });
  }

  async function remove(job, quietly) {
    job.cancelled = true;
    if (job.source) { job.source.notify(); }
    try {
      await Sealed.sendJSON("DELETE", job.url, csrf);
    } catch (error) {
      if (!(error instanceof Sealed.HttpError && error.status === 404)) {
        job.cancelled = false;
        showFailure(job, messageOf(error), false);
        return;
      }
    }
    await Sealed.opfs.remove(job.id);
    delete jobs[job.id];
    job.ui.row.remove();
    if (!quietly) { announce(fill(S.removed, { name: job.name })); }
    changed();
  }

  function offerPickAgain(job) {
    job.state = "missing";
    job.ui.row.dataset.state = "missing";
    job.ui.error.hidden = false;
    job.ui.error.textContent = S.missingHere;
    job.ui.bar.hidden = true;
    var input = document.createElement("input");
    input.type = "file";
    input.hidden = true;
    input.addEventListener("change", function () {
      if (input.files && input.files[0]) { addFile(job.envelope, input.files[0], job); }
    });
    var again = button(S.pickAgain, fill(S.pickAgainLabel, { name: job.name }), function () { input.click(); });
    setActions(job, editable ? [again, removeButton(job), input] : []);
  }

  async function restore(file) {
    var ui = makeRow(file);
    var job = newJob(file, ui);
    if (file.state === "complete") {
      showComplete(job, file.sha256);
      await Sealed.opfs.remove(job.id); // delivered: the copy kept here is no longer needed
      return;
    }
    var folder = opfsAvailable ? await Sealed.opfs.folder(job.id, false) : null;
    var manifest = folder ? await Sealed.opfs.readManifest(folder) : null;
    if (!manifest || manifest.size !== file.size) {
      if (navigator.locks) {
        // Another tab may be encrypting this very file right now: leave it alone.
        var busy = await navigator.locks.request("ebourgogne-upload-" + job.id, { ifAvailable: true }, function (held) { return !held; });
        if (busy) { job.state = "elsewhere"; ui.status.textContent = S.otherTab; return; }
      }
      if (folder) { await Sealed.opfs.remove(job.id); }
      offerPickAgain(job);
      return;
    }
    job.chunkSize = manifest.chunk_size;
    job.source = new Source(folder);
    job.source.available = manifest.chunks;
    job.source.done = true;
    job.encrypted = job.size;
    await resumeJob(job);
  }

  function enablePicking() {
    root.querySelectorAll("[data-envelope]").forEach(function (fieldset) {
      var pick = fieldset.querySelector("[data-pick]");
      var input = fieldset.querySelector("[data-pick-input]");
      if (!pick || !input) { return; }
      pick.hidden = !editable;
      input.addEventListener("change", function () {
        var files = Array.from(input.files || []);
        input.value = "";
        files.forEach(function (file) { addFile(fieldset.dataset.envelope, file, null); });
      });
    });
  }

  async function start() {
    var streams = typeof ReadableStream === "function" && typeof TransformStream === "function" &&
      typeof Blob !== "undefined" && "stream" in Blob.prototype && window.crypto && window.crypto.subtle;
    if (!streams) { showError(S.noStreams); return; }
    opfsAvailable = await Sealed.opfs.available();
    root.querySelector("[data-no-opfs]").hidden = opfsAvailable;
    var bid;
    try {
      bid = await Sealed.getJSON(root.dataset.bidUrl);
    } catch (error) {
      showError(messageOf(error));
      return;
    }
    chunkSize = bid.chunk_size || chunkSize;
    editable = editable && bid.state === "draft";
    if (!recipient) {
      try {
        recipient = (await Sealed.getJSON(root.dataset.keyUrl)).recipient || "";
      } catch (error) {
        recipient = "";
      }
    }
    if (editable && !Sealed.isX25519Recipient(recipient)) { showError(S.noRecipient); editable = false; }
    enablePicking();
    if (editable) {
      // Files handed over by another script of the page (the vault picker, static/tenders/vault.js): encrypted
      // and uploaded exactly like files picked with the file input.
      root.addEventListener("ebourgogne:add-files", function (event) {
        var detail = event.detail || {};
        (detail.files || []).forEach(function (file) { addFile(detail.envelope, file, null); });
      });
    }
    root.dataset.canAdd = editable ? "true" : "false";
    root.dataset.ready = "true";
    root.dispatchEvent(new CustomEvent("ebourgogne:uploader-ready", { bubbles: true, detail: { editable: editable } }));
    await Promise.all((bid.files || []).map(restore));
    changed();
  }

  start();
})();
