"""mathlens: pictures of mathematics to LaTeX. Importing it loads no model and no torch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Recognizer", "Prediction", "PageReader", "read_page", "__version__"]

if TYPE_CHECKING:
    from mathlens.api import Prediction, Recognizer
    from mathlens.pages.reader import PageReader, read_page


def __getattr__(name: str) -> Any:
    if name in ("Recognizer", "Prediction"):
        from mathlens import api
        return getattr(api, name)
    if name in ("PageReader", "read_page"):
        from mathlens.pages import reader
        return getattr(reader, name)
    raise AttributeError(f"module 'mathlens' has no attribute {name!r}")
