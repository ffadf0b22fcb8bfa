"""Provenance tags: every number on screen is official, computed or simulated, and says why.

A :class:`Tag` renders as one short line in either language, e.g.
"官方 · 乌海市 · 2024 · 《一刻钟社区生活圈 乌海人的幸福坐标》" or
"Simulated · computed from the simulated sample · H3 grid walking model, 4.0 km/h".
"""
from __future__ import annotations

from dataclasses import dataclass

from circle.i18n import t

KINDS = ("official", "computed", "simulated", "unverified")


@dataclass(frozen=True)
class Tag:
    kind: str            # official | computed | simulated | unverified
    source_zh: str       # publisher and date, or the data and method
    source_en: str

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown provenance kind {self.kind!r}")

    def label(self, lang: str = "zh") -> str:
        return t(f"tag_{self.kind}", lang)

    def text(self, lang: str = "zh") -> str:
        return f"{self.label(lang)} · {self.source_en if lang == 'en' else self.source_zh}"


def official(figure) -> Tag:
    """The tag of a published figure (a ``circle.facts.Figure``)."""
    kind = "unverified" if getattr(figure, "status", "official") != "official" else "official"
    return Tag(kind, f"{figure.publisher_zh} · {figure.as_of} · {figure.source}",
               f"{figure.publisher_en} · {figure.as_of} · {figure.source}")


def computed(index, method_zh: str = "", method_en: str = "") -> Tag:
    """The tag of a number computed by the engine from the index's data set."""
    speed = index.params.speed_kmh
    method_zh = method_zh or f"H3第{index.params.resolution}级网格步行模型，{speed:g} km/h"
    method_en = method_en or f"H3 resolution-{index.params.resolution} grid walking model, {speed:g} km/h"
    kind = "simulated" if index.dataset.simulated else "computed"
    return Tag(kind, f"据{index.dataset.label_zh}计算 · {method_zh}", f"computed from the {index.dataset.label_en} · {method_en}")
