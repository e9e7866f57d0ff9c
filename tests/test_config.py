"""Config loading: YAML and --set to frozen dataclasses, unknown keys refused, the shipped configs valid."""

from pathlib import Path

import pytest

from mathlens.config import DataConfig, ModelConfig, SourceConfig, TrainConfig, from_dict, to_dict

CONFIG_DIR = Path(__file__).parents[1] / "configs"
DETECTOR_CONFIG = CONFIG_DIR / "detector.yaml"  # the page detector's and the LaTeX encoder's trainers
PRETRAIN_CONFIG = CONFIG_DIR / "pretrain.yaml"  # read configs of their own
CONFIGS = sorted(p for p in CONFIG_DIR.glob("*.yaml") if p not in (DETECTOR_CONFIG, PRETRAIN_CONFIG))


def test_from_dict_converts_nested_paths_tuples_and_floats():
    cfg = from_dict(TrainConfig, {"out_dir": "runs/x", "lr": 1, "data": {
        "sources": [{"name": "a", "kind": "manifest", "path": "a.jsonl"}], "augment": {"dpi_range": [80, 140]}}})
    assert cfg.out_dir == Path("runs/x") and cfg.lr == 1.0 and isinstance(cfg.lr, float)
    assert cfg.data.sources == (SourceConfig("a", "manifest", path=Path("a.jsonl")),)
    assert cfg.data.augment.dpi_range == (80.0, 140.0)


@pytest.mark.parametrize("raw, where", [({"learning_rate": 1e-3}, "TrainConfig"),
                                        ({"data": {"train_manifests": []}}, "DataConfig"),
                                        ({"data": {"sources": [{"name": "a", "kind": "tex", "font": "x"}]}}, "SourceConfig")])
def test_unknown_keys_are_refused_at_every_level(raw, where):
    with pytest.raises(ValueError, match=f"unknown keys for {where}"):
        from_dict(TrainConfig, raw)


def test_to_dict_round_trips():
    cfg = from_dict(ModelConfig, {"vocab_size": 10, "encoder": {"channels": [8, 16]}})
    assert from_dict(ModelConfig, to_dict(cfg)) == cfg


@pytest.mark.train
@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_the_shipped_configs_load_and_name_buildable_sources(path):
    from mathlens.cli.train import load_config
    from mathlens.synth.recipe import check_sources

    cfg = load_config(path, ["max_steps=7", "data.val_limit=3"])
    assert cfg.max_steps == 7 and cfg.data.val_limit == 3
    check_sources(cfg.data)
    assert cfg.data.sources and all(cfg.data.manifest(s).parts[-2] == s.name for s in cfg.data.sources)


@pytest.mark.train
def test_a_plus_equals_override_appends_a_source():
    from mathlens.cli.train import load_config

    base = load_config(CONFIGS[0], [])
    cfg = load_config(CONFIGS[0], ["data.sources+={name: hard, kind: manifest, path: h/manifest.jsonl, weight: 20}"])
    assert cfg.data.sources[:-1] == base.data.sources
    hard = cfg.data.sources[-1]
    assert (hard.name, hard.kind, hard.weight, cfg.data.manifest(hard)) == ("hard", "manifest", 20.0, Path("h/manifest.jsonl"))


def test_the_detector_config_loads_with_overrides():
    from mathlens.cli.detector import load_config

    cfg = load_config(DETECTOR_CONFIG, ["steps=7"])
    assert cfg.steps == 7 and cfg.pages > 0 and len(cfg.crop) == 2
    with pytest.raises(ValueError, match="unknown keys"):
        load_config(DETECTOR_CONFIG, ["max_steps=7"])


def test_the_pretrain_config_loads_with_dotted_overrides():
    from mathlens.cli.pretrain import load_config

    cfg = load_config(PRETRAIN_CONFIG, ["steps=5", "model.layers=2"])
    assert cfg.steps == 5 and cfg.model.layers == 2 and cfg.vocab_from.name == "model.json"


def test_a_built_source_needs_a_data_root():
    with pytest.raises(ValueError, match="set data.data_root"):
        DataConfig().manifest(SourceConfig("printed", "tex"))
