// Starts rrweb-player on the session page. Events are fetched from the API (already masked on the
// server); rrweb replays them into an about:blank iframe sandboxed without allow-scripts.
(function () {
  "use strict";
  var el = document.getElementById("player");
  if (!el) return;
  fetch(el.dataset.events, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) {
      if (!r.ok) throw new Error("could not load events (HTTP " + r.status + ")");
      return r.json();
    })
    .then(function (events) {
      if (events.length < 2) throw new Error("this session has too few events to replay");
      var Player = window.rrwebPlayer && (window.rrwebPlayer.default || window.rrwebPlayer);
      window.replayvaultPlayer = new Player({
        target: el,
        props: {
          events: events,
          width: parseInt(el.dataset.width, 10) || 960,
          height: parseInt(el.dataset.height, 10) || 540,
          autoPlay: false,
          showWarning: false,
          mouseTail: false,
          UNSAFE_replayCanvas: false,
        },
      });
      el.dataset.ready = "1";
    })
    .catch(function (err) {
      el.textContent = String(err.message || err);
      el.dataset.ready = "error";
    });
})();
