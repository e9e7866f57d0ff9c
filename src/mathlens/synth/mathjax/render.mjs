// Web-style formula renderer for mathlens: MathJax (TeX -> SVG) then resvg (SVG -> PNG).
//
// A long-lived process so that MathJax loads once. Protocol, one JSON object per line:
//   stdin:  {"key": "...", "latex": "...", "display": true, "scale": 1.0, "out": "/abs/path.png"}
//   stdout: {"key": "...", "ok": true}  or  {"key": "...", "ok": false, "error": "..."}
// Answers come in request order. A formula MathJax cannot parse (unknown macro, bad braces) is
// answered with ok=false and no file, never drawn as red error text. The PNG is 8-bit grayscale,
// black ink on white, cropped to the ink plus MARGIN_PX. At scale 1, 1 em = EM_PX pixels.
// Run `bash scripts/install-web-renderer.sh` first.

import fs from 'node:fs';
import readline from 'node:readline';
import zlib from 'node:zlib';

import { Resvg } from '@resvg/resvg-js';
import { liteAdaptor } from 'mathjax-full/js/adaptors/liteAdaptor.js';
import { RegisterHTMLHandler } from 'mathjax-full/js/handlers/html.js';
import { TeX } from 'mathjax-full/js/input/tex.js';
import 'mathjax-full/js/input/tex/ams/AmsConfiguration.js';
import 'mathjax-full/js/input/tex/base/BaseConfiguration.js';
import 'mathjax-full/js/input/tex/boldsymbol/BoldsymbolConfiguration.js';
import 'mathjax-full/js/input/tex/configmacros/ConfigMacrosConfiguration.js';
import 'mathjax-full/js/input/tex/mathtools/MathtoolsConfiguration.js';
import 'mathjax-full/js/input/tex/newcommand/NewcommandConfiguration.js';
import 'mathjax-full/js/input/tex/textmacros/TextMacrosConfiguration.js';
import { mathjax } from 'mathjax-full/js/mathjax.js';
import { SVG } from 'mathjax-full/js/output/svg.js';

const EM_PX = 16; // CSS default font size: what a browser shows at 100 % zoom
const MARGIN_PX = 2;
const INK_LEVEL = 250; // a gray value below this counts as ink when cropping
const MAX_SIDE_PX = 10000;
const MAX_ERROR_CHARS = 400; // keeps answers short so the pipe to Python never fills

// The TeX setup matches render.py's preamble (amsmath, amssymb, mathrsfs, bm) as far as
// MathJax goes: \mathscr is in base, \bm becomes \boldsymbol. No noerrors / noundefined.
const TEX_PACKAGES = ['base', 'ams', 'newcommand', 'configmacros', 'boldsymbol', 'mathtools', 'textmacros'];
const NEWCOMMAND_MAPS = ['new-Command', 'new-Delimiter', 'new-Environment'];

function createConverter() {
  const adaptor = liteAdaptor();
  RegisterHTMLHandler(adaptor);
  const tex = new TeX({
    packages: TEX_PACKAGES,
    macros: { bm: ['\\boldsymbol{#1}', 1] },
    maxBuffer: 64 * 1024,
    formatError: (_jax, err) => { throw err; },
  });
  const svg = new SVG({ fontCache: 'local' });
  const doc = mathjax.document('', { InputJax: tex, OutputJax: svg });
  const definitions = NEWCOMMAND_MAPS.map((name) => tex.parseOptions.handlers.retrieve(name));
  return { adaptor, doc, definitions };
}

// Forgets \newcommand / \def / \newenvironment results, so each formula starts from scratch.
function forgetDefinitions(converter) {
  for (const map of converter.definitions) map.map.clear();
}

// LaTeX -> standalone SVG markup; throws on any MathJax error.
function texToSvg(converter, latex, display) {
  const { adaptor, doc } = converter;
  doc.reset();
  forgetDefinitions(converter);
  const node = doc.convert(latex, { display, em: EM_PX, ex: EM_PX / 2, containerWidth: 80 * EM_PX });
  const markup = adaptor.innerHTML(node);
  if (markup.includes('data-mjx-error') || markup.includes('data-mml-node="merror"')) {
    throw new Error('MathJax reported an error in the formula');
  }
  return markup;
}

// Gives the SVG absolute pixel dimensions from its viewBox (MathJax uses 1000 units per em).
function sizeSvg(markup, scale) {
  const viewBox = /viewBox="([^"]+)"/.exec(markup);
  if (!viewBox) throw new Error('SVG without viewBox');
  const [, , width, height] = viewBox[1].trim().split(/\s+/).map(Number);
  const pxPerUnit = (EM_PX * scale) / 1000;
  const widthPx = Math.max(1, Math.ceil(width * pxPerUnit));
  const heightPx = Math.max(1, Math.ceil(height * pxPerUnit));
  if (widthPx > MAX_SIDE_PX || heightPx > MAX_SIDE_PX) {
    throw new Error(`image too large: ${widthPx}x${heightPx} px`);
  }
  return markup
    .replace(/^<svg([^>]*?) width="[^"]*"/, `<svg$1 width="${widthPx}"`)
    .replace(/^<svg([^>]*?) height="[^"]*"/, `<svg$1 height="${heightPx}"`);
}

// SVG -> {gray, width, height}: one byte per pixel, white background.
function rasterize(markup) {
  const image = new Resvg(markup, {
    background: 'white',
    font: { loadSystemFonts: false }, // MathJax draws glyphs as paths
    logLevel: 'off',
  }).render();
  const rgba = image.pixels;
  const gray = Buffer.alloc(image.width * image.height);
  for (let i = 0; i < gray.length; i++) {
    const p = 4 * i;
    gray[i] = (rgba[p] * 299 + rgba[p + 1] * 587 + rgba[p + 2] * 114 + 500) / 1000;
  }
  return { gray, width: image.width, height: image.height };
}

// Crops to the ink and pads with MARGIN_PX of white; throws if there is no ink at all.
function cropToInk({ gray, width, height }) {
  let top = height, bottom = -1, left = width, right = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (gray[row + x] < INK_LEVEL) {
        if (y < top) top = y;
        bottom = y;
        if (x < left) left = x;
        if (x > right) right = x;
      }
    }
  }
  if (bottom < 0) throw new Error('formula has no ink');
  const outWidth = right - left + 1 + 2 * MARGIN_PX;
  const outHeight = bottom - top + 1 + 2 * MARGIN_PX;
  const out = Buffer.alloc(outWidth * outHeight, 255);
  for (let y = top; y <= bottom; y++) {
    const dst = (y - top + MARGIN_PX) * outWidth + MARGIN_PX;
    gray.copy(out, dst, y * width + left, y * width + right + 1);
  }
  return { gray: out, width: outWidth, height: outHeight };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

// 8-bit grayscale PNG, no filtering (the images are small and mostly white).
function encodeGrayPng({ gray, width, height }) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8); // bit depth 8, colour type 0 (gray)
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) gray.copy(raw, y * (width + 1) + 1, y * width, (y + 1) * width);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', zlib.deflateSync(raw, { level: 6 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function writeAtomically(path, bytes) {
  const tmp = `${path}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, path);
}

function handle(converter, request) {
  const { latex, display, out } = request;
  const scale = request.scale ?? 1;
  if (typeof latex !== 'string' || typeof out !== 'string') throw new Error('need "latex" and "out" strings');
  if (!(scale > 0)) throw new Error(`bad scale ${scale}`);
  const markup = sizeSvg(texToSvg(converter, latex, Boolean(display)), scale);
  writeAtomically(out, encodeGrayPng(cropToInk(rasterize(markup))));
}

function main() {
  const converter = createConverter();
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    let key = null;
    let answer;
    try {
      const request = JSON.parse(line);
      key = request.key ?? null;
      handle(converter, request);
      answer = { key, ok: true };
    } catch (err) {
      const message = String(err && err.message ? err.message : err).slice(0, MAX_ERROR_CHARS);
      answer = { key, ok: false, error: message };
    }
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  });
}

main();
