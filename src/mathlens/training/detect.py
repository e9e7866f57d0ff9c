"""Train the formula detector on synthetic TeX pages: crops, the look of scans and photos, a plain loop.

Resumable: `out_dir/last.pt` holds the weights, the optimizer and the step, written every
`checkpoint_every` steps. At the end the weights go to `out_dir/detector.onnx` with the
`detector.json` that `mathlens.pages.detect.FormulaDetector` reads.
"""

from __future__ import annotations

import io
import json
import logging
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset

from mathlens.models.detector import CLASSES, DetectorConfig, FormulaDetectorNet
from mathlens.pages.detect import ALIGN, STRIDE, DetectorSettings, to_input, working_scale
from mathlens.training.state import resume_state, save_state

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DetectorTrainConfig:
    pages_dir: Path  # rendered by `mathlens.synth.pages.render_pages`: PNGs + part-*.jsonl
    out_dir: Path
    corpus: Path = Path("../shared/datasets/formulas/formulas.tsv.gz")  # formulas for the pages
    docbank: Path = Path("../shared/datasets/docbank_samples")  # their words, as filler text
    pages: int = 1200  # pages rendered (resumably) before training
    render_seed: int = 0
    steps: int = 3000
    batch_size: int = 8
    crop: tuple[int, int] = (384, 512)  # height, width of a training crop at working scale
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup: int = 100
    scale_jitter: tuple[float, float] = (0.7, 1.4)
    num_workers: int = 1
    threads: int = 2
    seed: int = 0
    checkpoint_every: int = 100
    model: DetectorConfig = field(default_factory=DetectorConfig)
    settings: DetectorSettings = field(default_factory=DetectorSettings)


# ---------------------------------------------------------------- the look of scans and photos

def scan_look(gray: np.ndarray, rng: random.Random) -> np.ndarray:
    """Blur, noise, JPEG, uneven light, faded ink, a paper tint, show-through: each now and then."""
    img = gray.astype(np.float32)
    h, w = img.shape
    if rng.random() < 0.3:  # faded ink on tinted paper
        paper, ink = rng.uniform(200, 255), rng.uniform(0, 90)
        img = ink + (paper - ink) * img / 255.0
    if rng.random() < 0.3:  # light falling off across the sheet
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        angle = rng.uniform(0, 2 * math.pi)
        ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h)
        ramp = (ramp - ramp.min()) / max(1e-6, ramp.max() - ramp.min())
        img *= 1.0 - rng.uniform(0.1, 0.4) * ramp
    if rng.random() < 0.15:  # the other side of the sheet showing through
        img = np.minimum(img, 255.0 - rng.uniform(0.05, 0.15) * (255.0 - img[:, ::-1]))
    out = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    if rng.random() < 0.4:
        out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    arr = np.asarray(out).astype(np.float32)
    if rng.random() < 0.4:
        arr += np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(2, 12), arr.shape)
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if rng.random() < 0.4:
        buf = io.BytesIO()
        out.save(buf, "JPEG", quality=rng.randint(30, 90))
        out = Image.open(io.BytesIO(buf.getvalue())).convert("L")
    return np.asarray(out)


def rotate(image: Image.Image, boxes: np.ndarray, degrees: float) -> tuple[Image.Image, np.ndarray]:
    """A slightly turned page and the boxes around its turned boxes."""
    w, h = image.size
    rotated = image.rotate(degrees, resample=Image.Resampling.BILINEAR, fillcolor=255)
    if len(boxes) == 0:
        return rotated, boxes
    theta = math.radians(-degrees)  # PIL turns counter-clockwise; y grows down
    c, s = math.cos(theta), math.sin(theta)
    corners = np.stack([boxes[:, [0, 1]], boxes[:, [2, 1]], boxes[:, [0, 3]], boxes[:, [2, 3]]], axis=1) - [w / 2, h / 2]
    x = corners[..., 0] * c - corners[..., 1] * s + w / 2
    y = corners[..., 0] * s + corners[..., 1] * c + h / 2
    return rotated, np.stack([x.min(1), y.min(1), x.max(1), y.max(1)], axis=1)


# ---------------------------------------------------------------- targets

def make_targets(boxes: np.ndarray, classes: np.ndarray, size: tuple[int, int], shrink: float,
                 edge_scale: float, num_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes in input pixels -> (class maps, log-edge targets, edge weights) at the output's cells.

    A cell belongs to a box when its centre lies in the box shrunk by `shrink` of its smaller side;
    a box too small to hold a cell's centre gets the cell under its own centre.
    """
    h, w = size[0] // STRIDE, size[1] // STRIDE
    heat = np.zeros((num_classes, h, w), np.float32)
    edges = np.zeros((4, h, w), np.float32)
    weight = np.zeros((h, w), np.float32)
    for (x0, y0, x1, y1), c in zip(boxes, classes):
        cut = shrink * min(x1 - x0, y1 - y0)
        j0, j1 = _cells(x0 + cut, x1 - cut, w)
        i0, i1 = _cells(y0 + cut, y1 - cut, h)
        if j1 <= j0 or i1 <= i0:
            j0 = min(w - 1, max(0, int((x0 + x1) / 2 / STRIDE)))
            i0 = min(h - 1, max(0, int((y0 + y1) / 2 / STRIDE)))
            j1, i1 = j0 + 1, i0 + 1
        cx = (np.arange(j0, j1) + 0.5) * STRIDE
        cy = (np.arange(i0, i1) + 0.5) * STRIDE
        heat[c, i0:i1, j0:j1] = 1.0
        dist = [cx[None, :] - x0, cy[:, None] - y0, x1 - cx[None, :], y1 - cy[:, None]]
        for k, d in enumerate(dist):
            edges[k, i0:i1, j0:j1] = np.log(np.maximum(d, 0.5) / edge_scale)
        weight[i0:i1, j0:j1] = 1.0
    return heat, edges, weight


def _cells(lo: float, hi: float, n: int) -> tuple[int, int]:
    """The cells whose centres fall in [lo, hi), clipped to the map."""
    return max(0, math.ceil(lo / STRIDE - 0.5)), min(n, math.ceil(hi / STRIDE - 0.5))


# ---------------------------------------------------------------- data

def read_pages(pages_dir: Path) -> list[dict]:
    """The page records of every finished part of a render."""
    return [json.loads(line) for part in sorted(pages_dir.glob("part-*.jsonl"))
            for line in part.read_text().splitlines() if line.strip()]


def page_boxes(record: dict) -> tuple[np.ndarray, np.ndarray]:
    boxes = np.array([b["bbox"] for b in record["boxes"]], np.float32).reshape(-1, 4)
    classes = np.array([CLASSES.index(b["kind"]) for b in record["boxes"]], np.int64)
    return boxes, classes


class PageCrops(Dataset):
    """Random crops of the pages at the working scale (jittered), with the scan look and their targets."""

    def __init__(self, cfg: DetectorTrainConfig, records: list[dict], length: int) -> None:
        self.cfg, self.records, self.length = cfg, records, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        cfg = self.cfg
        rng = random.Random(hash((cfg.seed, index)))
        record = rng.choice(self.records)
        image = Image.open(cfg.pages_dir / record["image"]).convert("L")
        boxes, classes = page_boxes(record)
        scale = working_scale(*image.size, cfg.settings.max_side) * rng.uniform(*cfg.scale_jitter)
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR)
        boxes = boxes * scale
        if rng.random() < 0.3:
            image, boxes = rotate(image, boxes, rng.uniform(-1.5, 1.5))
        ch, cw = cfg.crop
        x = rng.randint(0, max(0, image.width - cw))
        y = rng.randint(0, max(0, image.height - ch))
        crop = np.full((ch, cw), 255, np.uint8)
        part = np.asarray(image)[y:y + ch, x:x + cw]
        crop[:part.shape[0], :part.shape[1]] = part
        boxes = boxes - [x, y, x, y]
        keep = (boxes[:, 2] > 0) & (boxes[:, 3] > 0) & (boxes[:, 0] < cw) & (boxes[:, 1] < ch)
        heat, edges, weight = make_targets(boxes[keep], classes[keep], (ch, cw), cfg.settings.shrink,
                                           cfg.settings.edge_scale, cfg.model.num_classes)
        ink = to_input(scan_look(crop, rng))[0]
        return torch.from_numpy(ink), torch.from_numpy(heat), torch.from_numpy(edges), torch.from_numpy(weight)


# ---------------------------------------------------------------- loss and loop

def detector_loss(output: torch.Tensor, heat: torch.Tensor, edges: torch.Tensor, weight: torch.Tensor,
                  num_classes: int) -> tuple[torch.Tensor, dict[str, float]]:
    """Class maps: binary cross-entropy plus soft dice (thin objects are few cells); edges: L1 on log distances."""
    logits, pred_edges = output[:, :num_classes], output[:, num_classes:]
    bce = F.binary_cross_entropy_with_logits(logits, heat)
    prob = torch.sigmoid(logits)
    inter = (prob * heat).sum(dim=(0, 2, 3))
    dice = 1 - ((2 * inter + 1) / (prob.sum(dim=(0, 2, 3)) + heat.sum(dim=(0, 2, 3)) + 1)).mean()
    l1 = ((pred_edges - edges).abs().sum(1) * weight).sum() / weight.sum().clamp(min=1)
    total = bce * 10 + dice + l1
    return total, {"bce": bce.item(), "dice": dice.item(), "edges": l1.item()}


def train_detector(cfg: DetectorTrainConfig) -> Path:
    """Train (or resume) to `cfg.steps`, then export the ONNX detector into `cfg.out_dir`."""
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    model = FormulaDetectorNet(cfg.model)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    step = resume_state(cfg.out_dir / "last.pt", model, opt)
    records = read_pages(cfg.pages_dir)
    data = PageCrops(cfg, records, (cfg.steps - step) * cfg.batch_size)
    loader = DataLoader(data, batch_size=cfg.batch_size, num_workers=cfg.num_workers,
                        persistent_workers=cfg.num_workers > 0)
    model.train()
    started, last_log = time.time(), time.time()
    for image, heat, edges, weight in loader:
        for group in opt.param_groups:
            group["lr"] = _lr(cfg, step)
        loss, parts = detector_loss(model(image), heat, edges, weight, cfg.model.num_classes)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % 20 == 0:
            logger.info("step %d loss %.4f %s %.2f s/step", step, loss.item(),
                        " ".join(f"{k} {v:.4f}" for k, v in parts.items()), (time.time() - last_log) / 20)
            last_log = time.time()
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            save_state(cfg.out_dir / "last.pt", model, opt, step, model_config=asdict(cfg.model), settings=asdict(cfg.settings))
    logger.info("trained to step %d in %.0f s", step, time.time() - started)
    return export_detector(cfg.out_dir / "last.pt", cfg.out_dir)


def _lr(cfg: DetectorTrainConfig, step: int) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))




def load_checkpoint(path: Path) -> tuple[FormulaDetectorNet, DetectorSettings]:
    state = torch.load(path, map_location="cpu", weights_only=False)
    model_cfg = DetectorConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in state["model_config"].items()})
    model = FormulaDetectorNet(model_cfg)
    model.load_state_dict(state["model"])
    settings = DetectorSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in state["settings"].items()})
    return model.eval(), settings


def export_detector(checkpoint: Path, out_dir: Path) -> Path:
    """The weights as `detector.onnx` (dynamic page size) and the settings as `detector.json`."""
    model, settings = load_checkpoint(checkpoint)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / "detector.onnx"
    dummy = torch.zeros(1, 1, 4 * ALIGN, 4 * ALIGN)
    torch.onnx.export(model, (dummy,), str(onnx_path), input_names=["image"], output_names=["output"],
                      dynamic_axes={"image": {2: "height", 3: "width"}, "output": {2: "h", 3: "w"}},
                      opset_version=17, dynamo=False)
    (out_dir / "detector.json").write_text(json.dumps(asdict(settings), indent=1) + "\n")
    return onnx_path
