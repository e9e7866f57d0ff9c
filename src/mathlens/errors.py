"""Typed errors: callers catch MathlensError, the CLI maps them to exit code 2."""


class MathlensError(Exception):
    """Base class for every error mathlens raises on purpose."""


class InvalidInputError(MathlensError):
    """An input image or ink file that cannot be decoded, is empty, or is too large."""


class LatexSyntaxError(MathlensError):
    """A LaTeX string the lexer or parser cannot read (e.g. unbalanced braces)."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message if position is None else f"{message} (at token {position})")
        self.position = position


class RenderError(MathlensError):
    """TeX failed; carries the end of the TeX log so the cause is visible."""

    def __init__(self, message: str, log_tail: str = "") -> None:
        super().__init__(f"{message}\n{log_tail}" if log_tail else message)
        self.log_tail = log_tail


class CheckpointError(MathlensError):
    """A model file that is missing, corrupt or of an unknown format version."""


class ExportError(MathlensError):
    """ONNX export failed or the exported graph disagrees with the torch model."""
