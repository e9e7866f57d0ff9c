"""`create_app(predictor, cfg)`: the FastAPI app, a thin shell around `Predictor.predict`.

State (batcher, thread pool, counters) is created in the lifespan and kept on `app.state`, so
several apps can live in one process (tests) and nothing happens at import.

Endpoints: POST /v1/recognize (an image or InkML file), POST /v1/recognize/batch, POST
/v1/recognize/strokes (ink from a drawing pad), POST /v1/page (a whole page image or PDF to
Markdown: `PageService`), GET /health, GET /version, GET /v1/stats; the
web page at / (files in static/, served under /static/) and the API docs at /docs, both without a
CDN: their libraries are copied into static/vendor/ by scripts/install-web-assets.sh.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence, Sized
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

import numpy as np
from fastapi import FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import UploadFile

from mathlens import __version__
from mathlens.config import DecodeConfig, PreprocessConfig, ServeConfig
from mathlens.inference.inkml import Strokes
from mathlens.errors import InvalidInputError, MathlensError
from mathlens.inference.predictor import META_FILE, Prediction
from mathlens.inference.preprocess import Judge
from mathlens.api import prepare_views
from mathlens.server.batcher import DynamicBatcher
from mathlens.server.inputs import (UploadTooLargeError, prepare_image, prepare_strokes, read_batch, read_single,
                                    read_strokes)
from mathlens.server.memory import release_free_memory
from mathlens.server.middleware import BodyLimitMiddleware, BodyTooLargeError, CountResponsesMiddleware, ResponseCounts
from mathlens.server.schemas import (BatchItem, BatchRequest, ErrorResponse, HealthResponse, ItemError, ModelInfo,
                                     PageResponse, RecognizeRequest, RecognizeResponse, StatsResponse,
                                     StrokesRequest, VersionResponse, json_body_spec, page_body_spec,
                                     request_body_spec)

if TYPE_CHECKING:
    from mathlens.pages.detect import FormulaDetector
    from mathlens.pages.text import TextReader
    from mathlens.pages.types import PageResult

logger = logging.getLogger(__name__)

RECOGNIZE_PREFIX = "/v1/recognize"
PAGE_PATH = "/v1/page"
PAGE_DPI_RANGE = (50.0, 300.0)  # below 50 dpi type is unreadable; above 300 a page is 8+ megapixels for nothing
PAGE_RULE = "\n\n---\n\n"  # between pages in the joined Markdown, as `mathlens page` prints them
BODY_SLACK = 64 * 1024  # multipart boundaries and headers, JSON keys around the base64
STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/static"
# Swagger UI for /docs, copied from the npm package swagger-ui-dist (pinned in tools/web).
SWAGGER_DIR = STATIC_DIR / "vendor" / "swagger-ui"
SWAGGER_URL = STATIC_PATH + "/vendor/swagger-ui"
SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")
# The page loads only its own files (no CDN); KaTeX sets inline styles on what it draws.
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
                                           "style-src 'self' 'unsafe-inline'; font-src 'self' data:; "
                                           "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
T = TypeVar("T")


class ServablePredictor(Protocol):
    """What the server needs of a Predictor (a fake one in the timeout unit test)."""

    @property
    def model_dir(self) -> Path: ...

    @property
    def vocab(self) -> Sized: ...

    @property
    def preprocess_config(self) -> PreprocessConfig: ...

    def predict(self, arrays: list[np.ndarray], cfg: DecodeConfig = ...) -> list[Prediction]: ...

    @property
    def judge(self) -> Judge | None:
        """Which pictures are read at which sizes (`Predictor.judge`)."""

    def conclude(self, readings: Sequence[Prediction]) -> Prediction:
        """One input's readings (a view each) -> the answer, as `Predictor.predict_views` gives it."""


@dataclass
class ServerState:
    """Everything a request handler uses; lives from lifespan start to shutdown."""

    predictor: ServablePredictor
    cfg: ServeConfig
    model_info: ModelInfo
    counts: ResponseCounts
    batcher: DynamicBatcher
    pool: ThreadPoolExecutor  # preprocessing, off the event loop
    pages: PageService

    async def prepare(self, data: bytes) -> list[np.ndarray]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, prepare_image, data, self.predictor.preprocess_config,
                                          self.cfg.max_pixels, self.cfg.views, self.predictor.judge)

    async def prepare_ink(self, strokes: Strokes) -> list[np.ndarray]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, prepare_strokes, strokes, self.predictor.preprocess_config,
                                          self.cfg.max_pixels, self.cfg.views)

    async def read(self, views: list[np.ndarray], decode: DecodeConfig) -> Prediction:
        return await read_views(self.predictor, self.batcher, views, decode)


def create_app(predictor: ServablePredictor, cfg: ServeConfig = ServeConfig()) -> FastAPI:
    """The API for one loaded predictor; serve it with uvicorn (`mathlens serve`)."""
    counts = ResponseCounts()
    model_info = read_model_info(predictor, cfg)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        batcher = DynamicBatcher(predictor, cfg.max_batch, cfg.batch_wait_ms)
        pool = ThreadPoolExecutor(max_workers=max(1, cfg.threads), thread_name_prefix="mathlens-preprocess")
        pages = PageService(predictor, batcher, cfg)
        batcher.start()
        app.state.mathlens = ServerState(predictor, cfg, model_info, counts, batcher, pool, pages)
        logger.info("model ready: vocab %d, max batch %d, batch wait %g ms",
                    model_info.vocab_size, cfg.max_batch, cfg.batch_wait_ms)
        try:
            yield
        finally:
            pages.stop()
            await batcher.stop()
            pool.shutdown(wait=False, cancel_futures=True)

    # docs_url=None: FastAPI's own /docs loads Swagger UI from a CDN; ours serves the vendored copy.
    app = FastAPI(title="mathlens", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Pictures of mathematics to LaTeX. Send an image (or an InkML file) as a "
                              "multipart `file` or as base64 JSON, or the strokes of a drawing as JSON; "
                              "concurrent requests are decoded together. Send a whole page (an image or a "
                              "PDF) to /v1/page for its text and formulas as Markdown. A web page for "
                              "people is at /.")
    _add_routes(app, cfg)
    _add_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limit_for_path=lambda path: body_limit(path, cfg))
    app.add_middleware(CountResponsesMiddleware, counts=counts, prefix=RECOGNIZE_PREFIX)
    return app


def body_limit(path: str, cfg: ServeConfig) -> int | None:
    """Largest request body for a path: an image base64-encoded (x 4/3) plus framing, per image;
    a page upload (multipart only) plus framing."""
    if path == PAGE_PATH:
        return cfg.max_page_upload_bytes + BODY_SLACK
    per_image = cfg.max_upload_bytes * 4 // 3 + BODY_SLACK
    if path == RECOGNIZE_PREFIX + "/batch":
        return per_image * cfg.max_batch_items
    return per_image if path.startswith(RECOGNIZE_PREFIX) else None


def read_model_info(predictor: ServablePredictor, cfg: ServeConfig) -> ModelInfo:
    """Model facts for /version; `quantized` only when the export recorded it."""
    meta_path = predictor.model_dir / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    quantized = meta.get("quantized")
    return ModelInfo(vocab_size=len(predictor.vocab), quantized=quantized if isinstance(quantized, bool) else None,
                     max_batch=cfg.max_batch, max_beam=cfg.max_beam)


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.mathlens
    return state


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorResponse, "description": "upload larger than --max-upload-mb"},
    415: {"model": ErrorResponse, "description": "neither multipart/form-data nor application/json"},
    422: {"model": ErrorResponse, "description": "missing field, beam outside 1 to --max-beam, or an image "
                                                 "that cannot be read (empty, truncated, not an image, too many "
                                                 "pixels, blank, malformed InkML or strokes)"},
    504: {"model": ErrorResponse, "description": "not answered within --timeout-s"},
}


def _add_routes(app: FastAPI, cfg: ServeConfig) -> None:
    max_beam = cfg.max_beam  # the docs show this server's beam limit
    app.add_api_route(RECOGNIZE_PREFIX, recognize, methods=["POST"], response_model=RecognizeResponse,
                      responses=ERROR_RESPONSES,
                      openapi_extra=request_body_spec(RecognizeRequest, batch=False, max_beam=max_beam),
                      summary="Recognize one formula image")
    app.add_api_route(RECOGNIZE_PREFIX + "/batch", recognize_batch, methods=["POST"],
                      response_model=list[BatchItem], responses=ERROR_RESPONSES,
                      openapi_extra=request_body_spec(BatchRequest, batch=True, max_beam=max_beam),
                      summary="Recognize several images; unreadable items get {\"error\"}")
    app.add_api_route(RECOGNIZE_PREFIX + "/strokes", recognize_strokes, methods=["POST"],
                      response_model=RecognizeResponse, responses=ERROR_RESPONSES,
                      openapi_extra=json_body_spec(StrokesRequest, max_beam=max_beam),
                      summary="Recognize ink drawn on a pad: a list of strokes of (x, y) points")
    app.add_api_route(PAGE_PATH, read_page, methods=["POST"], response_model=PageResponse,
                      responses=page_error_responses(cfg),
                      openapi_extra=page_body_spec(dpi=(PAGE_DPI_RANGE[0], cfg.page_dpi, PAGE_DPI_RANGE[1]),
                                                   max_pages=cfg.max_pdf_pages),
                      summary="Read a whole page (an image or a PDF): text and formulas as Markdown, with boxes",
                      description=PAGE_DESCRIPTION)
    app.add_api_route("/health", health, methods=["GET"], response_model=HealthResponse)
    app.add_api_route("/version", version, methods=["GET"], response_model=VersionResponse)
    app.add_api_route("/v1/stats", stats, methods=["GET"], response_model=StatsResponse)
    app.add_api_route("/", page, methods=["GET"], include_in_schema=False)
    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="static")


async def recognize(request: Request) -> RecognizeResponse:
    """Multipart `file` or JSON `{"image_base64", "beam"}` -> LaTeX."""
    state, start = _state(request), time.perf_counter()

    async def work() -> RecognizeResponse:
        data, beam = await read_single(request, state.cfg)
        pred = await state.read(await state.prepare(data), DecodeConfig(beam_size=beam))
        return _response(pred, start)

    return await _with_timeout(work(), state.cfg.timeout_s)


async def recognize_strokes(request: Request) -> RecognizeResponse:
    """JSON `{"strokes": [[[x, y], ...], ...], "beam"}` -> LaTeX; drawn, then batched like images."""
    state, start = _state(request), time.perf_counter()

    async def work() -> RecognizeResponse:
        strokes, beam = await read_strokes(request, state.cfg)
        pred = await state.read(await state.prepare_ink(strokes), DecodeConfig(beam_size=beam))
        return _response(pred, start)

    return await _with_timeout(work(), state.cfg.timeout_s)


async def recognize_batch(request: Request) -> list[BatchItem]:
    """Multipart `files` or JSON `{"images_base64": [...]}` -> one result per image, in order."""
    state, start = _state(request), time.perf_counter()

    async def work() -> list[BatchItem]:
        upload = await read_batch(request, state.cfg)
        prepared = await asyncio.gather(*(_prepare_item(state, item) for item in upload.items))
        decode = DecodeConfig(beam_size=upload.beam)
        return list(await asyncio.gather(*(_decode_item(state, item, decode, start) for item in prepared)))

    return await _with_timeout(work(), state.cfg.timeout_s)


async def _prepare_item(state: ServerState, item: bytes | InvalidInputError) -> list[np.ndarray] | InvalidInputError:
    if isinstance(item, InvalidInputError):
        return item
    try:
        return await state.prepare(item)
    except InvalidInputError as err:
        return err


async def _decode_item(state: ServerState, item: list[np.ndarray] | InvalidInputError, decode: DecodeConfig,
                       start: float) -> BatchItem:
    if isinstance(item, InvalidInputError):
        return ItemError(error=str(item))
    return _response(await state.read(item, decode), start)


def _response(pred: Prediction, start: float) -> RecognizeResponse:
    return RecognizeResponse(latex=pred.latex, confidence=pred.confidence, tokens=list(pred.tokens),
                             unsure=pred.unsure, ms=round((time.perf_counter() - start) * 1000, 1))


async def _with_timeout(work: Awaitable[T], timeout_s: float, hint: str = "the server is busy, try again") -> T:
    """The request's whole life (upload, preprocessing, queue, decoding) within --timeout-s."""
    try:
        return await asyncio.wait_for(work, timeout_s)
    except asyncio.TimeoutError:
        raise HTTPException(504, f"not answered within {timeout_s:g} s; {hint}") from None


# ---- Page reading: POST /v1/page ------------------------------------------------------------

PAGE_DESCRIPTION = """A page image (PNG, JPEG, ...) or a PDF as the multipart field `file`; `pages` and
`dpi` may come in the form or in the query. The answer holds each selected page, in order: its
size in pixels, its blocks in reading order (text, inline and display formulas with their LaTeX,
figures, tables; each with a box `[x0, y0, x1, y1]` in the page's pixels) and its Markdown; and
every page's Markdown joined by a `---` rule. A PDF page that cannot be read comes back as
`{"path", "page", "error"}` while the other pages are still read. Pages are read one request at a
time (a page takes seconds); formula requests go on meanwhile."""


class PageReadingUnavailableError(MathlensError):
    """This server cannot read pages (no detector weights, no `page` extra): 503, not the input's fault."""


class TooManyPagesError(UploadTooLargeError):
    """A PDF request that selects more than ServeConfig.max_pdf_pages pages: 413, saying how to pick fewer."""


class PagesCancelledError(Exception):
    """The request gave up (timeout, client gone): its page thread stops at the next page or model call."""


@dataclass(frozen=True)
class PageUpload:
    """What a page request asked for."""

    data: bytes
    name: str  # the uploaded file's name, echoed as each page's `path`
    pages: str | None
    dpi: float


@dataclass
class PageJob:
    """One page request as its thread sees it; `cancel()` comes from the event loop."""

    upload: PageUpload
    loop: asyncio.AbstractEventLoop
    cancelled: threading.Event = field(default_factory=threading.Event)
    pending: concurrent.futures.Future[list[Prediction]] | None = None  # the model call it waits for

    def cancel(self) -> None:
        self.cancelled.set()
        if self.pending is not None:
            self.pending.cancel()  # its formulas leave the batcher's queue


async def read_views(predictor: ServablePredictor, batcher: DynamicBatcher, views: list[np.ndarray],
                     decode: DecodeConfig) -> Prediction:
    """Each view batched with other requests' images; the answer concluded from their readings."""
    return predictor.conclude(await asyncio.gather(*(batcher.submit(view, decode) for view in views)))


class BatcherRecognizer:
    """PageReader's recognizer (`recognize_batch`) answered by the server's own model and batcher.

    A page's formulas then share the one-model-call-at-a-time queue with formula requests, instead
    of a second copy of the model competing for the same cores; /v1/stats counts them.
    """

    def __init__(self, predictor: ServablePredictor, batcher: DynamicBatcher, decode: DecodeConfig,
                 job: PageJob) -> None:
        self.predictor, self.batcher, self.decode, self.job = predictor, batcher, decode, job

    def recognize_batch(self, images: Sequence[Any], *,
                        errors: Literal["raise", "return"] = "raise") -> list[Prediction]:
        """Formula crops -> readings, in order; runs in the page thread, waits on the event loop."""
        views, failed = prepare_views(self.predictor, self.decode, images, errors)
        readings = dict(zip(views, self._read(list(views.values()))))
        return [readings[i] if i in readings else failed[i] for i in range(len(images))]

    def _read(self, groups: list[list[np.ndarray]]) -> list[Prediction]:
        if self.job.cancelled.is_set():
            raise PagesCancelledError
        if not groups:
            return []

        async def read_all() -> list[Prediction]:
            return list(await asyncio.gather(*(read_views(self.predictor, self.batcher, views, self.decode)
                                               for views in groups)))

        self.job.pending = asyncio.run_coroutine_threadsafe(read_all(), self.job.loop)
        try:
            return self.job.pending.result()
        except concurrent.futures.CancelledError:
            raise PagesCancelledError from None
        finally:
            self.job.pending = None


class PageService:
    """Page reading for one app: one request at a time in its own thread (a page keeps the CPUs busy
    for seconds), the detector and OCR models loaded on first use and kept, formulas read by the
    server's own model (BatcherRecognizer)."""

    def __init__(self, predictor: ServablePredictor, batcher: DynamicBatcher, cfg: ServeConfig) -> None:
        self.predictor, self.batcher, self.cfg = predictor, batcher, cfg
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mathlens-page")
        self._parts: tuple[FormulaDetector, TextReader] | None = None

    def stop(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def read(self, job: PageJob) -> list[PageResult]:
        return await asyncio.get_running_loop().run_in_executor(self.pool, self._read, job)

    def _read(self, job: PageJob) -> list[PageResult]:
        """In the page thread: every selected page, stopping early when the request is cancelled."""
        from mathlens.pages.reader import PageConfig, PageReader

        if job.cancelled.is_set():
            raise PagesCancelledError  # timed out while queued behind another page request
        upload = job.upload
        check_page_count(upload, self.cfg.max_pdf_pages)
        detector, text_reader = self._load_parts()
        config = PageConfig(dpi=upload.dpi, max_pages=self.cfg.max_pdf_pages, num_threads=max(1, self.cfg.threads))
        reader = PageReader(config, recognizer=BatcherRecognizer(self.predictor, self.batcher, config.decode, job),
                            detector=detector, text_reader=text_reader)
        results = []
        try:
            for result in reader.read(upload.data, pages=upload.pages, name=upload.name):
                results.append(result)
                if job.cancelled.is_set():
                    raise PagesCancelledError
        finally:
            release_free_memory()  # a page is megapixels of float copies: give them back (memory.py)
        return results

    def _load_parts(self) -> tuple[FormulaDetector, TextReader]:
        """The detector and OCR, loaded once; a server without them says so (503) instead of failing each page."""
        if self._parts is None:
            from mathlens.pages.detect import FormulaDetector
            from mathlens.pages.text import TextReader

            try:
                detector = FormulaDetector(num_threads=max(1, self.cfg.threads))
                detector.session  # noqa: B018 (loads the weights now)
                text_reader = TextReader(num_threads=max(1, self.cfg.threads))
                text_reader.load()
            except MathlensError as err:
                raise PageReadingUnavailableError(f"this server cannot read pages: {err}") from err
            self._parts = detector, text_reader
        return self._parts


def check_page_count(upload: PageUpload, limit: int) -> None:
    """Refuse a PDF request for more than `limit` pages, in the server's terms (its limit, the `pages` parameter).

    Only a PDF that opens is counted here; anything wrong with the file is document.py's to report.
    """
    from mathlens.pages.document import _PDFIUM_LOCK, is_pdf, parse_page_range

    if not is_pdf(upload.data):
        return
    try:
        import pypdfium2
    except ImportError:
        return
    with _PDFIUM_LOCK:  # pdfium is not thread-safe; document.py holds the same lock
        try:
            pdf = pypdfium2.PdfDocument(upload.data)
        except pypdfium2.PdfiumError:
            return
        num_pages = len(pdf)
        pdf.close()
    selected = num_pages if upload.pages is None else len(parse_page_range(upload.pages, num_pages))
    if selected <= limit:
        return
    what = (f"the PDF has {num_pages} pages" if upload.pages is None
            else f"pages={upload.pages} selects {selected} of the PDF's {num_pages} pages")
    raise TooManyPagesError(f"{upload.name}: {what}, more than this server's limit of {limit} pages per request "
                            f"(max_pdf_pages): choose fewer with the `pages` parameter, e.g. pages=1-{limit}")


async def read_page(request: Request) -> JSONResponse:
    """Multipart `file` (a page image or a PDF), `pages`, `dpi` -> each page's blocks and Markdown."""
    state, start = _state(request), time.perf_counter()
    jobs: list[PageJob] = []

    async def work() -> JSONResponse:
        job = PageJob(await read_page_upload(request, state.cfg), asyncio.get_running_loop())
        jobs.append(job)
        return JSONResponse(page_response(await state.pages.read(job), start))

    try:
        return await _with_timeout(work(), state.cfg.page_timeout_s,
                                   hint="the server is busy or the pages are many: try again, or fewer `pages`")
    finally:
        for job in jobs:
            job.cancel()  # after a timeout its thread stops at the next page; after an answer, a no-op


def page_response(results: Sequence[PageResult], start: float) -> dict[str, Any]:
    """The pages as PageResult.to_json gives them, and their Markdown joined (a failed page as a comment)."""
    parts = [r.markdown.strip("\n") if r.error is None else f"<!-- page {r.page}: {r.error.replace('--', '- -')} -->"
             for r in results]
    markdown = PAGE_RULE.join(parts)
    return {"pages": [r.to_json() for r in results], "markdown": markdown + "\n" if markdown else "",
            "ms": round((time.perf_counter() - start) * 1000, 1)}


async def read_page_upload(request: Request, cfg: ServeConfig) -> PageUpload:
    """The multipart `file`, with `pages` and `dpi` from the form or the query; raises 4xx errors."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise HTTPException(415, f"unsupported content type {content_type or '(none)'!r}: send multipart/form-data "
                                 "with the page image or PDF as the field 'file'")
    form = await request.form(max_files=1, max_fields=8)
    try:
        upload = form.get("file")
        if upload is None:
            raise HTTPException(422, "missing multipart field 'file' (a page image or a PDF)")
        if not isinstance(upload, UploadFile):
            raise HTTPException(422, "multipart field 'file' must be a file upload, not a text value")
        data = await upload.read(cfg.max_page_upload_bytes + 1)  # the body limit already bounds it
        pages, dpi = _page_field(form.get("pages"), request, "pages"), _page_field(form.get("dpi"), request, "dpi")
        name = (upload.filename or "upload")[-200:]
    finally:
        await form.close()
    if len(data) > cfg.max_page_upload_bytes:
        raise UploadTooLargeError(f"file too large: more than {cfg.max_page_upload_bytes:,} bytes "
                                  f"(limit {cfg.max_page_upload_mb:g} MB per page request)")
    if not data:
        raise InvalidInputError("the uploaded file is empty")
    return PageUpload(data, name, _pages(pages), _dpi(dpi, cfg))


def _page_field(form_value: Any, request: Request, name: str) -> str | None:
    """A form field, else the query parameter of the same name; a file where text belongs is a 422."""
    if form_value is None:
        return request.query_params.get(name)
    if not isinstance(form_value, str):
        raise HTTPException(422, f"{name}: must be a text value, not a file")
    return form_value


PAGES_SYNTAX = re.compile(r"[0-9][0-9,\- ]{0,199}")
DPI_SYNTAX = re.compile(r"[0-9]{1,4}(\.[0-9]{1,3})?")


def _pages(raw: str | None) -> str | None:
    """A page range such as "2-5" or "1,3,7-" (checked in full when the document is opened); "" means all."""
    if raw is None or not raw.strip():
        return None
    if not PAGES_SYNTAX.fullmatch(raw.strip()):
        shown = repr(raw) if len(raw) <= 40 else f"{len(raw):,} characters"
        raise InvalidInputError(f'pages: expected 1-based page numbers and ranges such as "2-5" or "1,3,7-", got {shown}')
    return raw.strip()


def _dpi(raw: str | None, cfg: ServeConfig) -> float:
    """The request's rendering resolution, or the server's; only plain decimal numbers in range."""
    if raw is None or not raw.strip():
        return cfg.page_dpi
    low, high = PAGE_DPI_RANGE
    text = raw.strip()
    if not DPI_SYNTAX.fullmatch(text) or not low <= float(text) <= high:
        shown = repr(raw) if len(raw) <= 20 else f"{len(raw):,} characters"
        raise InvalidInputError(f"dpi: must be a number from {low:g} to {high:g}, got {shown}")
    return float(text)


def page_error_responses(cfg: ServeConfig) -> dict[int | str, dict[str, Any]]:
    """The page endpoint's 4xx/5xx answers, with this server's limits, for /docs."""
    return {
        413: {"model": ErrorResponse, "description": f"file larger than {cfg.max_page_upload_mb:g} MB "
                                                     f"(--max-page-upload-mb), or more than {cfg.max_pdf_pages} "
                                                     "pages selected (pick fewer with `pages`)"},
        415: {"model": ErrorResponse, "description": "not multipart/form-data"},
        422: {"model": ErrorResponse, "description": "missing `file`; `pages` or `dpi` malformed or out of range; "
                                                     "a file that is not a page (empty, not an image or PDF, a "
                                                     "corrupt or encrypted PDF, pages beyond its end)"},
        503: {"model": ErrorResponse, "description": "this server cannot read pages (the formula detector or the "
                                                     "`page` extra is not installed)"},
        504: {"model": ErrorResponse, "description": f"not answered within {cfg.page_timeout_s:g} s "
                                                     "(--page-timeout-s)"},
    }


async def page() -> FileResponse:
    """The web page: paste, drop, pick or draw a formula; edit the LaTeX with a live preview."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=PAGE_HEADERS)


async def docs(request: Request) -> HTMLResponse:
    """Swagger UI from static/vendor/ (works offline), or a 503 that says how to install it."""
    missing = [name for name in SWAGGER_FILES if not (SWAGGER_DIR / name).is_file()]
    if missing:
        return HTMLResponse(DOCS_MISSING_HTML.format(files=", ".join(missing)), status_code=503)
    root = request.scope.get("root_path", "").rstrip("/")
    return get_swagger_ui_html(
        openapi_url=root + request.app.openapi_url, title=f"{request.app.title} API",
        swagger_js_url=f"{root}{SWAGGER_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{SWAGGER_URL}/swagger-ui.css",
        swagger_favicon_url=f"{root}{SWAGGER_URL}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None})  # Swagger's default validator is an outside service


DOCS_MISSING_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mathlens API docs: not installed</title></head>
<body>
<h1>The API docs are not installed on this server</h1>
<p>Swagger UI is served from this server's own files, which are missing ({files}).
Run <code>bash scripts/install-web-assets.sh</code> in the mathlens checkout (needs node and npm),
then reload this page.</p>
<p>The API itself works; its description is at <a href="openapi.json">openapi.json</a>.</p>
</body></html>
"""


async def health(request: Request) -> HealthResponse:
    """200 once the model is loaded (it is loaded before the app starts)."""
    state = _state(request)
    return HealthResponse(model_loaded=True, num_requests=state.counts.num_requests,
                          num_batches=state.batcher.stats.num_batches,
                          max_batch_size=state.batcher.stats.max_batch_size)


async def version(request: Request) -> VersionResponse:
    return VersionResponse(mathlens=__version__, model=_state(request).model_info)


async def stats(request: Request) -> StatsResponse:
    """Counters for load tests and dashboards, with the process's resident memory."""
    state = _state(request)
    batches, counts = state.batcher.stats, state.counts
    return StatsResponse(model_loaded=True, num_requests=counts.num_requests, num_batches=batches.num_batches,
                         max_batch_size=batches.max_batch_size, num_errors=counts.num_errors,
                         num_timeouts=counts.num_timeouts, num_images=batches.num_images,
                         batch_sizes=dict(sorted(batches.batch_sizes.items())), queue_depth=state.batcher.queue_depth,
                         rss_bytes=process_rss_bytes(), uptime_s=round(time.monotonic() - counts.started, 3))


def process_rss_bytes() -> int:
    """Current resident memory (Linux /proc); elsewhere the peak, which getrusage reports."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource  # Unix only, and only reached off Linux

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _add_error_handlers(app: FastAPI) -> None:
    """Typed errors -> status codes with `{"detail": message}`; bad input is never a 500."""
    def handler(status: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
        async def handle(request: Request, err: Exception) -> JSONResponse:
            logger.info("%s %s -> %d: %s", request.method, request.url.path, status, err)
            return JSONResponse({"detail": str(err)}, status_code=status)
        return handle

    app.add_exception_handler(UploadTooLargeError, handler(413))
    app.add_exception_handler(BodyTooLargeError, handler(413))
    app.add_exception_handler(InvalidInputError, handler(422))
    app.add_exception_handler(PageReadingUnavailableError, handler(503))

    async def internal(request: Request, err: Exception) -> JSONResponse:
        return JSONResponse({"detail": "internal server error (logged on the server)"}, status_code=500)

    app.add_exception_handler(Exception, internal)  # JSON, like every other answer; uvicorn logs the traceback
