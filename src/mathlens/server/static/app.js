// mathlens web page: paste, drop, pick or draw a formula -> LaTeX from this server, with a live preview;
// or, in page mode, a page image or PDF -> Markdown, with the detected formulas boxed on the page.
// Plain JavaScript, no build step; KaTeX is loaded from static/vendor/katex/ when it is installed.

const KATEX_DIR = "static/vendor/katex/";
const API_IMAGE = "v1/recognize";
const API_STROKES = "v1/recognize/strokes";
const API_PAGE = "v1/page";
const DRAW_PAUSE_MS = 700;  // recognize a drawing this long after the pen lifts

const $ = (id) => document.getElementById(id);
const ui = {
  dropzone: $("dropzone"), fileInput: $("file-input"), chooseFile: $("choose-file"),
  imagePreview: $("image-preview"), imageName: $("image-name"),
  pad: $("pad"), padHint: $("pad-hint"), undo: $("undo"), clear: $("clear"),
  status: $("status"), latex: $("latex"), confidence: $("confidence"), unsure: $("unsure"), copy: $("copy"),
  preview: $("preview"), previewNote: $("preview-note"),
};
const pageUi = {
  tabs: [$("tab-formula"), $("tab-page")],
  dropzone: $("page-dropzone"), fileInput: $("page-input"), choose: $("page-choose"), name: $("page-name"),
  result: $("page-result"), status: $("page-status"), facts: $("page-facts"), output: $("page-output"),
  view: $("page-view"), markdown: $("page-markdown"), copyMarkdown: $("copy-markdown"), copyJson: $("copy-json"),
};
let mode = "formula";  // or "page": which tab is shown, and where pasted and dropped files go

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
  return files.find((f) => f.type.startsWith("image/") || isInk(f) || (mode === "page" && isPdf(f)))
    ?? files[0] ?? null;
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
  if (mode === "page") {
    if (!file || !(file.type.startsWith("image/") || isPdf(file))) return;
    event.preventDefault();
    readPage(file);
    return;
  }
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
  activeDropzone().classList.add("dragging");
});
document.addEventListener("dragleave", (event) => {
  if (!carriesFiles(event)) return;
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) activeDropzone().classList.remove("dragging");
});
document.addEventListener("dragover", (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "copy";
});
document.addEventListener("drop", (event) => {
  dragDepth = 0;
  ui.dropzone.classList.remove("dragging");
  pageUi.dropzone.classList.remove("dragging");
  const file = usableFile(event.dataTransfer);
  if (!file) return;
  event.preventDefault();  // never navigate away to the dropped file
  if (mode === "page") readPage(file);
  else recognizeFile(file);
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
    renderPageMarkdown();
  };
  script.onerror = () => {
    katexState = "missing";
    css.remove();
    renderPreview();
    renderPageMarkdown();
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

// ---- Page mode: a page image or PDF -> Markdown, the formulas boxed on the page ---------------

function isPdf(file) {
  return /\.pdf$/i.test(file.name) || file.type === "application/pdf";
}

function activeDropzone() {
  return mode === "page" ? pageUi.dropzone : ui.dropzone;
}

function setMode(next, focus = false) {
  mode = next;
  pageUi.tabs.forEach((tab) => {
    const selected = tab.id === `tab-${next}`;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(tab.getAttribute("aria-controls")).hidden = !selected;
    if (selected && focus) tab.focus();
  });
}

pageUi.tabs.forEach((tab, i) => {
  tab.addEventListener("click", () => setMode(tab.id.replace("tab-", "")));
  tab.addEventListener("keydown", (event) => {  // the tablist pattern: arrows move between tabs
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    const other = pageUi.tabs[(i + step + pageUi.tabs.length) % pageUi.tabs.length];
    setMode(other.id.replace("tab-", ""), true);
  });
});

let pageSeq = 0;
let pageInFlight = null;
let pageAnswer = null;   // the server's last answer, for Copy JSON and re-rendering
let pageImageUrl = null; // the uploaded image, drawn under its boxes

function setPageStatus(text, kind = "") {
  pageUi.status.textContent = text;
  pageUi.status.className = `status ${kind}`.trim();
  pageUi.result.setAttribute("aria-busy", String(kind === "busy"));
}

// No answer: nothing to look at and nothing to copy.
function clearPageResult() {
  pageAnswer = null;
  pageUi.view.replaceChildren();
  pageUi.view.dataset.boxes = "0";
  pageUi.markdown.replaceChildren();
  pageUi.output.hidden = true;
  pageUi.facts.hidden = true;
  pageUi.facts.replaceChildren();
  pageUi.copyMarkdown.disabled = pageUi.copyJson.disabled = true;
}

async function readPage(file) {
  const seq = ++pageSeq;
  pageInFlight?.abort();
  pageInFlight = new AbortController();
  clearPageResult();
  if (pageImageUrl) URL.revokeObjectURL(pageImageUrl);
  pageImageUrl = file.type.startsWith("image/") ? URL.createObjectURL(file) : null;
  pageUi.name.textContent = file.name || "";
  pageUi.name.hidden = !file.name;
  setPageStatus("Reading the page… this takes a few seconds per page.", "busy");
  const form = new FormData();
  form.append("file", file, file.name || "page.png");
  try {
    const response = await fetch(API_PAGE, { method: "POST", body: form, signal: pageInFlight.signal });
    const body = await response.json().catch(() => ({}));
    if (seq !== pageSeq) return;
    if (!response.ok) throw new Error(body.detail || `the server answered ${response.status}`);
    showPageResult(body);
  } catch (err) {
    if (err.name === "AbortError" || seq !== pageSeq) return;
    const message = err instanceof TypeError ? "cannot reach the server" : err.message;
    clearPageResult();
    setPageStatus(`Could not read the page: ${message}`, "error");
  }
}

const BOX_KIND = { inline_formula: "inline", display_formula: "display", figure: "region", table: "region" };

function showPageResult(answer) {
  pageAnswer = answer;
  const pages = answer.pages ?? [];
  const good = pages.filter((p) => !p.error);
  let boxes = 0;
  const sheets = pages.map((page) => {
    const figure = document.createElement("figure");
    figure.className = "page-figure";
    const caption = document.createElement("figcaption");
    caption.className = "fine";
    caption.textContent = pages.length > 1 || page.page > 1 ? `Page ${page.page}` : "";
    if (page.error) {
      const error = document.createElement("p");
      error.className = "status error";
      error.textContent = `Page ${page.page}: ${page.error}`;
      figure.append(error);
      return figure;
    }
    const sheet = document.createElement("div");
    sheet.className = "page-sheet";
    sheet.style.aspectRatio = `${page.width} / ${page.height}`;
    if (pageImageUrl && pages.length === 1) {
      const img = document.createElement("img");
      img.className = "page-image";
      img.alt = `the uploaded page${page.page > 1 ? ` ${page.page}` : ""}`;
      img.addEventListener("error", () => img.remove());  // a format the browser cannot draw: a white page
      img.src = pageImageUrl;
      sheet.append(img);
    } else {
      sheet.setAttribute("role", "img");
      sheet.setAttribute("aria-label", `page ${page.page} (a PDF page is drawn as a white sheet with its boxes)`);
    }
    let count = 0;
    for (const block of page.blocks ?? []) {
      const kind = BOX_KIND[block.type];
      if (!kind) continue;
      const [x0, y0, x1, y1] = block.bbox;
      const box = document.createElement("div");
      box.className = `page-box ${kind}`;
      box.dataset.type = block.type;
      Object.assign(box.style, {
        left: `${(100 * x0) / page.width}%`, top: `${(100 * y0) / page.height}%`,
        width: `${(100 * (x1 - x0)) / page.width}%`, height: `${(100 * (y1 - y0)) / page.height}%`,
      });
      const what = block.latex ?? block.text ?? block.type.replace("_", " ");
      const sure = typeof block.confidence === "number" ? ` (${Math.round(block.confidence * 100)}%)` : "";
      box.title = `${what}${sure}`;
      sheet.append(box);
      count += 1;
    }
    sheet.dataset.boxes = String(count);
    boxes += count;
    caption.hidden = !caption.textContent;
    figure.append(sheet, caption);
    return figure;
  });
  pageUi.view.replaceChildren(...sheets);
  pageUi.view.dataset.boxes = String(boxes);
  renderPageMarkdown();
  pageUi.output.hidden = false;
  const formulas = good.flatMap((p) => p.blocks ?? []).filter((b) => b.type.endsWith("_formula")).length;
  const facts = [`${good.length} of ${pages.length} page${pages.length === 1 ? "" : "s"}`,
    `${formulas} formula${formulas === 1 ? "" : "s"}`];
  if (typeof answer.ms === "number") facts.push(`${(answer.ms / 1000).toFixed(1)} s`);
  pageUi.facts.textContent = facts.join(" · ");
  pageUi.facts.hidden = false;
  pageUi.copyMarkdown.disabled = false;
  pageUi.copyJson.disabled = false;
  if (good.length === 0) setPageStatus("Could not read the page: no page could be read.", "error");
  else if (good.length < pages.length) setPageStatus("Some pages could not be read; see them marked below.", "error");
  else setPageStatus("");
}

// ---- Markdown -> DOM: text is set as text (never HTML); $…$ and $$…$$ go through KaTeX --------

function mathNode(tex, display) {
  const node = document.createElement(display ? "div" : "span");
  node.className = display ? "math-display" : "math-inline";
  if (katexState === "ready") {
    window.katex.render(tex, node, { displayMode: display, throwOnError: false, strict: "ignore" });
  } else {
    node.classList.add("plain");
    node.textContent = display ? `$$${tex}$$` : `$${tex}$`;
  }
  return node;
}

// Text with inline math: `$$…$$` inside a paragraph is drawn as display math, `$…$` inline.
function inlineNodes(text) {
  const nodes = [];
  const pattern = /\$\$([\s\S]+?)\$\$|\$([^$\n]+?)\$/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
    nodes.push(match[1] !== undefined ? mathNode(match[1], true) : mathNode(match[2], false));
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

function markdownNodes(markdown) {
  const out = [];
  for (const raw of markdown.split(/\n[ \t]*\n/)) {
    const para = raw.trim();
    if (!para) continue;
    if (/^(-{3,}|\*{3,})$/.test(para)) {
      out.push(document.createElement("hr"));
      continue;
    }
    const display = /^\$\$([\s\S]+)\$\$$/.exec(para);
    if (display && !display[1].includes("$$")) {
      out.push(mathNode(display[1].trim(), true));
      continue;
    }
    const heading = /^(#{1,6})\s+([\s\S]*)$/.exec(para);
    if (heading) {
      const h = document.createElement(`h${Math.min(6, heading[1].length + 2)}`);  // under the card's h2
      h.append(...inlineNodes(heading[2]));
      out.push(h);
      continue;
    }
    const p = document.createElement("p");
    if (/^!\[[^\]]*\]\([^)]*\)$/.test(para)) {  // a figure: no picture of it here
      p.className = "figure-placeholder";
      p.textContent = "[figure]";
    } else {
      p.append(...inlineNodes(para));
    }
    out.push(p);
  }
  return out;
}

function renderPageMarkdown() {
  if (!pageAnswer) return;
  pageUi.markdown.replaceChildren(...markdownNodes(pageAnswer.markdown ?? ""));
}

async function copyText(text, button, what) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement("textarea");  // no clipboard API (plain http off localhost)
    area.value = text;
    area.className = "visually-hidden";
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    if (!ok) {
      setPageStatus("Copy is blocked here by the browser.", "error");
      return;
    }
  }
  const label = button.dataset.label ?? (button.dataset.label = button.textContent);
  button.textContent = "Copied";
  setPageStatus(`${what} copied to the clipboard.`);
  clearTimeout(button.copiedTimer);
  button.copiedTimer = setTimeout(() => { button.textContent = label; }, 1500);
}

pageUi.copyMarkdown.addEventListener("click", () => {
  if (pageAnswer) copyText(pageAnswer.markdown ?? "", pageUi.copyMarkdown, "Markdown");
});
pageUi.copyJson.addEventListener("click", () => {
  if (pageAnswer) copyText(JSON.stringify(pageAnswer, null, 2), pageUi.copyJson, "JSON");
});

pageUi.choose.addEventListener("click", () => pageUi.fileInput.click());
pageUi.fileInput.addEventListener("change", () => {
  const file = pageUi.fileInput.files[0];
  if (file) readPage(file);
  pageUi.fileInput.value = "";
});

loadKatex();
onLatexChanged();
clearPageResult();
