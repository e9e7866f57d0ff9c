"""The formula detector: a small fully convolutional network over a whole page, in gray.

It predicts, at half the input's resolution, a map per class (inline formula, display formula,
figure, table) of the cells inside a shrunken copy of each object's box, and at those cells the
distances to the box's four edges. Boxes come from the connected regions of a map, each edge
the average of its cells' estimates, so objects on neighbouring lines stay apart and the boxes
are as tight as the regressed edges. A feature pyramid brings the context of the 1/32 scale
(is this line set apart, centered?) down to the 1/2 scale where single symbols are resolved.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

CLASSES = ("inline", "display", "figure", "table")


@dataclass(frozen=True)
class DetectorConfig:
    widths: tuple[int, ...] = (16, 32, 48, 64, 96)  # channels at strides 2, 4, 8, 16, 32
    fpn_width: int = 32
    head_width: int = 16
    num_classes: int = len(CLASSES)
    edge_scale: float = 16.0  # edge distances are predicted as log(distance / edge_scale) in input pixels


def conv_bn(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Residual(nn.Module):
    def __init__(self, width: int, dilation: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(conv_bn(width, width, dilation=dilation),
                                  nn.Conv2d(width, width, 3, padding=dilation, dilation=dilation, bias=False),
                                  nn.BatchNorm2d(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


class FormulaDetectorNet(nn.Module):
    def __init__(self, cfg: DetectorConfig = DetectorConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.widths
        self.stages = nn.ModuleList([
            conv_bn(1, w[0], stride=2),                                              # 1/2
            conv_bn(w[0], w[1], stride=2),                                           # 1/4
            nn.Sequential(conv_bn(w[1], w[2], stride=2), Residual(w[2])),            # 1/8
            nn.Sequential(conv_bn(w[2], w[3], stride=2), Residual(w[3]), Residual(w[3], 2)),  # 1/16
            nn.Sequential(conv_bn(w[3], w[4], stride=2), Residual(w[4]), Residual(w[4], 2)),  # 1/32
        ])
        self.laterals = nn.ModuleList([nn.Conv2d(c, cfg.fpn_width, 1) for c in w[1:]])
        self.smooth = conv_bn(cfg.fpn_width, cfg.fpn_width)
        self.fine = nn.Conv2d(w[0], cfg.head_width, 1)
        self.head = nn.Sequential(nn.Conv2d(cfg.fpn_width + cfg.head_width, cfg.head_width, 1), nn.ReLU(inplace=True),
                                  nn.Conv2d(cfg.head_width, cfg.num_classes + 4, 1))  # 1x1 only: this scale is the costly one

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) ink in [0, 1], H and W multiples of 32 -> (B, C + 4, H/2, W/2) logits and log-edges."""
        feats = []
        x = image
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        top = self.laterals[-1](feats[-1])
        for lateral, feat in zip(reversed(self.laterals[:-1]), reversed(feats[1:-1])):
            top = lateral(feat) + F.interpolate(top, size=feat.shape[-2:], mode="nearest")
        top = F.interpolate(self.smooth(top), size=feats[0].shape[-2:], mode="bilinear", align_corners=False)
        return self.head(torch.cat([top, self.fine(feats[0])], dim=1))  # (B, C + 4, H/2, W/2)
