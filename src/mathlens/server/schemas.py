"""Request and response models of the HTTP API; FastAPI turns them into the OpenAPI schema (/docs)."""

from __future__ import annotations

from typing import Any, Union

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
