"""The `mathlens` command line: one module per subcommand, `main` ties them together."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from mathlens.config import DEFAULT_BEAM


def add_decode_arguments(p: argparse.ArgumentParser) -> None:
    """`--beam N` and `--single-view`, the same for every command that decodes."""
    p.add_argument("--beam", type=int, default=DEFAULT_BEAM, metavar="N",
                   help=f"beam size (1 = greedy search; default {DEFAULT_BEAM})")
    p.add_argument("--single-view", dest="views", action="store_false",
                   help="read each input once, at one size (about twice as fast, fewer formulas right); "
                        "by default a picture is read at two sizes and ink at three, and the readings vote")


def add_config_arguments(p: argparse.ArgumentParser, workers_help: str) -> None:
    """`--config`, `--set` and `--workers`, the same for the commands that read a training config."""
    p.add_argument("--config", type=Path, required=True, help="YAML file with TrainConfig fields")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field, dotted for nested ones (data.num_workers=0); KEY+=VALUE appends to a list "
                        "(data.sources+={name: hard, kind: manifest, path: ..., weight: 8})")
    p.add_argument("--workers", type=int, default=2, help=workers_help)


def load_yaml_config(cls: type, path: Path, overrides: list[str]):
    """A YAML config file as the frozen dataclass `cls`, with `--set key=value` overrides (dotted for
    nested fields; `key+=value` appends to a list, e.g. one more data source)."""
    import yaml

    from mathlens.config import from_dict

    raw = yaml.safe_load(path.read_text()) or {}
    for item in overrides:
        key, _, value = item.partition("=")
        node = raw
        *parents, leaf = key.removesuffix("+").split(".")
        for name in parents:
            node = node.setdefault(name, {})
        if key.endswith("+"):
            node.setdefault(leaf, []).append(yaml.safe_load(value))
        else:
            node[leaf] = yaml.safe_load(value)
    return from_dict(cls, raw)


def edit_model_json(model_dir: Path, edit: Callable[[dict], None]) -> None:
    """Change an exported model's model.json in place (a fitted calibration or cue joins the model)."""
    from mathlens.inference.predictor import META_FILE

    path = model_dir / META_FILE
    meta = json.loads(path.read_text(encoding="utf-8"))
    edit(meta)
    path.write_text(json.dumps(meta, ensure_ascii=False) + "\n", encoding="utf-8")
