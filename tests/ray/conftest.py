"""One local Ray cluster (2 CPUs, no dashboard) for every Ray test, shut down at the end."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    import ray

    saved = os.environ.get("RAY_USAGE_STATS_ENABLED")
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # tests use no network
    # address="local": always a new cluster, never one found through RAY_ADDRESS or /tmp/ray.
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING,
             object_store_memory=100 * 2**20)
    try:
        yield
    finally:
        ray.shutdown()
        if saved is None:
            os.environ.pop("RAY_USAGE_STATS_ENABLED", None)
        else:
            os.environ["RAY_USAGE_STATS_ENABLED"] = saved


@pytest.fixture(scope="session")
def predictor():
    """The real shipped model, in this process (for tests that need no cluster)."""
    from mathlens.inference.predictor import Predictor, default_model_dir

    return Predictor(default_model_dir(), num_threads=1, max_batch_size=8)
