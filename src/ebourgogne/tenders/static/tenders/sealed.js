// Sealed bids in the browser: what the bid page (uploader.js) and the workstation test (workstation.js) share.
// Needs age.min.js (global ebAge) loaded before it. Exposes `window.ebSealed`:
// - isX25519Recipient(r): true for an age X25519 recipient ("age1" + 58 bech32 characters) and nothing else
//   (no post-quantum, tag or passphrase recipients: the protocol accepts exactly one X25519 stanza).
// - encrypt(recipient, readable, plainSize): {stream, size}: the age ciphertext as a stream (64 KiB records,
//   nothing held but the record being sealed) and its exact size, known before the first byte is encrypted.
// - chunks(stream, chunkSize, onData): an async iterator of Uint8Array of exactly chunkSize bytes (the last shorter):
//   the upload protocol's PATCH bodies.
// - opfs: the Origin Private File System store where the ciphertext waits for upload, one folder per
//   upload id, one file per chunk (each written and closed at once, so a chunk is there whole or not at all),
//   and manifest.json written when the whole file is encrypted.
// - patch/head/getJSON/sendJSON: the protocol's HTTP calls (docs/bids-protocol.md), errors as ebSealed.HttpError
//   carrying the server's JSON message.
// - formatSize, formatDuration, sha256Base64.
(function () {
  "use strict";

  var RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

  function isX25519Recipient(value) {
    return typeof value === "string" && RECIPIENT.test(value);
  }

  async function encrypt(recipient, readable, plainSize) {
    if (!isX25519Recipient(recipient)) {
      throw new Error("not an age X25519 recipient: " + recipient);
    }
    var encrypter = new window.ebAge.Encrypter();
    encrypter.addRecipient(recipient);
    var stream = await encrypter.encrypt(readable);
    return { stream: stream, size: stream.size(plainSize) };
  }

  async function* chunks(stream, chunkSize, onData) {
    var reader = stream.getReader();
    var buffer = new Uint8Array(chunkSize);
    var used = 0;
    try {
      for (;;) {
        var next = await reader.read();
        if (next.done) { break; }
        var data = next.value;
        if (onData) { onData(data.length); }
        while (data.length > 0) {
          var n = Math.min(chunkSize - used, data.length);
          buffer.set(data.subarray(0, n), used);
          used += n;
          data = data.subarray(n);
          if (used === chunkSize) {
            yield buffer;
            buffer = new Uint8Array(chunkSize);
            used = 0;
          }
        }
      }
      if (used > 0) { yield buffer.subarray(0, used); }
    } finally {
      reader.releaseLock();
    }
  }

  // ---- Origin Private File System ------------------------------------------------------------------

  var ROOT = "ebourgogne-uploads";

  async function opfsRoot() {
    if (!navigator.storage || !navigator.storage.getDirectory) { return null; }
    if (typeof FileSystemFileHandle === "undefined" || !("createWritable" in FileSystemFileHandle.prototype)) {
      return null;
    }
    try {
      var root = await navigator.storage.getDirectory();
      return await root.getDirectoryHandle(ROOT, { create: true });
    } catch (error) {
      return null; // private browsing, storage disabled by policy...
    }
  }

  function chunkName(index) {
    return "c" + String(index).padStart(7, "0");
  }

  var opfs = {
    available: async function () {
      return (await opfsRoot()) !== null;
    },
    // Room left for `bytes` more (the browser's quota for this site, minus what it already uses).
    hasRoomFor: async function (bytes) {
      if (!navigator.storage || !navigator.storage.estimate) { return true; }
      try {
        var estimate = await navigator.storage.estimate();
        return estimate.quota - estimate.usage > bytes + 64 * 1024 * 1024;
      } catch (error) {
        return true;
      }
    },
    folder: async function (uploadId, create) {
      var root = await opfsRoot();
      if (!root) { return null; }
      try {
        return await root.getDirectoryHandle(uploadId, { create: !!create });
      } catch (error) {
        return null;
      }
    },
    writeChunk: async function (folder, index, bytes) {
      var handle = await folder.getFileHandle(chunkName(index), { create: true });
      var writable = await handle.createWritable();
      await writable.write(bytes);
      await writable.close();
    },
    readChunk: async function (folder, index) {
      var handle = await folder.getFileHandle(chunkName(index));
      return new Uint8Array(await (await handle.getFile()).arrayBuffer());
    },
    writeManifest: async function (folder, manifest) {
      var handle = await folder.getFileHandle("manifest.json", { create: true });
      var writable = await handle.createWritable();
      await writable.write(JSON.stringify(manifest));
      await writable.close();
    },
    // The manifest of a fully encrypted file, or null (encryption not finished, or nothing here).
    readManifest: async function (folder) {
      try {
        var handle = await folder.getFileHandle("manifest.json");
        return JSON.parse(await (await handle.getFile()).text());
      } catch (error) {
        return null;
      }
    },
    list: async function () {
      var root = await opfsRoot();
      var names = [];
      if (!root) { return names; }
      for await (var entry of root.values()) {
        if (entry.kind === "directory") { names.push(entry.name); }
      }
      return names;
    },
    remove: async function (uploadId) {
      var root = await opfsRoot();
      if (!root) { return; }
      try {
        await root.removeEntry(uploadId, { recursive: true });
      } catch (error) {
        /* already gone */
      }
    },
    // SHA-256 (hex) of the stored ciphertext, chunk after chunk: what the server must have computed.
    sha256Hex: async function (uploadId) {
      var folder = await opfs.folder(uploadId, false);
      var manifest = folder && (await opfs.readManifest(folder));
      if (!manifest) { return null; }
      var hash = window.ebAge.sha256.create();
      for (var i = 0; i < manifest.chunks; i++) {
        hash.update(await opfs.readChunk(folder, i));
      }
      return Array.from(hash.digest(), function (b) { return b.toString(16).padStart(2, "0"); }).join("");
    },
  };

  // ---- HTTP -------------------------------------------------------------------------------------------

  function HttpError(status, body, fallback) {
    this.name = "HttpError";
    this.status = status;
    this.code = (body && body.code) || "";
    this.body = body || {};
    this.message = (body && (body.detail || body.message)) || fallback || "HTTP " + status;
  }
  HttpError.prototype = Object.create(Error.prototype);

  async function errorFrom(response, fallback) {
    var body = null;
    try {
      body = await response.json();
    } catch (error) {
      body = null;
    }
    return new HttpError(response.status, body, fallback);
  }

  function headers(csrf, extra) {
    var result = { Accept: "application/json" };
    if (csrf) { result["X-CSRFToken"] = csrf; }
    return Object.assign(result, extra || {});
  }

  async function getJSON(url) {
    var response = await fetch(url, { headers: headers(null), credentials: "same-origin", cache: "no-store" });
    if (!response.ok) { throw await errorFrom(response); }
    return response.json();
  }

  async function sendJSON(method, url, csrf, body) {
    var response = await fetch(url, {
      method: method,
      headers: headers(csrf, body === undefined ? {} : { "Content-Type": "application/json" }),
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) { throw await errorFrom(response); }
    return response.status === 204 ? null : response.json();
  }

  // The stored offset of an upload (HEAD), as a number.
  async function head(url, csrf) {
    var response = await fetch(url, { method: "HEAD", headers: headers(csrf), credentials: "same-origin", cache: "no-store" });
    if (!response.ok) { throw new HttpError(response.status, null); }
    return { offset: Number(response.headers.get("Upload-Offset")), size: Number(response.headers.get("Upload-Length")) };
  }

  async function sha256Base64(bytes) {
    var digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    var text = "";
    for (var i = 0; i < digest.length; i++) { text += String.fromCharCode(digest[i]); }
    return btoa(text);
  }

  // One chunk: PATCH at `offset`. Answers the new offset; throws HttpError (the server refused) or
  // TypeError (the network failed: the caller asks the offset again and retries).
  async function patch(url, csrf, offset, bytes, checksum) {
    var extra = { "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" };
    if (checksum) { extra["Upload-Checksum"] = "sha256 " + (await sha256Base64(bytes)); }
    var response = await fetch(url, { method: "PATCH", headers: headers(csrf, extra), credentials: "same-origin", body: bytes });
    if (!response.ok) { throw await errorFrom(response); }
    return Number(response.headers.get("Upload-Offset"));
  }

  // ---- Formatting -------------------------------------------------------------------------------------

  // Sizes as Django's filesizeformat writes them on the same pages (powers of 1024: Kio, Mio, Gio in French).
  function formatSize(bytes, lang) {
    var english = (lang || "fr").slice(0, 2) === "en";
    var units = english ? ["bytes", "KB", "MB", "GB", "TB"] : ["octets", "Kio", "Mio", "Gio", "Tio"];
    var value = bytes;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    var text = unit === 0 ? String(Math.round(value)) : value.toLocaleString(english ? "en" : "fr", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    return text + " " + units[unit];
  }

  // "1 h 05 min", "4 min 12 s", "8 s": short and readable aloud.
  function formatDuration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    var days = Math.floor(seconds / 86400);
    var hours = Math.floor((seconds % 86400) / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var secs = seconds % 60;
    function two(n) { return String(n).padStart(2, "0"); }
    var day = (document.documentElement.lang || "fr").slice(0, 2) === "en" ? " d " : " j ";
    if (days > 0) { return days + day + hours + " h " + two(minutes) + " min"; }
    if (hours > 0) { return hours + " h " + two(minutes) + " min"; }
    if (minutes > 0) { return minutes + " min " + two(secs) + " s"; }
    return secs + " s";
  }

  window.ebSealed = {
    isX25519Recipient: isX25519Recipient,
    encrypt: encrypt,
    chunks: chunks,
    opfs: opfs,
    HttpError: HttpError,
    getJSON: getJSON,
    sendJSON: sendJSON,
    head: head,
    patch: patch,
    sha256Base64: sha256Base64,
    formatSize: formatSize,
    formatDuration: formatDuration,
  };
})();
