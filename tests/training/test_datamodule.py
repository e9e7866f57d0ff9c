import random
from pathlib import Path

import pytest

from mathlens.data.manifest import Record
from mathlens.training.datamodule import repeat_records


def _records(n: int) -> list[Record]:
    return [Record(Path(f"{i}.png"), ["x"]) for i in range(n)]


@pytest.mark.parametrize("weight, expected", [(1.0, 10), (2.0, 20), (2.5, 25), (0.3, 3)])
def test_weights_set_each_manifests_share(weight, expected):
    records = _records(10)
    out = repeat_records(records, weight, random.Random(0))
    assert len(out) == expected
    assert set(map(id, out)) <= set(map(id, records))
    assert len(set(map(id, out))) == min(10, expected)  # whole repeats cover every record
