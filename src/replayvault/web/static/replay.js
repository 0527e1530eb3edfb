// Starts rrweb-player on the session page. Events are fetched from the API (already masked on the
// server); rrweb replays them into an about:blank iframe sandboxed without allow-scripts.
// Jumps inside the replay (seeking on the progress bar) are reported to the audit log.
(function () {
  "use strict";
  var el = document.getElementById("player");
  if (!el) return;

  // A jump is a change of the replay clock by more than 3 s beyond what elapsed wall time explains.
  function watchSeeks(player) {
    if (!player || !player.addEventListener || !el.dataset.seeks) return;
    var lastT = 0, lastWall = Date.now(), lastSent = 0;
    player.addEventListener("ui-update-current-time", function (ev) {
      var t = Math.max(0, Math.round(ev && typeof ev.payload === "number" ? ev.payload : 0));
      var now = Date.now();
      var expected = lastT + (now - lastWall) * 8; // up to 8x playback speed
      if ((t < lastT - 3000 || t > expected + 3000) && now - lastSent > 1000) {
        lastSent = now;
        fetch(el.dataset.seeks, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": el.dataset.csrf || "" },
          body: JSON.stringify({ grant: el.dataset.grant, from_ms: lastT, to_ms: t }),
        }).catch(function () {});
      }
      lastT = t; lastWall = now;
    });
  }
  // Frustration signals as markers on a strip under the player's progress bar; clicking a marker
  // (or a time in the signal list) plays from 1 s before the signal. Such jumps are seeks: audited.
  var LABELS = { rage_click: "rage click", dead_click: "dead click", error_click: "error click",
                 u_turn: "u-turn", thrashed_cursor: "thrashed cursor" };
  var LEAD_MS = 1000;

  function clock(ms) {
    var s = Math.floor(ms / 1000);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function seekTo(player, meta, ts) {
    var at = Math.min(Math.max(0, ts - meta.startTime - LEAD_MS), meta.totalTime);
    player.goto(at, true);
    var box = el.getBoundingClientRect();  // from the signal table far below: bring the player into view
    if (box.top < 0 || box.bottom > window.innerHeight) el.scrollIntoView({ block: "start", behavior: "smooth" });
  }

  function alignStrip(strip) {
    var bar = el.querySelector(".rr-progress");
    if (!bar) return;
    var outer = el.getBoundingClientRect(), inner = bar.getBoundingClientRect();
    strip.style.marginLeft = Math.max(0, inner.left - outer.left) + "px";
    strip.style.width = inner.width + "px";
  }

  function drawMarkers(player) {
    var strip = document.getElementById("signal-strip");
    if (!strip || !strip.dataset.signals || !player || !player.getMetaData) return;
    var meta = player.getMetaData();
    document.querySelectorAll("button.seek[data-ts]").forEach(function (b) {
      b.addEventListener("click", function () { seekTo(player, meta, Number(b.dataset.ts)); });
    });
    fetch(strip.dataset.signals, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (data) {
        var signals = (data && data.signals) || [];
        var total = Math.max(1, meta.totalTime || 1);
        strip.hidden = false;
        alignStrip(strip);
        var width = strip.clientWidth || 600;
        var track = document.createElement("div");
        track.className = "track";
        // Markers closer than their width go to the next lane (at most 4), so each stays clickable.
        var laneEnds = [];
        signals.forEach(function (s) {
          var kind = /^[a-z_]+$/.test(s.kind) ? s.kind : "other";
          var at = Math.min(Math.max(0, s.ts_ms - meta.startTime), total);
          var px = at / total * width;
          var lane = laneEnds.findIndex(function (end) { return end <= px - 5; });
          if (lane < 0) lane = laneEnds.length < 4 ? laneEnds.length : laneEnds.indexOf(Math.min.apply(null, laneEnds));
          laneEnds[lane] = px + 5;
          var b = document.createElement("button");
          b.type = "button";
          b.className = "marker k-" + kind;
          b.style.left = (at / total * 100).toFixed(3) + "%";
          b.style.top = (2 + lane * 14) + "px";
          b.title = (LABELS[kind] || kind) + (kind === "rage_click" ? " (" + s.count + " clicks)" : "") + " at " + clock(at);
          b.setAttribute("aria-label", b.title);
          b.addEventListener("click", function () { seekTo(player, meta, s.ts_ms); });
          track.appendChild(b);
        });
        track.style.height = (4 + Math.max(1, laneEnds.length) * 14) + "px";
        var legend = document.createElement("div");
        legend.className = "legend small";
        var counts = {};
        signals.forEach(function (s) { counts[s.kind] = (counts[s.kind] || 0) + 1; });
        Object.keys(LABELS).forEach(function (kind) {
          if (!counts[kind]) return;
          var pill = document.createElement("span");
          pill.className = "sig k-" + kind;
          pill.textContent = LABELS[kind] + " " + counts[kind];
          legend.appendChild(pill);
        });
        var note = document.createElement("span");
        note.className = "dim";
        note.textContent = signals.length ? "click a marker to play from just before the signal"
                                          : "no frustration signal in this session";
        legend.appendChild(note);
        strip.appendChild(track);
        strip.appendChild(legend);
        strip.dataset.ready = String(signals.length);
      })
      .catch(function (err) {
        strip.hidden = false;
        strip.textContent = "signal markers unavailable (" + String(err.message || err) + ")";
        strip.dataset.ready = "error";
      });
  }

  fetch(el.dataset.events, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) {
      if (!r.ok) throw new Error("could not load events (HTTP " + r.status + ")");
      return r.json();
    })
    .then(function (events) {
      if (events.length < 2) throw new Error("this session has too few events to replay");
      // Fit the column (the side panel must stay readable on 1024-1366 px screens), at most 960 px.
      var room = (el.parentElement && el.parentElement.clientWidth) || 960;
      var width = Math.max(320, Math.min(parseInt(el.dataset.width, 10) || 960, room - 4));
      var Player = window.rrwebPlayer && (window.rrwebPlayer.default || window.rrwebPlayer);
      window.replayvaultPlayer = new Player({
        target: el,
        props: {
          events: events,
          width: width,
          height: Math.round(width * 9 / 16),
          autoPlay: false,
          showWarning: false,
          mouseTail: false,
          UNSAFE_replayCanvas: false,
        },
      });
      el.dataset.ready = "1";
      watchSeeks(window.replayvaultPlayer);
      drawMarkers(window.replayvaultPlayer);
    })
    .catch(function (err) {
      el.textContent = String(err.message || err);
      el.dataset.ready = "error";
    });
})();
