// Interactive heatmap view: draws the click, move, scroll and rage layers on a canvas laid over
// the masked page (a static, script-free copy in a sandboxed iframe). Layer data comes from
// /api/v1/heatmaps/layers: grids are row-major 0..255 values of cell_px x cell_px cells in page px.
(function () {
  "use strict";
  var stage = document.getElementById("hm-stage");
  if (!stage) return;
  var canvas = document.getElementById("hm-canvas");
  var status = document.getElementById("hm-status");
  var data = null;

  // Colour ramps (value 0..1 -> [r, g, b]); alpha rises with the value so cold areas stay clear.
  var RAMPS = {
    click: [[0, 0, 255], [0, 255, 255], [0, 255, 0], [255, 255, 0], [255, 0, 0]],
    move: [[48, 18, 59], [70, 107, 227], [40, 188, 235], [164, 252, 60], [251, 185, 56]],
  };

  function ramp(stops, v) {
    var x = Math.max(0, Math.min(1, v)) * (stops.length - 1);
    var i = Math.min(stops.length - 2, Math.floor(x));
    var f = x - i, a = stops[i], b = stops[i + 1];
    return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
  }

  function drawGrid(ctx, grid, stops) {
    if (!grid || !grid.values || !grid.cols || !grid.rows) return;
    var img = ctx.createImageData(grid.cols, grid.rows);
    for (var i = 0; i < grid.values.length; i++) {
      var v = grid.values[i] / 255;
      if (v <= 0.02) continue;
      var c = ramp(stops, v);
      img.data[i * 4] = c[0]; img.data[i * 4 + 1] = c[1]; img.data[i * 4 + 2] = c[2];
      img.data[i * 4 + 3] = Math.round(60 + 150 * v);
    }
    var tmp = document.createElement("canvas");
    tmp.width = grid.cols; tmp.height = grid.rows;
    tmp.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(tmp, 0, 0, grid.cols * grid.cell_px, grid.rows * grid.cell_px);
  }

  function drawScroll(ctx, s, width) {
    if (!s || !s.shares || !s.shares.length) return;
    // One band per run of equal shares (no overlapping rectangles, so no seams between bands).
    var start = 0;
    for (var i = 1; i <= s.shares.length; i++) {
      if (i < s.shares.length && s.shares[i] === s.shares[start]) continue;
      var c = ramp(RAMPS.click, s.shares[start]);
      ctx.fillStyle = "rgba(" + Math.round(c[0]) + "," + Math.round(c[1]) + "," + Math.round(c[2]) + ",0.22)";
      ctx.fillRect(0, start * s.step_px, width, (i - start) * s.step_px);
      start = i;
    }
    ctx.font = "bold 13px system-ui, sans-serif";
    (s.marks || []).forEach(function (m) {  // [depth px, % of page views that reached it]
      ctx.strokeStyle = "rgba(20,20,20,0.8)"; ctx.setLineDash([6, 4]);
      ctx.beginPath(); ctx.moveTo(0, m[0]); ctx.lineTo(width, m[0]); ctx.stroke();
      ctx.setLineDash([]);
      label(ctx, m[1] + " % of page views reached this line", 8, m[0] - 6);
    });
    if (s.fold_px) {
      ctx.strokeStyle = "#b3261e"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.moveTo(0, s.fold_px); ctx.lineTo(width, s.fold_px); ctx.stroke();
      ctx.lineWidth = 1;
      label(ctx, "fold (median viewport height " + Math.round(s.fold_px) + " px)", width - 330, s.fold_px - 6);
    }
  }

  function label(ctx, text, x, y) {
    var w = ctx.measureText(text).width + 10;
    ctx.fillStyle = "rgba(255,255,255,0.9)"; ctx.fillRect(x - 5, y - 14, w, 19);
    ctx.fillStyle = "#111"; ctx.fillText(text, x, y);
  }

  function drawMarks(ctx, marks, colour) {
    if (!marks || !marks.points) return;
    ctx.font = "bold 11px system-ui, sans-serif";
    marks.points.forEach(function (p) {
      ctx.beginPath(); ctx.arc(p[0], p[1], 12, 0, Math.PI * 2);
      ctx.fillStyle = colour; ctx.fill();
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 2; ctx.stroke(); ctx.lineWidth = 1;
      ctx.fillStyle = "#fff"; ctx.textAlign = "center"; ctx.fillText(String(p[2] || ""), p[0], p[1] + 4);
      ctx.textAlign = "start";
    });
  }

  function plural(n, word) {
    return n.toLocaleString("en") + " " + word + (n === 1 ? "" : "s");
  }

  function on(name) {
    var box = document.querySelector('input[data-layer="' + name + '"]');
    return box && box.checked;
  }

  function draw() {
    if (!data) return;
    var ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    var L = data.layers || {};
    if (on("scroll")) drawScroll(ctx, L.scroll, data.width);
    if (on("move")) drawGrid(ctx, L.move, RAMPS.move);
    if (on("click")) drawGrid(ctx, L.click, RAMPS.click);
    if (on("rage")) drawMarks(ctx, L.rage, "rgba(179,38,30,0.85)");
    if (on("dead")) drawMarks(ctx, L.dead, "rgba(90,90,90,0.85)");
  }

  document.querySelectorAll("input[data-layer]").forEach(function (box) {
    box.addEventListener("change", draw);
  });

  fetch(stage.dataset.layers, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body && body.error ? body.error : "HTTP " + r.status);
        return body;
      });
    })
    .then(function (body) {
      data = body;
      canvas.width = body.width; canvas.height = body.height;
      canvas.style.width = body.width + "px"; canvas.style.height = body.height + "px";
      stage.style.width = body.width + "px"; stage.style.height = body.height + "px";
      var frame = document.getElementById("hm-frame");
      frame.style.width = body.width + "px"; frame.style.height = body.height + "px";
      var L = body.layers || {};
      var parts = [];
      if (L.click) parts.push(plural(L.click.count, "click") + " (" + L.click.fallback + " placed by page position)");
      if (L.move) parts.push(plural(L.move.count, "mouse position"));
      if (L.scroll) parts.push(plural(L.scroll.page_views, "page view") + " with scroll depth");
      if (L.rage) parts.push(plural(L.rage.count, "rage click"));
      if (L.dead) parts.push(plural(L.dead.count, "dead click"));
      if (!parts.length) parts.push("No clicks, moves or scrolls in this period.");
      status.textContent = parts.join(" · ");
      stage.dataset.ready = "1";
      draw();
    })
    .catch(function (err) {
      status.textContent = "Could not load the heatmap: " + err.message;
      status.className = "error";
      stage.dataset.ready = "error";
    });
})();
