"""Give a large picture's memory back to the system once it has been read.

Reading a 6000x6000 screenshot allocates a few hundred MB (the decoded pixels, float copies of
them). numpy frees them, but glibc keeps the freed blocks below its mmap threshold (up to 32 MB:
Pillow's 16 MB image blocks, ...) in the arena of the pool thread that used them, so a server
that has read one such picture stays 150-400 MB larger for good. `malloc_trim(0)` hands the free
pages of every arena back. Only glibc has it; elsewhere (musl, macOS, Windows) this is a no-op.
"""

from __future__ import annotations

import ctypes
import io
import logging
from collections.abc import Callable

from PIL import Image

logger = logging.getLogger(__name__)

# Pictures from this size on are followed by a trim (about 10 ms): a 16 MB float ink map. Smaller
# ones leave little behind (measured: 11 MB after 2.3 megapixels, 100 MB after 6).
TRIM_AFTER_PIXELS = 4_000_000


def _find_malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim  # the C library the process runs on
    except (OSError, TypeError, AttributeError):  # no such symbol: not glibc
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int  # type: ignore[attr-defined]
    return trim


_MALLOC_TRIM = _find_malloc_trim()


def release_free_memory() -> bool:
    """Return the allocator's free memory to the system; False where that cannot be done."""
    if _MALLOC_TRIM is None:
        return False
    _MALLOC_TRIM(0)
    return True


def picture_pixels(data: bytes) -> int:
    """Width x height from a picture's header, without decoding it; 0 for anything else (InkML)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.width * image.height
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return 0


def release_after_large_picture(data: bytes) -> None:
    """After reading `data` (well or not): trim when it was a large picture."""
    pixels = picture_pixels(data)
    if pixels >= TRIM_AFTER_PIXELS and release_free_memory():
        logger.debug("gave freed memory back after a %d-pixel picture", pixels)
