// Decodes z in the browser while the visitor drags a latent slider or moves over a 2-D map, from a payload made by
// explorer/webdecoder.py (a JSON header of layer shapes, then float32 weights). Trusted code: the page passes the
// payload as data; nothing from a user's file or a link is ever part of this file.

const parsed = new WeakMap(); // payload buffer -> decoder, so a rerun with the same bytes parses nothing
const mounted = new WeakMap(); // component element -> how to take its current mount down

function readPayload(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length)));
  const start = bytes.byteOffset + 4 + length;
  // Copy when the floats are not 4-aligned in the underlying buffer (a Float32Array view needs it).
  const floats = start % 4 === 0
    ? new Float32Array(bytes.buffer, start, (bytes.byteLength - 4 - length) / 4)
    : new Float32Array(bytes.slice(4 + length).buffer);
  return { header, floats };
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

function sliderValues(dim) {
  const z = new Float32Array(dim);
  for (let d = 0; d < dim; d++) {
    const input = document.querySelector(`.st-key-z${d} input[type="range"]`);
    if (!input) return null;
    z[d] = Number(input.value);
  }
  return z;
}

function followSliders(root, decoder, view) {
  const canvas = makeCanvas(root, decoder, view.size, "live-decode");
  let pending = false;
  let last = "";
  const update = () => {
    pending = false;
    const z = sliderValues(decoder.header.latent_dim);
    if (!z) return;
    const key = z.join(",");
    if (key === last) return;
    last = key;
    const started = performance.now();
    draw(canvas, decoder, decode(decoder, z));
    canvas.dataset.ms = (performance.now() - started).toFixed(2); // decode and draw: read by the bench
  };
  const schedule = () => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(update);
    }
  };
  // A slider's range input holds its value while dragging (its aria-valuetext follows), though Streamlit sends
  // the value to Python only on release.
  const observer = new MutationObserver(schedule);
  observer.observe(document.body, { subtree: true, attributes: true, attributeFilter: ["aria-valuetext"],
                                    childList: true });
  schedule();
  return () => observer.disconnect();
}

function followMap(root, decoder, view) {
  // A decoded image that follows the cursor over the map: the map's pixel -> its axes' value -> z on its plane.
  const canvas = makeCanvas(root, decoder, view.size, "hover-decode");
  canvas.style.position = "fixed";
  canvas.style.pointerEvents = "none";
  canvas.style.display = "none";
  canvas.style.zIndex = "1000";
  canvas.style.border = "2px solid #fff";
  canvas.style.boxShadow = "0 1px 6px rgba(0,0,0,0.5)";
  const basis = view.basis; // (2, D): z = x * basis[0] + y * basis[1]
  let latest = null;
  const move = (event) => { // at most one decode per animation frame, for the newest position
    if (latest === null) requestAnimationFrame(() => { show(latest); latest = null; });
    latest = event;
  };
  const show = (event) => {
    const chart = document.querySelector(`${view.chart} .js-plotly-plot`);
    const layout = chart && chart._fullLayout;
    if (!layout || !layout.xaxis) return;
    const box = chart.getBoundingClientRect();
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
    canvas.style.display = "block";
    canvas.style.left = `${event.clientX + 16}px`;
    canvas.style.top = `${event.clientY + 16}px`;
    canvas.dataset.z = z.map((v) => v.toFixed(3)).join(",");
  };
  const leave = () => { canvas.style.display = "none"; };
  document.addEventListener("mousemove", move);
  document.addEventListener("mouseleave", leave);
  return () => {
    document.removeEventListener("mousemove", move);
    document.removeEventListener("mouseleave", leave);
  };
}

export default function (component) {
  const { data, parentElement } = component;
  if (!data) return undefined;
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  let decoder = parsed.get(bytes.buffer);
  if (!decoder) {
    decoder = readPayload(bytes);
    parsed.set(bytes.buffer, decoder);
  }
  // Called again with new data (another label, another model) on the same element: the last mount goes first.
  const previous = mounted.get(parentElement);
  if (previous) previous();
  const view = decoder.header.view;
  const root = document.createElement("div");
  root.className = "live-decode-root";
  parentElement.appendChild(root);
  const stop = view.mode === "map" ? followMap(root, decoder, view) : followSliders(root, decoder, view);
  const unmount = () => {
    stop();
    root.remove();
    mounted.delete(parentElement);
  };
  mounted.set(parentElement, unmount);
  return unmount;
}
