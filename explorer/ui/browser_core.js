// Shared by the app's browser components (explorer/ui/live_decode.py prepends it to each): reading a bundle made by
// explorer/webdecoder.py, the decoder's forward pass, drawing an image. Trusted code: the page passes bundles as
// data; nothing from a user's file or a link is ever part of this file, and text from a bundle is set as text.

// Blobs by key, for the page's whole life: a decoder, latent means or images are sent once per session and
// referred to by key after (the components' modules may be loaded again; the window stays).
const store = (window.__vaeExplorer = window.__vaeExplorer || { blobs: new Map() });

const mounted = new WeakMap(); // component element -> how to take its current mount down

function mount(component, className, start) {
  // A component's default export: read its bundle, take the last mount on this element down (a rerun calls it
  // again with new data), ask for what the browser lost, and start(bundle, root, setTriggerValue) -> stop.
  const { data, parentElement, setTriggerValue } = component;
  if (!data) return undefined;
  const bundle = readBundle(data instanceof Uint8Array ? data : new Uint8Array(data));
  const previous = mounted.get(parentElement);
  if (previous) previous();
  if (bundle.missing.length) setTriggerValue("missing", bundle.missing); // sent again on the run this starts
  const root = document.createElement("div");
  root.className = className;
  parentElement.appendChild(root);
  const stop = start(bundle, root, setTriggerValue);
  const unmount = () => {
    if (stop) stop();
    root.remove();
    mounted.delete(parentElement);
  };
  mounted.set(parentElement, unmount);
  return unmount;
}

function readBundle(bytes) {
  // -> { view, blobs: { kind: object }, missing: [keys the browser does not hold] }
  const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = data.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length)));
  const start = 4 + length;
  const blobs = {};
  const missing = [];
  for (const entry of header.blobs || []) {
    if (entry.offset !== undefined) {
      const part = bytes.slice(start + entry.offset, start + entry.offset + entry.length); // its own, aligned buffer
      store.blobs.set(entry.key, { key: entry.key, ...parseBlob(entry.kind, entry.meta, part) });
    }
    const blob = store.blobs.get(entry.key);
    if (blob) blobs[entry.kind] = blob;
    else missing.push(entry.key);
  }
  return { view: header.view || {}, blobs, missing };
}

function parseBlob(role, meta, part) {
  if (role === "decoder") return { header: meta, floats: new Float32Array(part.buffer) };
  const rows = new Int32Array(part.buffer, 0, meta.n);
  const index = new Map();
  rows.forEach((row, i) => index.set(row, i));
  const size = meta.shape.reduce((a, b) => a * b, 1);
  const values = role === "latents" ? new Float32Array(part.buffer, 4 * meta.n, meta.n * size)
                                    : new Uint8Array(part.buffer, 4 * meta.n, meta.n * size);
  return { meta, rows, index, size, values, at: (row) => {
    const i = index.get(row);
    return i === undefined ? null : values.subarray(i * size, (i + 1) * size);
  } };
}

function linear(h, layer, floats) {
  const out = new Float32Array(layer.out);
  const n = layer.in;
  for (let o = 0; o < layer.out; o++) {
    let sum = floats[layer.b + o];
    const row = layer.w + o * n;
    for (let i = 0; i < n; i++) sum += floats[row + i] * h[i];
    out[o] = sum;
  }
  return out;
}

function deconv(h, shape, layer, floats) {
  // Transposed convolution as scatter-adds: each input pixel adds its kernel, scaled, into the output at stride
  // steps, shifted back by the padding (the same steps as webdecoder._deconv).
  const [cin, hin, win] = shape;
  const { cout, k, stride, pad } = layer;
  const [hout, wout] = layer.out;
  const out = new Float32Array(cout * hout * wout);
  for (let o = 0; o < cout; o++) out.fill(floats[layer.b + o], o * hout * wout, (o + 1) * hout * wout);
  for (let c = 0; c < cin; c++) {
    for (let i = 0; i < hin; i++) {
      for (let j = 0; j < win; j++) {
        const v = h[(c * hin + i) * win + j];
        if (v === 0) continue; // after a ReLU most inputs are zero
        for (let o = 0; o < cout; o++) {
          const kernel = layer.w + ((c * cout + o) * k) * k;
          for (let a = 0; a < k; a++) {
            const y = i * stride + a - pad;
            if (y < 0 || y >= hout) continue;
            for (let b = 0; b < k; b++) {
              const x = j * stride + b - pad;
              if (x < 0 || x >= wout) continue;
              out[(o * hout + y) * wout + x] += v * floats[kernel + a * k + b];
            }
          }
        }
      }
    }
  }
  return { h: out, shape: [cout, hout, wout] };
}

function decode(decoder, z) {
  const { header, floats } = decoder;
  let h = Float32Array.from(z);
  let shape = [h.length];
  for (const layer of header.layers) {
    if (layer.op === "linear") {
      h = linear(h, layer, floats);
      shape = [h.length];
    } else if (layer.op === "reshape") {
      shape = layer.shape;
    } else {
      ({ h, shape } = deconv(h, shape, layer, floats));
    }
    if (layer.relu) for (let i = 0; i < h.length; i++) if (h[i] < 0) h[i] = 0;
  }
  return h; // logits, (C, H, W)
}

function draw(canvas, decoder, logits) {
  const [c, height, width] = decoder.header.image_shape;
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  const plane = height * width;
  for (let p = 0; p < plane; p++) {
    for (let ch = 0; ch < 3; ch++) {
      const value = logits[(c === 3 ? ch : 0) * plane + p];
      image.data[p * 4 + ch] = Math.round(255 / (1 + Math.exp(-value)));
    }
    image.data[p * 4 + 3] = 255;
  }
  context.putImageData(image, 0, 0);
  canvas.dataset.frames = String(Number(canvas.dataset.frames || 0) + 1); // counted by the browser tests and bench
}

function makeCanvas(root, decoder, size, className) {
  const [, height, width] = decoder.header.image_shape;
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.className = className;
  const scale = Math.max(1, Math.round(size / Math.max(width, height)));
  canvas.style.width = `${width * scale}px`;
  canvas.style.maxWidth = "100%"; // a narrow column shrinks it, keeping its shape
  canvas.style.height = "auto";
  root.appendChild(canvas);
  return canvas;
}

function interpolate(z0, z1, steps, method) {
  // The steps of explorer.latent.interpolate: a line, or slerp (the direction along the great circle, the norm
  // moving straight from one end's to the other's).
  const norm = (v) => Math.hypot(...v);
  const line = (t) => z0.map((a, d) => (1 - t) * a + t * z1[d]);
  const ts = Array.from({ length: steps }, (_, i) => i / (steps - 1));
  const r0 = norm(z0), r1 = norm(z1);
  if (method !== "slerp" || r0 === 0 || r1 === 0) return ts.map(line);
  const u0 = z0.map((v) => v / r0), u1 = z1.map((v) => v / r1);
  const cos = Math.min(1, Math.max(-1, u0.reduce((s, v, d) => s + v * u1[d], 0)));
  const omega = Math.acos(cos);
  const along = (dir, t) => dir.map((v) => v * ((1 - t) * r0 + t * r1));
  if (Math.sin(omega) < 1e-6) {
    if (cos > 0) return ts.map(line); // the same direction: only the norm changes
    // Exactly opposite: through the perpendicular the server takes (the axis u0 leans on least).
    let k = 0;
    u0.forEach((v, d) => { if (Math.abs(v) < Math.abs(u0[k])) k = d; });
    let p = u0.map((v, d) => (d === k ? 1 : 0) - u0[k] * v);
    const pn = norm(p);
    p = p.map((v) => v / pn);
    const quarter = (a, b, t) => a.map((v, d) => Math.cos(t * Math.PI / 2) * v + Math.sin(t * Math.PI / 2) * b[d]);
    return ts.map((t) => along(t <= 0.5 ? quarter(u0, p, 2 * t) : quarter(p, u0.map((v) => -v), 2 * t - 1), t));
  }
  const arc = (t) => u0.map((v, d) => (Math.sin((1 - t) * omega) * v + Math.sin(t * omega) * u1[d]) / Math.sin(omega));
  return ts.map((t) => along(arc(t), t));
}

function drawPixels(canvas, pixels, shape) {
  // uint8 (C, H, W) pixels of a real image onto a canvas of its size.
  const [c, height, width] = shape;
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  const plane = height * width;
  for (let p = 0; p < plane; p++) {
    for (let ch = 0; ch < 3; ch++) image.data[p * 4 + ch] = pixels[(c === 3 ? ch : 0) * plane + p];
    image.data[p * 4 + 3] = 255;
  }
  context.putImageData(image, 0, 0);
  return canvas;
}
