// The Generate page's image, redrawn in the browser while a latent slider is dragged (Streamlit sends a slider's
// value only on release). browser_core.js comes first.

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

export default function (component) {
  return mount(component, "live-decode-root", ({ view, blobs }, root) =>
    (blobs.decoder ? followSliders(root, blobs.decoder, view) : null)); // without it: drawn once it is sent again
}
