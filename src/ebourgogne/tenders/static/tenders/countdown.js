// Countdown to a deadline, on the SERVER's clock: the page gives the server's time when it was rendered
// (data-server-time) and, with data-time-url, a JSON URL answering {"server_time": ...} that is asked once
// more to correct for the page's travel time. The local clock only measures time elapsed since then, so a
// computer whose clock is wrong still shows the right time left.
//
// Markup (see templates/tenders/_uploader.html): [data-countdown] with data-deadline (ISO 8601),
// data-server-time, optional data-time-url and data-warn-minutes (default 15), and the texts
// data-text-left / -warning / -passed / -announce ({time}, {minutes}); inside it [data-countdown-line]
// holding [data-countdown-value], [data-countdown-status] and an aria-live region [data-countdown-live]
// that speaks only at 60, 30, 15, 10, 5, 2 and 1 minutes and when the deadline passes, not every second.
// Fires "ebourgogne:deadline" on the element when the deadline passes.
(function () {
  "use strict";
  var MILESTONES = [60, 30, 15, 10, 5, 2, 1];

  function fill(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, function (match, key) { return key in values ? values[key] : match; });
  }

  function two(n) { return String(n).padStart(2, "0"); }

  function clockText(ms) {
    var seconds = Math.max(0, Math.floor(ms / 1000));
    var days = Math.floor(seconds / 86400);
    var hours = Math.floor((seconds % 86400) / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var secs = seconds % 60;
    var text = two(hours) + " h " + two(minutes) + " min " + two(secs) + " s";
    var day = (document.documentElement.lang || "fr").slice(0, 2) === "en" ? " d " : " j ";
    return days > 0 ? days + day + text : text;
  }

  // Spoken form: whole minutes (or hours and minutes), no seconds.
  function spokenText(ms) {
    var minutes = Math.round(ms / 60000);
    if (minutes >= 60) { return Math.floor(minutes / 60) + " h " + two(minutes % 60) + " min"; }
    return minutes + " min";
  }

  function start(element) {
    var deadline = Date.parse(element.dataset.deadline || "");
    var serverTime = Date.parse(element.dataset.serverTime || "");
    if (isNaN(deadline)) { return; }
    // Server time minus local time, in milliseconds.
    var offset = isNaN(serverTime) ? 0 : serverTime - Date.now();
    var warnMs = Number(element.dataset.warnMinutes || 15) * 60000;
    var line = element.querySelector("[data-countdown-line]");
    var value = element.querySelector("[data-countdown-value]");
    var status = element.querySelector("[data-countdown-status]");
    var live = element.querySelector("[data-countdown-live]");
    var spokenMilestones = {};
    var first = true;
    var passed = false;
    var timer = null;

    function announce(text) {
      if (!live) { return; }
      live.textContent = "";
      // A fresh text node in the next frame, so that screen readers hear a repeated message too.
      window.setTimeout(function () { live.textContent = text; }, 50);
    }

    function tick() {
      var left = deadline - (Date.now() + offset);
      if (left <= 0) {
        line.hidden = true;
        status.hidden = false;
        status.className = "countdown-passed";
        status.textContent = element.dataset.textPassed;
        element.dataset.state = "passed";
        if (!passed) {
          passed = true;
          if (!first) { announce(element.dataset.textPassed); }
          element.dispatchEvent(new CustomEvent("ebourgogne:deadline", { bubbles: true }));
        }
        window.clearInterval(timer);
        first = false;
        return;
      }
      line.hidden = false;
      value.textContent = fill(element.dataset.textLeft, { time: clockText(left) });
      var warning = left <= warnMs;
      element.dataset.state = warning ? "warning" : "running";
      status.hidden = !warning;
      if (warning) {
        status.className = "countdown-warning";
        status.textContent = fill(element.dataset.textWarning, { minutes: Math.round(warnMs / 60000) });
      }
      var minutesLeft = left / 60000;
      for (var i = MILESTONES.length - 1; i >= 0; i--) {
        var milestone = MILESTONES[i];
        if (minutesLeft <= milestone && !spokenMilestones[milestone]) {
          // Mark this one and every larger one as said; speak once, and on the first tick only when
          // already in the warning zone (a page opened 3 days ahead says nothing).
          MILESTONES.forEach(function (m) { if (m >= milestone) { spokenMilestones[m] = true; } });
          if (!first || warning) { announce(fill(element.dataset.textAnnounce, { time: spokenText(left) })); }
          break;
        }
      }
      first = false;
    }

    function correct() {
      var url = element.dataset.timeUrl;
      if (!url || !window.fetch) { return; }
      var sent = Date.now();
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          var received = Date.now();
          var server = body && Date.parse(body.server_time);
          if (server && !isNaN(server)) {
            offset = server - (sent + received) / 2;
            tick();
          }
        })
        .catch(function () { /* keep the page's time */ });
    }

    tick();
    timer = window.setInterval(tick, 1000);
    correct();
    // Back from sleep or from another tab: the interval may have been throttled; ask the time again.
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && !passed) { correct(); }
    });
  }

  document.querySelectorAll("[data-countdown]").forEach(start);
})();
