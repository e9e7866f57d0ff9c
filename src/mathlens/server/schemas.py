"""Request and response models of the HTTP API; FastAPI turns them into the OpenAPI schema (/docs)."""

from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

# The beam's range is the server's (ServeConfig.max_beam), so the server checks it (inputs.py),
# not these models, and `request_body_spec` writes it into the OpenAPI schema.
BEAM_HELP = ("beam size, from 1 (greedy decoding) to the server's `--max-beam`; "
             "default: the server's (`mathlens serve --beam`, 3)")


class RecognizeRequest(BaseModel):
    """JSON form of a single-image request (the other form is multipart with a `file` field)."""

    model_config = ConfigDict(extra="forbid")

    image_base64: str = Field(description="the image file (PNG, JPEG, ...) base64-encoded; a data: URL prefix is allowed",
                              min_length=1)
    beam: int | None = Field(None, description=BEAM_HELP)


class BatchRequest(BaseModel):
    """JSON form of a batch request (the other form is multipart with several `files` fields)."""

    model_config = ConfigDict(extra="forbid")

    images_base64: list[str] = Field(min_length=1, description="image files, base64-encoded")
    beam: int | None = Field(None, description=BEAM_HELP)


class StrokesRequest(BaseModel):
    """Ink from a drawing pad: strokes, each a list of points in any units (y grows downwards)."""

    model_config = ConfigDict(extra="forbid")

    strokes: list[list[list[float]]] = Field(
        min_length=1, description="strokes, each a list of [x, y] points: exactly two numbers each (a point with a "
                                  "third value, such as time or depth, is refused)",
        examples=[[[[10, 10], [10, 40]], [[0, 25], [20, 25]]]])
    beam: int | None = Field(None, description=BEAM_HELP)


class RecognizeResponse(BaseModel):
    latex: str = Field(description="compact LaTeX, braces and environments balanced")
    confidence: float = Field(ge=0.0, le=1.0, description="the model's estimate that the reading is exactly right "
                                                           "(calibrated; for a model without a calibration, the "
                                                           "geometric mean of the token probabilities)")
    tokens: list[str] = Field(description="the normalized tokens the LaTeX was built from")
    unsure: str | None = Field(description="why this reading should not be trusted (e.g. \"low confidence\", "
                                           "\"too little ink to be a formula\"): show it to the user beside the "
                                           "LaTeX; null when the model has no such doubt",
                               examples=[None, "low confidence"])
    ms: float = Field(description="server time for this request (or batch item), in milliseconds")


class ItemError(BaseModel):
    """A batch item that could not be read; the other items of the batch still succeed."""

    error: str


BatchItem = Union[RecognizeResponse, ItemError]


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer: one readable message."""

    detail: str


class HealthResponse(BaseModel):
    status: str = "ok"
    model_loaded: bool
    num_requests: int = Field(description="recognize requests answered so far (any status)")
    num_batches: int = Field(description="model calls made by the dynamic batcher")
    max_batch_size: int = Field(description="largest number of images decoded in one model call")


class StatsResponse(HealthResponse):
    num_errors: int = Field(description="recognize requests answered with a 4xx or 5xx status")
    num_timeouts: int
    num_images: int = Field(description="images decoded by the model")
    batch_sizes: dict[int, int] = Field(description="model calls by number of images")
    queue_depth: int = Field(description="images waiting for the model now")
    rss_bytes: int = Field(description="resident memory of the server process")
    uptime_s: float


class ModelInfo(BaseModel):
    vocab_size: int
    quantized: bool | None = Field(None, description="from model.json; null when it does not say")
    max_batch: int
    max_beam: int


class VersionResponse(BaseModel):
    mathlens: str
    model: ModelInfo



PAGES_HELP = ('PDF pages to read, 1-based: "3", "2-5", "1,3,7-" (default: all, up to the server\'s '
              "`max_pdf_pages`); ignored for a page image")


class PageBlock(BaseModel):
    """One element of a page, in reading order; `bbox` is in pixels of the page as read."""

    type: Literal["text", "inline_formula", "display_formula", "figure", "table"]
    bbox: list[float] = Field(min_length=4, max_length=4, description="[x0, y0, x1, y1], x right and y down")
    text: str | None = Field(None, description="text and table blocks only (absent otherwise)")
    latex: str | None = Field(None, description="formula blocks only (absent otherwise)")
    confidence: float = Field(ge=0.0, le=1.0)


class PageRead(BaseModel):
    """A page that was read."""

    path: str = Field(description="the uploaded file's name")
    page: int = Field(ge=1, description="1-based page number; 1 for an image")
    width: int = Field(description="the page picture's width in pixels (a PDF page as rendered at `dpi`)")
    height: int
    dpi: float | None = Field(description="a PDF page's rendering resolution; null for an image")
    blocks: list[PageBlock]
    markdown: str = Field(description="the page as Markdown: text, `$inline$` and `$$display$$` formulas")


class PageFailed(BaseModel):
    """A page of a PDF that could not be read; the other pages are still returned."""

    path: str
    page: int
    error: str


class PageResponse(BaseModel):
    pages: list[Union[PageRead, PageFailed]] = Field(description="the selected pages, in order")
    markdown: str = Field(description="every page's Markdown joined by `\\n\\n---\\n\\n` (a failed page "
                                      "as an HTML comment that says why)")
    ms: float = Field(description="server time for this request, in milliseconds")


def multipart_schema(*, batch: bool, max_beam: int) -> dict[str, Any]:
    """OpenAPI schema of the multipart forms, which the endpoints parse themselves."""
    file_field = {"type": "string", "format": "binary"}
    files = {"files": {"type": "array", "items": file_field}} if batch else {"file": file_field}
    return {"type": "object", "required": list(files),
            "properties": {**files, "beam": {**beam_range(max_beam), "description": BEAM_HELP}}}


def beam_range(max_beam: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "maximum": max_beam}


def json_schema(json_model: type[BaseModel], max_beam: int) -> dict[str, Any]:
    """The model's JSON schema with its `beam` bounded by this server's limit."""
    schema = json_model.model_json_schema()
    beam = schema.get("properties", {}).get("beam")
    if beam is not None:
        beam["anyOf"] = [beam_range(max_beam), {"type": "null"}]
    return schema


def request_body_spec(json_model: type[BaseModel], *, batch: bool, max_beam: int) -> dict[str, Any]:
    """`openapi_extra` for an endpoint that takes either JSON or multipart, so /docs shows both."""
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": json_schema(json_model, max_beam)},
        "multipart/form-data": {"schema": multipart_schema(batch=batch, max_beam=max_beam)},
    }}}


def json_body_spec(json_model: type[BaseModel], *, max_beam: int) -> dict[str, Any]:
    """`openapi_extra` for an endpoint that parses its JSON body itself."""
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": json_schema(json_model, max_beam)}}}}


def page_body_spec(*, dpi: tuple[float, float, float], max_pages: int) -> dict[str, Any]:
    """`openapi_extra` for POST /v1/page: a multipart upload, `pages` and `dpi` in the form or the query."""
    low, default, high = dpi
    pages = {"type": "string", "maxLength": 200, "examples": ["1-3"],
             "description": PAGES_HELP.replace("`max_pdf_pages`", f"`max_pdf_pages`, {max_pages}")}
    resolution = {"type": "number", "minimum": low, "maximum": high, "default": default,
                  "description": "resolution PDF pages are rendered at; ignored for a page image"}
    form = {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "a page image (PNG, JPEG, ...) or a PDF"},
        "pages": pages, "dpi": resolution}}
    return {"parameters": [{"name": "pages", "in": "query", "required": False, "schema": pages},
                           {"name": "dpi", "in": "query", "required": False, "schema": resolution}],
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": form}}}}
