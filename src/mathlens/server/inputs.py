"""Request bodies -> image bytes or ink -> model input; every way an upload can be wrong becomes a 4xx.

The image endpoints take either JSON (base64 images) or multipart uploads, so they parse the body
themselves here, by content type, instead of through FastAPI parameters. Pixel and ink limits are
preprocessing's own (`preprocess_views`), with the server's `max_pixels` passed down.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from fastapi import HTTPException, Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData, UploadFile

from mathlens.config import PreprocessConfig, ServeConfig
from mathlens.inference.inkml import Ink, Strokes, strokes_from_lists
from mathlens.errors import InvalidInputError
from mathlens.inference.preprocess import Judge, preprocess_views
from mathlens.server.memory import release_after_large_picture
from mathlens.server.schemas import BatchRequest, RecognizeRequest, StrokesRequest

logger = logging.getLogger(__name__)

MULTIPART = "multipart/form-data"
JSON = "application/json"
BEAM_DIGITS = re.compile(r"[0-9]{1,6}")

M = TypeVar("M", bound=BaseModel)


class UploadTooLargeError(InvalidInputError):
    """An image over ServeConfig.max_upload_mb (413, not 422: the request was too big, not bad)."""


@dataclass(frozen=True)
class Upload:
    """What a request asked for: image bytes (or why an item is unusable) and the beam size."""

    items: list[bytes | InvalidInputError]
    beam: int


async def read_single(request: Request, cfg: ServeConfig) -> tuple[bytes, int]:
    """One image from a multipart `file` field or a JSON `image_base64`; raises 4xx errors."""
    upload = await _read(request, cfg, batch=False)
    item = upload.items[0]
    if isinstance(item, InvalidInputError):
        raise item
    return item, upload.beam


async def read_batch(request: Request, cfg: ServeConfig) -> Upload:
    """Several images (multipart `files` or JSON `images_base64`); bad items stay in the list."""
    upload = await _read(request, cfg, batch=True)
    if len(upload.items) > cfg.max_batch_items:
        raise HTTPException(422, f"too many images: {len(upload.items)} (limit {cfg.max_batch_items} per request)")
    return upload


async def _read(request: Request, cfg: ServeConfig, *, batch: bool) -> Upload:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == MULTIPART:
        return await _read_multipart(request, cfg, batch=batch)
    if content_type == JSON or content_type.endswith("+json"):
        return await _read_json(request, cfg, batch=batch)
    raise HTTPException(415, f"unsupported content type {content_type or '(none)'!r}: "
                             f"send {MULTIPART} with an image file, or {JSON} with base64 images")


async def read_strokes(request: Request, cfg: ServeConfig) -> tuple[Strokes, int]:
    """JSON `{"strokes": [[[x, y], ...], ...], "beam"}` -> the raw stroke lists and the beam size.

    Only the JSON shape is checked here; prepare_strokes validates the points (in the pool).
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON and not content_type.endswith("+json"):
        raise HTTPException(415, f"unsupported content type {content_type or '(none)'!r}: "
                                 f'send {JSON}: {{"strokes": [[[x, y], ...], ...]}}')
    body = _validate(StrokesRequest, await request.body())
    return body.strokes, _beam(body.beam, cfg)


def _beam(asked: int | None, cfg: ServeConfig) -> int:
    """The request's beam size, or the server's when it did not say; the range is this server's."""
    if asked is None:
        return cfg.beam
    if not 1 <= asked <= cfg.max_beam:
        raise _beam_error(cfg, str(asked) if abs(asked) < 10**9 else "a larger number")
    return asked


def _beam_error(cfg: ServeConfig, got: str) -> HTTPException:
    return HTTPException(422, f"beam: must be an integer from 1 to {cfg.max_beam} (this server's limit), got {got}")


async def _read_multipart(request: Request, cfg: ServeConfig, *, batch: bool) -> Upload:
    name = "files" if batch else "file"
    form = await request.form(max_files=cfg.max_batch_items + 1 if batch else 1, max_fields=8)
    try:
        fields = form.getlist(name)
        if not fields:
            raise HTTPException(422, f"missing multipart field {name!r} (an image file)")
        items = [await _read_upload(field, name, cfg) for field in fields]
        return Upload(items, _beam(_form_beam(form, cfg), cfg))
    finally:
        await form.close()


async def _read_upload(field: UploadFile | str, name: str, cfg: ServeConfig) -> bytes | InvalidInputError:
    if not isinstance(field, UploadFile):
        raise HTTPException(422, f"multipart field {name!r} must be a file upload, not a text value")
    data = await field.read(cfg.max_upload_bytes + 1)  # the body limit already bounds the file
    try:
        return check_size(data, cfg)
    except InvalidInputError as err:
        return err


def _form_beam(form: FormData, cfg: ServeConfig) -> int | None:
    """The form's `beam` as a number; ASCII digits only (int() takes "²" or 10,000 digits badly)."""
    raw = form.get("beam")
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise _beam_error(cfg, "a file")
    if not BEAM_DIGITS.fullmatch(raw.strip()):
        raise _beam_error(cfg, repr(raw) if len(raw) <= 20 else f"{len(raw):,} characters")
    return int(raw)


async def _read_json(request: Request, cfg: ServeConfig, *, batch: bool) -> Upload:
    body = await request.body()
    if batch:
        many = _validate(BatchRequest, body)
        return Upload([_decode_item(text, cfg) for text in many.images_base64], _beam(many.beam, cfg))
    one = _validate(RecognizeRequest, body)
    return Upload([_decode_item(one.image_base64, cfg)], _beam(one.beam, cfg))


def _validate(model: type[M], body: bytes) -> M:
    try:
        return model.model_validate_json(body)
    except ValidationError as err:
        raise HTTPException(422, validation_message(err)) from None


def _decode_item(text: str, cfg: ServeConfig) -> bytes | InvalidInputError:
    try:
        return check_size(decode_base64(text, cfg.max_upload_bytes), cfg)
    except InvalidInputError as err:
        return err


def validation_message(err: ValidationError) -> str:
    """Pydantic's error list as one line a person can read: `beam: Input should be ...`."""
    parts = []
    for e in err.errors(include_url=False):
        where = ".".join(str(p) for p in e["loc"])
        parts.append(f"{where}: {e['msg']}" if where else str(e["msg"]))
    return "; ".join(parts) or "invalid request body"


def decode_base64(text: str, max_bytes: int) -> bytes:
    """Standard base64, whitespace ignored, an optional `data:image/png;base64,` prefix."""
    if text.startswith("data:"):
        text = text.partition(",")[2]
    text = "".join(text.split())
    if len(text) // 4 * 3 > max_bytes + 2:
        raise UploadTooLargeError(f"image too large: about {len(text) // 4 * 3:,} bytes (limit {max_bytes:,})")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError("image_base64 is not valid base64") from None


def check_size(data: bytes, cfg: ServeConfig) -> bytes:
    if len(data) > cfg.max_upload_bytes:
        raise UploadTooLargeError(f"image too large: more than {cfg.max_upload_bytes:,} bytes "
                                  f"(limit {cfg.max_upload_mb:g} MB)")
    return data


def prepare_image(data: bytes, cfg: PreprocessConfig, max_pixels: int | None, views: bool = True,
                  judge: Judge | None = None) -> list[np.ndarray]:
    """Image or InkML bytes -> model input at each view's size (a picture the `judge` takes for
    print at one); runs in the preprocessing pool.

    A large picture's memory is given back once it is read, also when it could not be (memory.py).
    """
    try:
        return preprocess_views(data, cfg, views, max_pixels, judge)
    finally:
        release_after_large_picture(data)


def prepare_strokes(strokes: Strokes, cfg: PreprocessConfig, max_pixels: int | None, views: bool = True) -> list[np.ndarray]:
    """Drawing-pad stroke lists -> model input at each view's size; raises only InvalidInputError."""
    return preprocess_views(Ink(strokes_from_lists(strokes)), cfg, views, max_pixels)
