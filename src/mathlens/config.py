"""Frozen dataclass configs; each component receives only its own section.

YAML or CLI input is converted once, at the edge, with `from_dict`, which rejects unknown keys.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar


@dataclass(frozen=True)
class PreprocessConfig:
    """How an image becomes model input; travels inside the checkpoint with the weights."""

    max_height: int = 192
    max_width: int = 1024
    margin: int = 4
    # Content taller than this (in pixels) is taken to be a high-resolution picture and shrunk.
    max_content_height: int = 160
    pad_multiple: int = 8
    # Empty rows and columns after the content (below and right). Training batches pad every image
    # to the largest of its batch, so the model rarely saw ink near the bottom or right edge, where
    # the convolutions' zero padding differs from the background they learnt: one image alone, cut
    # tight, read im2latex val at 11.1% exact match, 16.0% with 16 px here (docs/experiments.md,
    # "Enlarging small type, and a clear bottom and right edge").
    trailing_pad: int = 16
    # High-resolution pictures (a retina screenshot, a 300 dpi scan) are shrunk to `target_dpi`
    # when their estimated resolution exceeds `max_dpi` (see preprocess.estimate_dpi), and
    # low-resolution ones enlarged towards `min_dpi`, by at most `max_enlarge`: the stride-8
    # encoder reads type better with more pixels per glyph, even beyond the training renders'
    # dpi. Calibrated on validation sets after each training stage (benchmarks/scan_preprocess.sh;
    # docs/experiments.md, "Enlarging small type ..." and "Recalibrated for stage 15 ...").
    auto_scale: bool = True
    target_dpi: float = 165.0
    max_dpi: float = 165.0
    min_dpi: float = 160.0
    max_enlarge: float = 1.5  # the estimate takes thin web-rendered strokes (KaTeX, MathJax) for small type
    max_glyph_px: float = 24.0  # symbols taller than this are shrunk to it (0: off), for photos; see normalize_scale
    # Sizes each input is read at, the first as preprocessed; the reading the views agree on wins
    # (preprocess_views, predictor.agree). Chosen on CROHME 2014 and im2latex val for the shipped
    # model (docs/experiments.md, "Reading at several sizes"); inference only, training ignores them.
    ink_views: tuple[float, ...] = (1.0, 0.85, 1.18)
    picture_views: tuple[float, ...] = (1.0, 1.18)
    # With a style probe in model.json (`mathlens fit-cue`), a picture it takes for print is read
    # at its first size only and one it takes for handwriting at these (the bitmaps gain from 1.4×,
    # print loses: docs/experiments.md, "Views for handwriting only").
    handwriting_views: tuple[float, ...] = (1.0, 1.18, 1.4)


@dataclass(frozen=True)
class EncoderConfig:
    channels: tuple[int, ...] = (32, 64, 128, 256)
    blocks: tuple[int, ...] = (1, 1, 2, 2)
    num_layers: int = 1  # transformer layers over the feature map, for context
    num_heads: int = 4
    dropout: float = 0.1


@dataclass(frozen=True)
class DecoderConfig:
    d_model: int = 256
    num_layers: int = 3
    num_heads: int = 4
    ff_dim: int = 1024
    dropout: float = 0.1
    max_len: int = 256
    right_to_left: bool = False  # also trained to read right to left, from R2L_ID (decoding/search.py)


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)

    @property
    def stride(self) -> int:
        """Total downsampling of the encoder (every stage after the first halves the size)."""
        return 2 ** (len(self.encoder.channels) - 1)


# Beam 3 reads more formulas right than greedy search (im2latex val and CROHME; docs/experiments.md,
# "Beam search by default").
DEFAULT_BEAM = 3


@dataclass(frozen=True)
class DecodeConfig:
    """Search settings: chosen at inference, never stored with training hyperparameters."""

    beam_size: int = DEFAULT_BEAM
    max_len: int = 200
    length_penalty: float = 0.6
    rescore_right_to_left: bool = True  # beam search, when the model reads right to left too
    views: bool = True  # read each input at the model's view sizes (PreprocessConfig.*_views); False: once
    # With views: read the other sizes only when the first reading's calibrated confidence is below
    # this (1.0: always). At 0.6 it keeps the views' exact match but saves no time here: the views
    # of one input read in one batch cost little more than one (docs/experiments.md, "Views only
    # where the first reading is unsure"). The server always reads every view.
    views_below: float = 1.0
    # Stop when the last `repeat_window` tokens repeat the same n-gram this many times.
    max_repeats: int = 8
    repeat_window: int = 48


# The cheapest reading, what the model knows unaided: mining misread records, error-driven VLM data.
GREEDY_ONCE = DecodeConfig(beam_size=1, views=False)


@dataclass(frozen=True)
class AugmentConfig:
    enabled: bool = True
    scale_range: tuple[float, float] = (0.8, 1.25)  # when the render DPI is unknown
    # Renders are rescaled to a DPI drawn from this range (12pt type); im2latex-100k is ~86.
    dpi_range: tuple[float, float] = (68.0, 115.0)
    rotate_deg: float = 1.5
    shear_deg: float = 3.0
    blur_p: float = 0.2
    noise_p: float = 0.2
    jpeg_p: float = 0.2
    binarize_p: float = 0.1
    invert_p: float = 0.05
    low_contrast_p: float = 0.2
    paper_p: float = 0.1  # ruled/squared paper and uneven light (photos of notes)


SourceKind = Literal["tex", "mathjax", "ink", "ink_layout", "manifest"]


@dataclass(frozen=True)
class SourceConfig:
    """One training set: how `mathlens prepare` builds it, and how much of it training uses.

    kind: tex / mathjax (corpus formulas typeset by TeX Live or drawn by MathJax), ink (the
    CROHME training ink drawn in writing variants), ink_layout (corpus formulas written in the
    CROHME hands, laid out by TeX), manifest (a manifest you already have: `path`). Built sources
    live in `DataConfig.data_root / name`. Options a kind does not use must stay at their defaults.
    """

    name: str
    kind: SourceKind
    weight: float = 1.0  # how often each record appears per epoch (fractions sample)
    # Formulas this many tokens long or longer are all used, shorter ones in proportion to their
    # length (datamodule.short_formula_keep_prob): short formulas are most of the corpus.
    keep_all_from: int = 24
    path: Path | None = None  # kind manifest: its manifest.jsonl
    seed: int = 0  # which formulas `limit` takes, fonts, writing variants, swaps
    limit: int | None = None  # tex, mathjax, ink_layout: the first N (shuffled) corpus formulas
    fonts: tuple[str, ...] = ()  # tex: font setups to draw from (synth.render.FONTS; empty: all)
    trailing_punct: float = 0.0  # tex, mathjax: share of one-line formulas closed by . , ; as papers do
    arrays: bool = False  # tex, mathjax: only formulas with matrices or cases, written as arrays
    swap_symbols: bool = False  # tex, mathjax, ink: symbols renamed to others of their kind, label to match
    swap_kinds: tuple[str, ...] = ("digits", "letters")  # ink: which kinds may be swapped (synth.symbol_swap.KINDS)
    variants: int = 3  # ink: writing variants drawn per expression


@dataclass(frozen=True)
class DataConfig:
    sources: tuple[SourceConfig, ...] = ()
    # Paths are taken as written: relative ones from where mathlens runs (the repository root).
    data_root: Path | None = None  # built sources go to data_root/<name>/ (manifest.jsonl + images)
    corpus: Path | None = None  # formulas.tsv.gz: the LaTeX corpus tex, mathjax and ink_layout sources draw
    crohme_dir: Path | None = None  # train_inkml.tar.gz, train_captions.txt, dictionary.txt for ink sources
    val_split: Path | None = None  # an im2latex-style split; `prepare` writes val_manifest from it
    val_manifest: Path | None = None
    val_limit: int = 500
    max_tokens: int = 150
    max_tokens_per_batch: int = 2400  # sum over the batch of the longest target length
    max_batch_size: int = 48
    # Batch by image size (height band, then width): by target length alone, 80% of encoder input was padding.
    bucket_by_size: bool = True
    num_workers: int = 1
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def manifest(self, source: SourceConfig) -> Path:
        """Where a source's manifest is (or will be, once prepared)."""
        if source.kind == "manifest":
            if source.path is None:
                raise ValueError(f"data source {source.name!r}: kind manifest needs a path")
            return source.path
        if self.data_root is None:
            raise ValueError(f"data source {source.name!r} is built by `mathlens prepare`: set data.data_root")
        return self.data_root / source.name / "manifest.jsonl"


@dataclass(frozen=True)
class RewardConfig:
    """Reward fine-tuning by reading (training/reward.py): what a reading scores, how many are drawn."""

    kind: Literal["cosine", "edit"] = "cosine"  # LaTeX-encoder features, or 1 - token edit distance / length
    encoder: Path | None = None  # the pretrained LaTeX encoder's last.pt (`mathlens pretrain`; kind cosine)
    samples: int = 4  # sampled readings per image, against one greedy reading as the baseline
    images: int = 16  # images of each batch read by sampling (all of them train by cross-entropy)
    exact_bonus: float = 1.0  # added when the reading is exactly right
    temperature: float = 1.0
    max_len: int = 160


@dataclass(frozen=True)
class TrainConfig:
    variant: str = "small"
    vocab_path: Path | None = None  # None: the shipped model's vocabulary
    out_dir: Path | None = None  # checkpoints and logs (required; resumes from out_dir/checkpoints/last.ckpt)
    init_from: Path | None = None  # start from these weights (e.g. the shipped model)
    decoder_init: Path | None = None  # start the decoder from a pretrained LaTeX encoder (`mathlens pretrain`'s last.pt)
    lr: float = 5e-4
    weight_decay: float = 0.01
    warmup_steps: int = 500
    max_steps: int = 20_000
    decay_steps: int = 0  # 0: cosine over the run; N: hold the peak, decay over the last N (saves stable.ckpt first)
    label_smoothing: float = 0.1
    count_loss_weight: float = 0.0  # > 0: counting-aware auxiliary loss (training/counting.py)
    # > 0: the decoder also learns to read each formula right to left (bidirectional training, as
    # in BTTR); the exported model then says so, and beam search rescores with both readings
    r2l_loss_weight: float = 0.0
    tree_loss_weight: float = 0.0  # > 0: the decoder also says where each token sits in the formula's tree (training/tree.py)
    reward_weight: float = 0.0  # > 0: self-critical reward fine-tuning beside cross-entropy (training/reward.py)
    reward: RewardConfig = field(default_factory=RewardConfig)
    # auto: bf16 autocast where the hardware does bf16 natively, else fp32 (training/run.py)
    precision: Literal["auto", "32-true", "bf16-mixed", "16-mixed"] = "auto"
    accelerator: str = "auto"
    devices: int | str = "auto"
    num_nodes: int = 1
    strategy: str = "auto"
    val_every_steps: int = 1000
    checkpoint_every_minutes: float = 10.0
    log_every_steps: int = 25
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)


C = TypeVar("C")


def from_dict(cls: type[C], raw: dict[str, Any]) -> C:
    """Build a (nested) config dataclass from plain data, rejecting unknown keys."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls} is not a dataclass")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(raw) - set(fields)
    if unknown:
        raise ValueError(f"unknown keys for {cls.__name__}: {sorted(unknown)}")
    hints = typing.get_type_hints(cls)
    return cls(**{name: _convert(hints[name], value) for name, value in raw.items()})


def to_dict(cfg: Any) -> dict[str, Any]:
    """Config -> plain JSON-able data (Paths become strings, tuples lists)."""
    def conv(v: Any) -> Any:
        if dataclasses.is_dataclass(v):
            return {f.name: conv(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, Path):
            return str(v)
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        return v
    return conv(cfg)


def _convert(tp: Any, value: Any) -> Any:
    """Plain YAML/JSON value -> the annotated type (nested dataclass, Path, tuple, optional)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp) and isinstance(value, dict):
        return from_dict(tp, value)  # type: ignore[arg-type]
    if origin is typing.Union or origin is types.UnionType:
        if value is None:
            return None
        non_none = [a for a in args if a is not type(None)]
        return _convert(non_none[0], value) if len(non_none) == 1 else value
    if tp is Path:
        return Path(value)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):  # YAML or CLI `165`
        return float(value)
    if origin is tuple and isinstance(value, (list, tuple)):
        inner = args[0] if args else Any
        return tuple(_convert(inner, v) for v in value)
    return value


@dataclass(frozen=True)
class ServeConfig:
    """HTTP server settings (`mathlens serve`); the model itself comes from its exported directory."""

    host: str = "127.0.0.1"  # loopback unless asked: the API has no authentication
    port: int = 8000
    model_dir: Path | None = None  # None: the model shipped in the package
    threads: int = 2  # onnxruntime threads, and the preprocessing pool size
    # Dynamic batching: concurrent requests are decoded together, up to `max_batch` images,
    # waiting at most `batch_wait_ms` after the first one for others to arrive.
    max_batch: int = 16
    batch_wait_ms: float = 5.0
    max_upload_mb: float = 10.0  # per image (decoded bytes); larger uploads get 413
    # Images with more pixels are refused before decoding (422). It can only lower the limits
    # that preprocessing itself enforces (preprocess.MAX_INPUT_PIXELS, MAX_INK_PIXELS); None: those.
    max_pixels: int | None = None
    timeout_s: float = 30.0  # per request, from upload to answer; 504 after it
    beam: int = DEFAULT_BEAM  # beam size of requests that do not say
    max_beam: int = 5  # largest beam size a request may ask for
    max_batch_items: int = 16  # images in one /v1/recognize/batch request
    views: bool = True  # read each input at several sizes (DecodeConfig.views)
    # Page reading (POST /v1/page): a page image or a PDF, read one request at a time. A page takes
    # seconds (detection, OCR, dozens of formulas), so its limits are its own.
    max_page_upload_mb: float = 30.0  # per page image or PDF; larger uploads get 413
    max_pdf_pages: int = 20  # pages one request may read (413 beyond: pick fewer with `pages`)
    page_dpi: float = 150.0  # a PDF page's rendering resolution when the request does not say
    page_timeout_s: float = 120.0  # per page request, queue included; 504 after it

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_page_upload_bytes(self) -> int:
        return int(self.max_page_upload_mb * 1024 * 1024)
