// Documents of the company's vault added to the bid (templates/tenders/_uploader.html, the vault part).
// The browser fetches each chosen document from the vault (the signed-in member's own access), then hands it
// to the uploader (event "ebourgogne:add-files"), which encrypts it to the consultation's recipient and
// uploads the ciphertext like any other file: the platform never sends the vault's copy to the buyer.
(function () {
  "use strict";
  var picker = document.querySelector("[data-vault-picker]");
  var root = document.querySelector("[data-sealed-uploader]");
  if (!picker || !root || !window.fetch || !window.File) { return; }
  var S = picker.dataset;
  var list = picker.querySelector("[data-vault-list]");
  var errorBox = picker.querySelector("[data-vault-error]");
  var live = picker.querySelector("[data-vault-live]");
  var addButton = picker.querySelector("[data-vault-add]");
  var envelope = picker.querySelector("[data-vault-envelope]");
  var documents = {};
  var started = false;

  function fill(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, function (match, key) { return key in values ? values[key] : match; });
  }
  function size(bytes) { return window.ebSealed ? window.ebSealed.formatSize(bytes, document.documentElement.lang || "fr") : bytes + " o"; }
  function say(text) {
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }
  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  function render(items) {
    list.replaceChildren();
    items.forEach(function (item) {
      documents[item.id] = item;
      var row = document.createElement("div");
      row.className = "form-check";
      var box = document.createElement("input");
      box.type = "checkbox";
      box.id = "vault-document-" + item.id;
      box.value = String(item.id);
      var label = document.createElement("label");
      label.htmlFor = box.id;
      var status = item.status === "expired" ? S.expired : (item.status === "expiring" ? S.expiring : "");
      label.textContent = fill(S.item, { title: item.title, type: item.type_label, name: item.name, size: size(item.size) }) +
        (status ? " — " + status : "");
      row.append(box, label);
      list.appendChild(row);
    });
  }

  async function load() {
    if (started || root.dataset.canAdd !== "true") { return; }
    started = true;
    var answer;
    try {
      answer = await fetch(S.vaultUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    } catch (error) {
      return; // no vault part then: the rest of the page works as before
    }
    if (!answer.ok) { return; } // not a member allowed to read the vault
    var items = await answer.json();
    if (!items.length) { return; }
    render(items);
    picker.hidden = false;
  }

  async function fetchFile(item) {
    var answer = await fetch(item.content_url, { credentials: "same-origin" });
    if (!answer.ok) {
      var message = S.fetchFailed;
      try { message = (await answer.json()).detail || message; } catch (error) { /* not JSON */ }
      throw new Error(message);
    }
    var blob = await answer.blob();
    if (blob.size !== item.size) { throw new Error(S.fetchFailed); }
    return new File([blob], item.name, { type: item.content_type || "application/octet-stream" });
  }

  addButton.addEventListener("click", async function () {
    var chosen = Array.from(list.querySelectorAll("input[type=checkbox]:checked"));
    if (!chosen.length) { showError(S.noneChosen); return; }
    showError("");
    addButton.disabled = true;
    var files = [];
    try {
      for (var i = 0; i < chosen.length; i += 1) {
        var item = documents[chosen[i].value];
        try {
          files.push(await fetchFile(item));
        } catch (error) {
          showError(fill(S.failed, { name: item.name, message: error.message || S.fetchFailed }));
        }
      }
    } finally {
      addButton.disabled = false;
    }
    if (!files.length) { return; }
    chosen.forEach(function (box) { box.checked = false; });
    root.dispatchEvent(new CustomEvent("ebourgogne:add-files", { detail: { envelope: envelope.value, files: files } }));
    say(fill(S.added, { count: files.length }));
  });

  root.addEventListener("ebourgogne:uploader-ready", load);
  if (root.dataset.ready === "true") { load(); }
})();
