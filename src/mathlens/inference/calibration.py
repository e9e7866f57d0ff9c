"""A confidence that means something: the estimated probability that a reading is exactly right.

The decoder's own numbers (the mean and the weakest token log-probability, the length, how
many views read the same) go through a logistic model fitted on validation data (`mathlens
calibrate`, at release time) and shipped in `model.json`; here it is applied with numpy alone.
Two checks sit beside it, so that no confident nonsense reaches a user: a reading with far more
tokens than the picture is wide (what a lone dash or dot turns into) and a reading whose
probability is low are flagged `unsure`, with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FEATURES = ("mean_logp", "min_logp", "log_tokens", "agreement", "log_tokens_per_column",
            "two_views", "three_views")
# Tokens per encoder column (8 px at the normalized scale), the floor of the limit a calibration
# carries: right readings of the validation sets needed at most 3.3 (`mathlens calibrate` reports
# it and stores 1.5 times that); hallucinations on a lone dash or dot write 10 and more.
MAX_TOKENS_PER_COLUMN = 4.0
UNSURE_BELOW = 0.5  # more likely wrong than right


@dataclass(frozen=True)
class Signals:
    """What the decoder knows about one reading."""

    mean_logp: float  # mean token log-probability, EOS included
    min_logp: float  # the weakest token's log-probability
    num_tokens: int
    num_columns: int  # encoder columns the input spans
    agreement: float = 1.0  # share of the views that read the same (1 when read once)
    num_views: int = 1

    @property
    def tokens_per_column(self) -> float:
        return (self.num_tokens + 1) / max(1, self.num_columns)

    def features(self) -> np.ndarray:
        return np.array([self.mean_logp, self.min_logp, math.log1p(self.num_tokens), self.agreement,
                         math.log(self.tokens_per_column), float(self.num_views == 2), float(self.num_views >= 3)])


@dataclass(frozen=True)
class Calibration:
    """Logistic model over `FEATURES`, fitted by `mathlens calibrate`; stored in model.json."""

    coef: tuple[float, ...]
    intercept: float
    features: tuple[str, ...] = FEATURES
    unsure_below: float = UNSURE_BELOW
    max_tokens_per_column: float = MAX_TOKENS_PER_COLUMN

    def probability(self, signals: Signals) -> float:
        z = self.intercept + float(np.dot(self.coef, signals.features()))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def judge(signals: Signals, calibration: Calibration | None) -> tuple[float, str | None]:
    """(confidence, why the reading should not be trusted or None).

    Without a calibration (a model exported before it) the confidence is the geometric mean of
    the token probabilities, as it always was, and only the length check applies.
    """
    limit = calibration.max_tokens_per_column if calibration else MAX_TOKENS_PER_COLUMN
    confidence = calibration.probability(signals) if calibration else math.exp(signals.mean_logp)
    if signals.tokens_per_column > limit:
        return min(confidence, 0.01), "the reading is far longer than the picture is wide: little or no formula found"
    if calibration is not None and confidence < calibration.unsure_below:
        return confidence, f"low confidence: about {confidence:.0%} likely to be exactly right"
    return confidence, None
