// mathlens web page: paste, drop, pick or draw a formula -> LaTeX from this server, with a live preview.
// Plain JavaScript, no build step; KaTeX is loaded from static/vendor/katex/ when it is installed.

const KATEX_DIR = "static/vendor/katex/";
const API_IMAGE = "v1/recognize";
const API_STROKES = "v1/recognize/strokes";
const DRAW_PAUSE_MS = 700;  // recognize a drawing this long after the pen lifts

const $ = (id) => document.getElementById(id);
const ui = {
  dropzone: $("dropzone"), fileInput: $("file-input"), chooseFile: $("choose-file"),
  imagePreview: $("image-preview"), imageName: $("image-name"),
  pad: $("pad"), padHint: $("pad-hint"), undo: $("undo"), clear: $("clear"),
  status: $("status"), latex: $("latex"), confidence: $("confidence"), unsure: $("unsure"), copy: $("copy"),
  preview: $("preview"), previewNote: $("preview-note"),
};

// ---- Recognition requests: the latest one wins -------------------------------------------

let requestSeq = 0;
let inFlight = null;

async function recognize(url, init) {
  const seq = ++requestSeq;
  inFlight?.abort();
  inFlight = new AbortController();
  setStatus("Recognizing…", "busy");
  try {
    const response = await fetch(url, { ...init, signal: inFlight.signal });
    const body = await response.json().catch(() => ({}));
    if (seq !== requestSeq) return;
    if (!response.ok) throw new Error(body.detail || `the server answered ${response.status}`);
    showResult(body);
    setStatus("");
  } catch (err) {
    if (err.name === "AbortError" || seq !== requestSeq) return;
    const message = err instanceof TypeError ? "cannot reach the server" : err.message;
    clearResult();  // the previous reading is not an answer for this input: never one click from the clipboard
    setStatus(`Could not recognize: ${message}`, "error");
  }
}

function setStatus(text, kind = "") {
  ui.status.textContent = text;
  ui.status.className = `status ${kind}`.trim();
  document.getElementById("result").setAttribute("aria-busy", String(kind === "busy"));
}

function showResult({ latex, confidence, ms, unsure }) {
  ui.latex.value = latex;
  const percent = Math.round(confidence * 100);
  const level = confidence >= 0.8 ? "high" : confidence >= 0.5 ? "medium" : "low";
  const strong = document.createElement("strong");
  strong.className = level;
  strong.textContent = `${percent}%`;
  ui.confidence.replaceChildren("Confidence ", strong, ` · ${Math.round(ms)} ms`);
  ui.confidence.title = "the model's own estimate of how likely this reading is right";
  ui.confidence.hidden = false;
  showUnsure(unsure);
  onLatexChanged();
}

// The model's own doubt about a reading ("low confidence", ...): check the LaTeX before using it.
function showUnsure(reason) {
  ui.unsure.textContent = reason ? `Unsure: ${reason}` : "";
  ui.unsure.title = reason ? "the model doubts this reading: check it against the picture before using it" : "";
  ui.unsure.hidden = !reason;
}

// No reading: empty LaTeX, no confidence, no warning, an empty preview, Copy disabled.
function clearResult() {
  ui.latex.value = "";
  ui.confidence.replaceChildren();
  ui.confidence.hidden = true;
  showUnsure(null);
  onLatexChanged();
}

// ---- Images: paste, drop, file picker ---------------------------------------------------

function isInk(file) {
  return /\.inkml$/i.test(file.name) || /inkml/i.test(file.type);
}

function usableFile(transfer) {
  const files = [...(transfer?.files ?? [])];
  for (const item of transfer?.items ?? []) {
    const file = item.kind === "file" ? item.getAsFile() : null;
    if (file && !files.includes(file)) files.push(file);
  }
  return files.find((f) => f.type.startsWith("image/") || isInk(f)) ?? files[0] ?? null;
}

let previewUrl = null;

function hideImagePreview() {
  ui.imagePreview.hidden = true;
  ui.imagePreview.removeAttribute("src");
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = null;
}

// The thumbnail appears only once the browser has drawn it: a file it cannot show (not an image,
// damaged, a format it lacks) gets no broken-image icon; the server's answer says what is wrong.
ui.imagePreview.addEventListener("load", () => { if (previewUrl) ui.imagePreview.hidden = false; });
ui.imagePreview.addEventListener("error", () => { if (previewUrl) hideImagePreview(); });

function recognizeFile(file) {
  hideImagePreview();
  const name = file.name && file.name !== "image.png" ? file.name : "";
  if (file.type.startsWith("image/") && !isInk(file)) {
    previewUrl = URL.createObjectURL(file);
    ui.imagePreview.alt = name ? `the chosen image, ${name}` : "the pasted image";
    ui.imagePreview.src = previewUrl;
  }
  ui.imageName.textContent = name;
  ui.imageName.hidden = !name;
  const form = new FormData();
  form.append("file", file, file.name || "pasted.png");
  recognize(API_IMAGE, { method: "POST", body: form });
}

ui.chooseFile.addEventListener("click", () => ui.fileInput.click());
ui.fileInput.addEventListener("change", () => {
  const file = ui.fileInput.files[0];
  if (file) recognizeFile(file);
  ui.fileInput.value = "";  // choosing the same file again recognizes it again
});

document.addEventListener("paste", (event) => {
  const file = usableFile(event.clipboardData);
  if (!file || !(file.type.startsWith("image/") || isInk(file))) return;  // text: the normal paste
  event.preventDefault();
  recognizeFile(file);
});

// Files may be dropped anywhere on the page; the drop zone lights up meanwhile.
let dragDepth = 0;
const carriesFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes("Files");
document.addEventListener("dragenter", (event) => {
  if (!carriesFiles(event)) return;
  dragDepth += 1;
  ui.dropzone.classList.add("dragging");
});
document.addEventListener("dragleave", (event) => {
  if (!carriesFiles(event)) return;
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) ui.dropzone.classList.remove("dragging");
});
document.addEventListener("dragover", (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "copy";
});
document.addEventListener("drop", (event) => {
  dragDepth = 0;
  ui.dropzone.classList.remove("dragging");
  const file = usableFile(event.dataTransfer);
  if (!file) return;
  event.preventDefault();  // never navigate away to the dropped file
  recognizeFile(file);
});

// ---- Drawing pad: Pointer Events (mouse, pen, touch) -------------------------------------

const strokes = [];  // each a list of [x, y] in CSS pixels from the pad's top left
let activePointer = null;
let drawTimer = null;
const ctx = ui.pad.getContext("2d");

function padPoint(event) {
  const rect = ui.pad.getBoundingClientRect();
  return [Math.round((event.clientX - rect.left) * 10) / 10, Math.round((event.clientY - rect.top) * 10) / 10];
}

function setupPen() {
  const dpr = window.devicePixelRatio || 1;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.lineWidth = 3;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = ctx.fillStyle = getComputedStyle(ui.pad).getPropertyValue("--ink").trim() || "#1d2330";
}

function drawSegment(from, to) {
  ctx.beginPath();
  if (from === to) {
    ctx.arc(from[0], from[1], ctx.lineWidth / 2, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  ctx.moveTo(from[0], from[1]);
  ctx.lineTo(to[0], to[1]);
  ctx.stroke();
}

function redraw() {
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, ui.pad.width, ui.pad.height);
  ctx.restore();
  for (const stroke of strokes) {
    drawSegment(stroke[0], stroke[0]);
    for (let i = 1; i < stroke.length; i += 1) drawSegment(stroke[i - 1], stroke[i]);
  }
  const empty = strokes.length === 0;
  ui.padHint.hidden = !empty;
  ui.undo.disabled = ui.clear.disabled = empty;
}

function resizePad() {
  const dpr = window.devicePixelRatio || 1;
  const rect = ui.pad.getBoundingClientRect();
  ui.pad.width = Math.max(1, Math.round(rect.width * dpr));
  ui.pad.height = Math.max(1, Math.round(rect.height * dpr));
  setupPen();
  redraw();
}

function scheduleDrawingRecognition() {
  clearTimeout(drawTimer);
  drawTimer = null;
  if (strokes.length === 0) return;
  drawTimer = setTimeout(() => {
    drawTimer = null;
    recognize(API_STROKES, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ strokes }),
    });
  }, DRAW_PAUSE_MS);
}

ui.pad.addEventListener("pointerdown", (event) => {
  if (activePointer !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
  event.preventDefault();
  activePointer = event.pointerId;
  ui.pad.setPointerCapture(event.pointerId);
  clearTimeout(drawTimer);
  const point = padPoint(event);
  strokes.push([point]);
  drawSegment(point, point);
  ui.padHint.hidden = true;
  ui.undo.disabled = ui.clear.disabled = false;
});

ui.pad.addEventListener("pointermove", (event) => {
  if (event.pointerId !== activePointer) return;
  const stroke = strokes[strokes.length - 1];
  const events = event.getCoalescedEvents?.() ?? [];
  for (const e of events.length ? events : [event]) {
    const point = padPoint(e);
    const last = stroke[stroke.length - 1];
    if (point[0] === last[0] && point[1] === last[1]) continue;
    stroke.push(point);
    drawSegment(last, point);
  }
});

function endStroke(event) {
  if (event.pointerId !== activePointer) return;
  activePointer = null;
  scheduleDrawingRecognition();
}
ui.pad.addEventListener("pointerup", endStroke);
ui.pad.addEventListener("pointercancel", endStroke);

function undoStroke() {
  if (activePointer !== null || strokes.length === 0) return;
  strokes.pop();
  redraw();
  scheduleDrawingRecognition();
}

ui.undo.addEventListener("click", undoStroke);
ui.clear.addEventListener("click", () => {
  if (activePointer !== null) return;
  strokes.length = 0;
  clearTimeout(drawTimer);
  redraw();
});

document.addEventListener("keydown", (event) => {
  const typing = event.target instanceof HTMLElement && event.target.closest("textarea, input, [contenteditable]");
  if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z" && !typing
      && strokes.length) {
    event.preventDefault();
    undoStroke();
  }
});

new ResizeObserver(resizePad).observe(ui.pad);
window.matchMedia?.("(prefers-color-scheme: dark)").addEventListener?.("change", () => { setupPen(); redraw(); });

// ---- LaTeX: editable text, live preview, copy --------------------------------------------

let katexState = "loading";  // then "ready" or "missing"
let renderQueued = false;

function loadKatex() {
  const css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = `${KATEX_DIR}katex.min.css`;
  document.head.append(css);
  const script = document.createElement("script");
  script.src = `${KATEX_DIR}katex.min.js`;
  script.onload = () => {
    katexState = window.katex ? "ready" : "missing";
    renderPreview();
  };
  script.onerror = () => {
    katexState = "missing";
    css.remove();
    renderPreview();
  };
  document.head.append(script);
}

function setPreviewNote(text, isError = false) {
  ui.previewNote.textContent = text;
  ui.previewNote.classList.toggle("error", isError);
  ui.previewNote.hidden = !text;
}

function renderPreview() {
  renderQueued = false;
  const tex = ui.latex.value.trim();
  const preview = ui.preview;
  preview.classList.remove("stale");
  preview.dataset.empty = String(!tex);
  if (katexState !== "ready") {
    preview.classList.add("plain");
    preview.textContent = tex;
    setPreviewNote(katexState === "missing"
      ? "The preview shows plain text: KaTeX is not installed on this server (scripts/install-web-assets.sh)."
      : "");
    return;
  }
  preview.classList.remove("plain");
  if (!tex) {
    preview.replaceChildren();
    setPreviewNote("");
    return;
  }
  try {
    window.katex.render(tex, preview, { displayMode: true, throwOnError: true, strict: "ignore" });
    setPreviewNote("");
  } catch (err) {
    // Keep the last good rendering, dimmed, while the text cannot be rendered (often mid-edit).
    if (!preview.querySelector(".katex")) preview.dataset.empty = "true";
    preview.classList.add("stale");
    setPreviewNote(`Cannot render this LaTeX: ${String(err.message || err).replace(/^KaTeX parse error: /, "")}`, true);
  }
}

function onLatexChanged() {
  ui.copy.disabled = ui.latex.value.trim() === "";
  if (!renderQueued) {
    renderQueued = true;
    requestAnimationFrame(renderPreview);
  }
}

ui.latex.addEventListener("input", onLatexChanged);

const COPY_LABEL = ui.copy.textContent;
let copiedTimer = null;

ui.copy.addEventListener("click", async () => {
  const text = ui.latex.value;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    ui.latex.select();  // no clipboard API (plain http off localhost): the old way
    if (!document.execCommand("copy")) {
      setStatus("Copy is blocked here: the text is selected, press Ctrl+C.", "error");
      return;
    }
  }
  ui.copy.textContent = "Copied";
  setStatus("LaTeX copied to the clipboard.");
  clearTimeout(copiedTimer);
  copiedTimer = setTimeout(() => { ui.copy.textContent = COPY_LABEL; }, 1500);
});

loadKatex();
onLatexChanged();
