// What Explore's map shows beyond Plotly's points, drawn in the browser so the figure (and its zoom) never
// changes for it: the picks, the path, the pending box or lasso and the saved groups on a canvas over the plot;
// each point as its image once zoomed in; the image under the cursor; and the path from A, decoded here the
// moment B is clicked (the server's strip follows). browser_core.js comes first.

const THUMB_VISIBLE = 400; // zoomed in until at most this many points show: each is drawn as its image
const THUMB_MOST = 5000; // never more images than this on one redraw ("always" on a huge map)
const GROUP_COLOURS = ["#111111", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];
const hiddenGroups = new Set(); // group names the visitor unticked, for the page's life

function chartOf(selector) {
  return document.querySelector(`${selector} .js-plotly-plot`);
}

function pointsOf(gd) {
  // row -> [x, y, colour, trace] from the chart's marker traces; cached per drawn data.
  const revision = gd._fullLayout && gd._fullLayout.datarevision;
  if (gd.__vaePoints && gd.__vaePoints.revision === revision && gd.__vaePoints.traces === gd._fullData.length) {
    return gd.__vaePoints.points;
  }
  const points = new Map();
  (gd._fullData || []).forEach((trace, t) => {
    if (!trace.customdata || !trace.x || String(trace.mode) !== "markers") return;
    const colour = typeof trace.marker.color === "string" ? trace.marker.color : "#444444";
    const n = Math.min(trace.x.length, trace.customdata.length);
    for (let i = 0; i < n; i++) points.set(Number(trace.customdata[i]), [trace.x[i], trace.y[i], colour, t]);
  });
  gd.__vaePoints = { revision, traces: gd._fullData.length, points };
  return points;
}

function overlayOf(gd) {
  let canvas = gd.querySelector("canvas.vae-marks");
  if (!canvas) {
    canvas = document.createElement("canvas");
    canvas.className = "vae-marks";
    Object.assign(canvas.style, { position: "absolute", pointerEvents: "none" });
    const container = gd.querySelector(".svg-container");
    const above = container.querySelectorAll(":scope > svg.main-svg")[1]; // zoom box and hover labels: on top
    container.insertBefore(canvas, above || null);
  }
  return canvas;
}

function thumbOf(images, row) {
  // A real image as a small canvas, made once per row and kept for the page's life.
  const cache = (store.thumbs = store.thumbs || new Map());
  const key = `${images.key}:${row}`;
  if (!cache.has(key)) {
    const pixels = images.at(row);
    cache.set(key, pixels ? drawPixels(document.createElement("canvas"), pixels, images.meta.shape) : null);
  }
  return cache.get(key);
}

function drawThumbs(ctx, state, points, place, size) {
  const images = state.blobs.images;
  if (state.view.thumbs === "never" || (!images && !state.view.rows_wanted)) return 0;
  const shown = [];
  const hidden = new Set(state.gd._fullData.map((trace, t) => (trace.visible === true ? -1 : t)));
  for (const [row, [x, y, , trace]] of points) {
    if (hidden.has(trace)) continue; // a label the legend hid
    const [px, py] = place(x, y);
    if (px >= 0 && py >= 0 && px <= size.w && py <= size.h) shown.push([row, px, py]);
  }
  const limit = state.view.thumbs === "always" && !state.view.rows_wanted ? THUMB_MOST : THUMB_VISIBLE;
  if (!shown.length || shown.length > limit) return 0;
  if (state.view.rows_wanted && shown.some(([row]) => !images || !images.index.has(row))) {
    ask(state, shown.map(([row]) => row)); // data too large to send whole: the images in view, when it settles
  }
  if (!images) return 0;
  const side = Math.max(14, Math.min(56, 0.9 * Math.sqrt((size.w * size.h) / shown.length)));
  ctx.imageSmoothingEnabled = false;
  for (const [row, px, py] of shown) {
    const thumb = thumbOf(images, row);
    if (!thumb) continue;
    ctx.drawImage(thumb, px - side / 2, py - side / 2, side, side);
    ctx.strokeStyle = points.get(row)[2];
    ctx.lineWidth = 2;
    ctx.strokeRect(px - side / 2, py - side / 2, side, side);
  }
  return shown.length;
}

function ask(state, rows) {
  // Ask the page for these rows' images once the view stops moving (each ask is a run of the page).
  clearTimeout(state.asking);
  state.asking = setTimeout(() => {
    const wanted = rows.slice().sort((a, b) => a - b).join(",");
    if (wanted !== state.asked) {
      state.asked = wanted;
      state.setTriggerValue("rows", rows);
    }
  }, 400);
}

function star(ctx, x, y, r) {
  ctx.beginPath();
  for (let i = 0; i < 10; i++) {
    const radius = i % 2 ? r * 0.45 : r;
    const angle = -Math.PI / 2 + (i * Math.PI) / 5;
    ctx.lineTo(x + radius * Math.cos(angle), y + radius * Math.sin(angle));
  }
  ctx.closePath();
}

function drawMarks(ctx, state, points, place, size) {
  const marks = state.view.marks || {};
  const at = (row) => {
    const p = points.get(row);
    return p ? [...place(p[0], p[1]), p[2]] : null;
  };
  const ring = (p, radius) => {
    ctx.beginPath();
    ctx.arc(p[0], p[1], radius, 0, 2 * Math.PI);
  };
  if (marks.selected && marks.selected.length) { // the rest greyed, the selection bright
    ctx.fillStyle = "rgba(255,255,255,0.72)";
    ctx.fillRect(0, 0, size.w, size.h);
  }
  (marks.groups || []).forEach((group, i) => {
    if (hiddenGroups.has(group.name)) return;
    ctx.strokeStyle = GROUP_COLOURS[i % GROUP_COLOURS.length];
    ctx.lineWidth = 1.5;
    for (const row of group.rows) {
      const p = at(row);
      if (p) { ring(p, 5.5); ctx.stroke(); }
    }
  });
  for (const row of marks.selected || []) {
    const p = at(row);
    if (!p) continue;
    ring(p, 3.5);
    ctx.fillStyle = p[2];
    ctx.fill();
    ctx.strokeStyle = "#000";
    ctx.lineWidth = 1;
    ctx.stroke();
  }
  if (marks.path && marks.path.length) { // black on a white halo: it reads over points and over images
    for (const [colour, width] of [["#fff", 5], ["#000", 2]]) {
      ctx.strokeStyle = colour;
      ctx.lineWidth = width;
      ctx.beginPath();
      marks.path.forEach(([x, y]) => ctx.lineTo(...place(x, y)));
      ctx.stroke();
    }
    ctx.fillStyle = "#000";
    marks.path.forEach(([x, y]) => { ring(place(x, y), 2.5); ctx.fill(); });
  }
  (marks.picks || []).forEach((row, i) => {
    const p = at(row);
    if (!p) return;
    star(ctx, p[0], p[1], 9);
    ctx.fillStyle = "crimson";
    ctx.fill();
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 1.2;
    ctx.stroke();
    ctx.font = "bold 15px sans-serif";
    ctx.textAlign = "center";
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 3;
    ctx.strokeText("AB"[i], p[0], p[1] - 13);
    ctx.fillStyle = "crimson";
    ctx.fillText("AB"[i], p[0], p[1] - 13);
  });
}

function render(state) {
  const { gd } = state;
  const layout = gd._fullLayout;
  if (!layout || !layout.xaxis || !layout._size) return;
  const size = layout._size;
  const canvas = overlayOf(gd);
  const ratio = window.devicePixelRatio || 1;
  Object.assign(canvas.style, { left: `${size.l}px`, top: `${size.t}px`, width: `${size.w}px`, height: `${size.h}px` });
  canvas.width = Math.round(size.w * ratio);
  canvas.height = Math.round(size.h * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const place = (x, y) => [layout.xaxis.d2p(x), layout.yaxis.d2p(y)];
  const points = pointsOf(gd);
  canvas.dataset.thumbs = String(drawThumbs(ctx, state, points, place, size));
  drawMarks(ctx, state, points, place, size);
  canvas.dataset.drawn = String(Number(canvas.dataset.drawn || 0) + 1); // counted by the browser tests
  groupLegend(state, size);
}

function groupLegend(state, size) {
  // A tick box per saved group, over the plot's bottom left corner: shows or hides its rings.
  const groups = (state.view.marks || {}).groups || [];
  const container = state.gd.querySelector(".svg-container");
  let legend = container.querySelector("div.vae-groups");
  if (!groups.length) {
    if (legend) legend.remove();
    return;
  }
  if (!legend) {
    legend = document.createElement("div");
    legend.className = "vae-groups";
    Object.assign(legend.style, { position: "absolute", fontSize: "12px", background: "rgba(255,255,255,0.85)",
                                  fontFamily: getComputedStyle(document.body).fontFamily, padding: "2px 6px",
                                  borderRadius: "4px", lineHeight: "1.5" });
    container.appendChild(legend);
  }
  Object.assign(legend.style, { left: `${size.l + 4}px`, bottom: `${size.b + 4}px` });
  legend.replaceChildren(...groups.map((group, i) => {
    const label = document.createElement("label");
    label.style.display = "block";
    label.style.color = GROUP_COLOURS[i % GROUP_COLOURS.length];
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = !hiddenGroups.has(group.name);
    box.addEventListener("change", () => {
      if (box.checked) hiddenGroups.delete(group.name); else hiddenGroups.add(group.name);
      render(state);
    });
    label.append(box, ` ○ group: ${group.name} (${group.rows.length})`); // text, never markup
    return label;
  }));
}

function hoverCanvas(state, width, height, className) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.className = className;
  Object.assign(canvas.style, { position: "fixed", pointerEvents: "none", display: "none", zIndex: "1000",
                                border: "2px solid #fff", boxShadow: "0 1px 6px rgba(0,0,0,0.5)",
                                imageRendering: "pixelated", borderRadius: "4px" });
  const scale = Math.max(1, Math.round(state.view.size / Math.max(width, height)));
  canvas.style.width = `${width * scale}px`;
  canvas.style.height = `${height * scale}px`;
  state.root.appendChild(canvas);
  return canvas;
}

function showAt(canvas, event, gd) {
  // Beside the cursor, on the side away from the legend (right of the plot): left of it in the right half.
  const box = gd.getBoundingClientRect();
  const width = canvas.getBoundingClientRect().width || parseFloat(canvas.style.width);
  const left = event.clientX > box.left + box.width / 2 ? event.clientX - width - 20 : event.clientX + 16;
  canvas.style.left = `${left}px`;
  canvas.style.top = `${event.clientY + 16}px`;
  canvas.style.display = "block";
}

function followCursor(state) {
  // On a plane of z (basis (2, D): z = x * basis[0] + y * basis[1]), decode wherever the cursor is.
  const { decoder } = state.blobs;
  const [, height, width] = decoder.header.image_shape;
  const canvas = hoverCanvas(state, width, height, "hover-decode");
  const basis = state.view.basis;
  let latest = null;
  const show = (event) => {
    const gd = state.gd;
    const layout = gd && gd._fullLayout;
    if (!layout || !layout.xaxis) return;
    const box = gd.getBoundingClientRect();
    const px = event.clientX - box.left - layout._size.l;
    const py = event.clientY - box.top - layout._size.t;
    if (px < 0 || py < 0 || px > layout._size.w || py > layout._size.h) {
      canvas.style.display = "none";
      return;
    }
    const x = layout.xaxis.p2d(px);
    const y = layout.yaxis.p2d(py);
    const z = basis[0].map((b, d) => x * b + y * basis[1][d]);
    draw(canvas, decoder, decode(decoder, z));
    showAt(canvas, event, gd);
    canvas.dataset.z = z.map((v) => v.toFixed(3)).join(",");
  };
  const move = (event) => { // at most one decode per animation frame, for the newest position
    if (latest === null) requestAnimationFrame(() => { show(latest); latest = null; });
    latest = event;
  };
  const leave = () => { canvas.style.display = "none"; };
  document.addEventListener("mousemove", move);
  document.addEventListener("mouseleave", leave);
  return () => {
    document.removeEventListener("mousemove", move);
    document.removeEventListener("mouseleave", leave);
  };
}

function hoverImages(state) {
  // On any other map: the image of the point under the cursor.
  const images = state.blobs.images;
  const [, height, width] = images.meta.shape;
  const canvas = hoverCanvas(state, width, height, "hover-image");
  return {
    hover: (event) => {
      const point = event.points && event.points[0];
      const pixels = point && images.at(Number(point.customdata));
      if (!pixels || !event.event) return;
      drawPixels(canvas, pixels, images.meta.shape);
      canvas.dataset.row = String(point.customdata);
      showAt(canvas, event.event, state.gd);
    },
    unhover: () => { canvas.style.display = "none"; },
  };
}

function stripItem(canvas, side, caption) {
  const item = document.createElement("div");
  Object.assign(item.style, { width: `${side}px`, textAlign: "center", font: "12px sans-serif", color: "#666" });
  Object.assign(canvas.style, { width: `${side}px`, height: `${side}px`, imageRendering: "pixelated",
                                display: "block" });
  item.append(canvas, caption);
  return item;
}

function drawPath(state, row) {
  // B was clicked: the path from A decoded here at once, A's and B's images at its ends.
  const { decoder, latents, images } = state.blobs;
  const instant = state.view.instant;
  const za = latents.at(instant.a);
  const zb = latents.at(row);
  if (!za || !zb || row === instant.a) return;
  const steps = interpolate(Array.from(za), Array.from(zb), instant.steps, instant.method);
  const strip = document.createElement("div");
  strip.className = "instant-strip";
  Object.assign(strip.style, { display: "flex", gap: "8px", flexWrap: "nowrap", margin: "8px 0" });
  const image = (r) => (images && images.at(r) ? drawPixels(document.createElement("canvas"), images.at(r),
                                                             images.meta.shape) : null);
  const ends = [image(instant.a), image(row)];
  const items = steps.map((z, i) => {
    const canvas = document.createElement("canvas");
    canvas.className = "instant-step";
    draw(canvas, decoder, decode(decoder, z));
    return stripItem(canvas, instant.thumb, (i / (steps.length - 1)).toFixed(2));
  });
  if (ends[0]) items.unshift(stripItem(ends[0], instant.thumb, "A (image)"));
  if (ends[1]) items.push(stripItem(ends[1], instant.thumb, "B (image)"));
  strip.replaceChildren(...items);
  const note = document.createElement("div");
  Object.assign(note.style, { font: "13px sans-serif", color: "#666" });
  note.textContent = "Decoded in your browser; the full path, with the nearest real images, is on its way.";
  state.root.replaceChildren(strip, note);
  state.root.dataset.strip = String(row);
}

function attach(state) {
  // The chart is drawn afresh under a new key after a box or lasso: follow it.
  const gd = chartOf(state.view.chart);
  if (!gd || gd === state.gd || typeof gd.on !== "function") return;
  detach(state);
  state.gd = gd;
  let pending = false;
  const redraw = () => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(() => { pending = false; if (state.gd) render(state); });
    }
  };
  const listeners = [["plotly_afterplot", redraw], ["plotly_relayout", redraw], ["plotly_relayouting", redraw]];
  if (state.view.instant && state.blobs.decoder && state.blobs.latents) {
    listeners.push(["plotly_click", (event) => {
      const point = event.points && event.points[0];
      if (point && point.customdata !== undefined) drawPath(state, Number(point.customdata));
    }]);
  }
  if (!state.view.basis && state.blobs.images) {
    const { hover, unhover } = hoverImages(state);
    listeners.push(["plotly_hover", hover], ["plotly_unhover", unhover]);
  }
  listeners.forEach(([name, fn]) => gd.on(name, fn));
  state.listeners = listeners;
  render(state);
}

function detach(state) {
  if (state.gd && typeof state.gd.removeListener === "function") { // a chart Plotly purged has no listeners left
    state.listeners.forEach(([name, fn]) => state.gd.removeListener(name, fn));
    const canvas = state.gd.querySelector("canvas.vae-marks");
    if (canvas) canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
  }
  state.gd = null;
  state.listeners = [];
}

export default function (component) {
  return mount(component, "map-view-root", ({ view, blobs }, root, setTriggerValue) => {
    const state = { view, blobs, root, gd: null, listeners: [], setTriggerValue };
    const stops = [];
    if (view.basis && blobs.decoder) stops.push(followCursor(state));
    const timer = setInterval(() => attach(state), 250);
    attach(state);
    return () => {
      clearInterval(timer);
      clearTimeout(state.asking);
      stops.forEach((stop) => stop());
      detach(state);
    };
  });
}
