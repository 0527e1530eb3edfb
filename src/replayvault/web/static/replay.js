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
    })
    .catch(function (err) {
      el.textContent = String(err.message || err);
      el.dataset.ready = "error";
    });
})();
