"""Named model sizes, one line each; `registry.create_model` is the only way to build one."""

from __future__ import annotations

from mathlens.config import DecoderConfig, EncoderConfig, ModelConfig


def tiny(vocab_size: int) -> ModelConfig:
    """For tests: builds and runs in milliseconds."""
    return ModelConfig(vocab_size, EncoderConfig(channels=(8, 16, 16, 32), blocks=(0, 1, 1, 1), num_layers=1, num_heads=2),
                       DecoderConfig(d_model=32, num_layers=1, num_heads=2, ff_dim=64))


def small(vocab_size: int) -> ModelConfig:
    """The shipped default: ~7M parameters, sized for CPU training and 2-thread inference."""
    return ModelConfig(vocab_size, EncoderConfig(channels=(32, 64, 128, 256), blocks=(0, 1, 2, 2), dropout=0.0),
                       DecoderConfig(d_model=256, num_layers=3, num_heads=4, ff_dim=1024, dropout=0.0))


def base(vocab_size: int) -> ModelConfig:
    """For GPU training: wider encoder, deeper decoder."""
    return ModelConfig(vocab_size, EncoderConfig(channels=(48, 96, 192, 384), blocks=(1, 2, 3, 3), num_layers=2, num_heads=8),
                       DecoderConfig(d_model=384, num_layers=6, num_heads=8, ff_dim=1536))
