// The workstation test (/poste-de-travail/): capabilities, encryption speed and upload speed of this browser.
// Messages and sizes come from the page (#workstation-config, rendered and translated by the server).
(function () {
  "use strict";
  var form = document.querySelector("[data-workstation]");
  var configElement = document.getElementById("workstation-config");
  if (!form || !configElement) { return; }
  var config = JSON.parse(configElement.textContent);
  var S = config.strings;
  var lang = document.documentElement.lang || "fr";
  var button = form.querySelector("[data-workstation-start]");
  var capabilitiesList = document.querySelector("[data-workstation-capabilities]");
  var speedsList = document.querySelector("[data-workstation-speeds]");
  var progress = document.querySelector("[data-workstation-progress]");
  var verdict = document.querySelector("[data-workstation-verdict]");

  document.querySelectorAll("[data-js-required]").forEach(function (element) { element.hidden = true; });
  button.disabled = false;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (match, key) { return key in values ? values[key] : match; });
  }

  function item(list, text, className) {
    var li = document.createElement("li");
    li.textContent = text;
    if (className) { li.className = className; }
    list.appendChild(li);
    return li;
  }

  function say(text, kind) {
    verdict.replaceChildren();
    var p = document.createElement("p");
    p.className = "notice notice-" + kind;
    p.textContent = text;
    verdict.appendChild(p);
  }

  function capabilities() {
    var streams = typeof ReadableStream === "function" && typeof TransformStream === "function" &&
      "pipeThrough" in ReadableStream.prototype && typeof Blob !== "undefined" && "stream" in Blob.prototype;
    var webcrypto = !!(window.crypto && window.crypto.subtle && window.isSecureContext);
    return window.ebSealed.opfs.available().then(function (opfs) {
      return { streams: streams, webcrypto: webcrypto, opfs: opfs };
    });
  }

  // Encrypt `total` bytes generated here (never held whole: 1 MiB at a time) to a throwaway key.
  async function measureEncryption(total) {
    var identity = await window.ebAge.generateX25519Identity();
    var recipient = await window.ebAge.identityToRecipient(identity);
    var block = new Uint8Array(1024 * 1024);
    crypto.getRandomValues(block.subarray(0, 65536));
    var produced = 0;
    var source = new ReadableStream({
      pull: function (controller) {
        if (produced >= total) { controller.close(); return; }
        var n = Math.min(block.length, total - produced);
        produced += n;
        controller.enqueue(block.slice(0, n));
      },
    });
    var started = performance.now();
    var sealed = await window.ebSealed.encrypt(recipient, source, total);
    var reader = sealed.stream.getReader();
    var seen = 0;
    for (;;) {
      var next = await reader.read();
      if (next.done) { break; }
      seen += next.value.length;
      progress.value = Math.min(50, Math.floor((50 * seen) / sealed.size));
    }
    return { bytes: total, seconds: (performance.now() - started) / 1000 };
  }

  async function measureUpload(total) {
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    var started = performance.now();
    var response = await fetch(config.probe_url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, "Content-Type": "application/octet-stream", Accept: "application/json" },
      body: new Uint8Array(total),
    });
    var body = await response.json().catch(function () { return {}; });
    if (!response.ok) { throw new Error(body.message || "HTTP " + response.status); }
    progress.value = 100;
    return { bytes: body.received, seconds: (performance.now() - started) / 1000 };
  }

  function rateLine(template, result) {
    return fill(template, {
      rate: window.ebSealed.formatSize(result.bytes / result.seconds, lang),
      size: window.ebSealed.formatSize(result.bytes, lang),
      time: window.ebSealed.formatDuration(Math.max(1, result.seconds)),
    });
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    button.disabled = true;
    capabilitiesList.replaceChildren();
    speedsList.replaceChildren();
    var found = await capabilities();
    [["streams", found.streams], ["opfs", found.opfs], ["webcrypto", found.webcrypto]].forEach(function (pair) {
      item(capabilitiesList, S[pair[0]] + " : " + (pair[1] ? S.yes : S.no), pair[1] ? "capability-yes" : "capability-no")
        .dataset.capability = pair[0];
    });
    if (!found.streams || !found.webcrypto || !window.ebAge) {
      say(S.verdict_ko, "error");
      button.disabled = false;
      return;
    }
    progress.hidden = false;
    progress.value = 0;
    try {
      say(S.running_encrypt, "info");
      var encryption = await measureEncryption(config.encrypt_bytes);
      item(speedsList, rateLine(S.encrypt_speed, encryption)).dataset.speed = "encrypt";
      say(S.running_upload, "info");
      var upload = await measureUpload(config.upload_bytes);
      item(speedsList, rateLine(S.upload_speed, upload)).dataset.speed = "upload";
      var encryptRate = encryption.bytes / encryption.seconds;
      var uploadRate = upload.bytes / upload.seconds;
      // Encryption and upload run side by side on the bid page: the slower of the two sets the pace.
      var seconds = config.example_bytes / Math.min(encryptRate, uploadRate);
      item(speedsList, fill(S.estimate, {
        size: window.ebSealed.formatSize(config.example_bytes, lang),
        time: window.ebSealed.formatDuration(seconds),
      })).dataset.speed = "estimate";
      if (encryptRate < 5e6 || uploadRate < 1e6) {
        say(S.verdict_slow, "warning");
      } else if (!found.opfs) {
        say(S.verdict_no_opfs, "warning");
      } else {
        say(S.verdict_ok, "success");
      }
      verdict.dataset.verdict = "done";
    } catch (error) {
      say(fill(S.failed, { message: error.message }), "error");
      verdict.dataset.verdict = "failed";
    } finally {
      button.disabled = false;
    }
  });
})();
