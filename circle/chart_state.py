"""The state of one chart view, as it lives in the URL: ``?id=&lang=&district=&street=&circle=&type=&speed=``.

:func:`parse` reads query parameters (strings from anyone: validate everything) into a
:class:`ChartState` plus a list of :class:`Problem` (each with a Chinese and an English message);
a bad value is dropped and the default used, never an exception. :meth:`ChartState.to_query` writes
the canonical form back (default values left out), so a URL round-trips: parse(to_query(s)) == s.
Filters a chart does not support are dropped from its state. :func:`embed_url` and
:func:`iframe_snippet` make the embeddable link and HTML for journalists.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from circle import grid as gridmod
from circle.i18n import LANGS
from circle.names import english_name
from circle.taxonomy import circles, facility_types

DEFAULT_CHART = "district-coverage"
MAX_VALUE_LEN = 80
SPEED_MIN, SPEED_MAX = 1.0, 10.0
SPEED_PRESETS = (3.6, 4.0, 4.5, 5.0)
PARAMS = ("id", "lang", "district", "street", "circle", "type", "speed")


@dataclass(frozen=True)
class Problem:
    param: str
    value: str
    zh: str
    en: str


@dataclass(frozen=True)
class ChartState:
    chart_id: str = DEFAULT_CHART
    lang: str = "zh"
    district: str | None = None      # Chinese name, e.g. 海勃湾区
    street: str | None = None        # Chinese name, e.g. 凤凰岭街道
    circle: str | None = None        # circle id, e.g. health
    type_id: str | None = None       # facility type id, e.g. breakfast_shop
    speed: float | None = None       # km/h; None = the index default

    def to_query(self) -> dict[str, str]:
        """The canonical query parameters (``id`` always; defaults left out)."""
        out = {"id": self.chart_id}
        if self.lang != "zh":
            out["lang"] = self.lang
        for key, value in (("district", self.district), ("street", self.street), ("circle", self.circle),
                           ("type", self.type_id)):
            if value:
                out[key] = value
        if self.speed is not None:
            out["speed"] = f"{self.speed:g}"
        return out

    def build_kwargs(self) -> dict:
        """Keyword arguments for ``charts.build_chart``."""
        return {"lang": self.lang, "speed_kmh": self.speed, "district": self.district, "street": self.street,
                "circle": self.circle, "type_id": self.type_id}

    def supported(self) -> "ChartState":
        """The same state without the filters this chart does not take."""
        from circle.charts import REGISTRY

        filters = REGISTRY[self.chart_id].filters
        return replace(self,
                       district=self.district if "district" in filters else None,
                       street=self.street if "street" in filters else None,
                       circle=self.circle if "circle" in filters else None,
                       type_id=self.type_id if "type" in filters else None,
                       speed=self.speed if "speed" in filters else None)


def _norm(text: str) -> str:
    return " ".join(str(text).strip().lower().replace("_", " ").replace("-", " ").split())


def district_choices() -> dict[str, str]:
    """Every accepted spelling → Chinese district name (name, code, English name)."""
    out = {}
    for d in gridmod.districts():
        for alias in (d.name_zh, d.code, d.name_en, f"{d.name_en} District", f"{d.name_en} Qu"):
            out[_norm(alias)] = d.name_zh
    return out


def find_district(text: str | None) -> str | None:
    """The Chinese name of a district from any accepted spelling, or None."""
    return district_choices().get(_norm(text)) if text else None


def street_table() -> list[tuple[str, str, str, str]]:
    """(Chinese name, code, English name, district Chinese name) of the 22 streets and towns."""
    names = {d.code: d.name_zh for d in gridmod.districts()}
    return [(row.name, str(row.code), english_name(row.name), names.get(str(row.district_code), ""))
            for row in gridmod.streets().itertuples()]


def street_choices() -> dict[str, tuple[str, str]]:
    out = {}
    for name, code, en, district in street_table():
        for alias in (name, code, en):
            out[_norm(alias)] = (name, district)
    return out


def circle_choices() -> dict[str, str]:
    out = {}
    for c in circles():
        for alias in (c.id, c.name_zh, c.name_en, c.short_zh, c.short_en):
            if alias:
                out[_norm(alias)] = c.id
    return out


def type_choices() -> dict[str, str]:
    out = {}
    for t in facility_types():
        for alias in (t.id, t.name_zh, t.name_en):
            out[_norm(alias)] = t.id
    return out


def _problem(param: str, value: str, zh: str, en: str) -> Problem:
    shown = value if len(value) <= 40 else value[:40] + "…"
    return Problem(param, value, f"{param}={shown}：{zh}", f"{param}={shown}: {en}")


def parse(params, default_chart: str = DEFAULT_CHART) -> tuple[ChartState, list[Problem]]:
    """Read query parameters into a valid state; every bad value becomes a Problem and the default."""
    from circle.charts import REGISTRY

    problems: list[Problem] = []

    def get(key: str) -> str | None:
        try:
            value = params.get(key)
        except Exception:  # noqa: BLE001 - any odd mapping: treat as absent
            return None
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else None
        if value is None:
            return None
        value = str(value)
        if not value.strip():
            return None
        if len(value) > MAX_VALUE_LEN:
            problems.append(_problem(key, value, "值过长，已忽略", "value too long, ignored"))
            return None
        return value.strip()

    chart_id = get("id")
    if chart_id is None:
        chart_id = default_chart
    elif chart_id not in REGISTRY:
        problems.append(_problem("id", chart_id, f"没有这个图表，显示默认图表 {default_chart}",
                                 f"no such chart, showing the default {default_chart}"))
        chart_id = default_chart

    lang = get("lang")
    if lang is None:
        lang = "zh"
    elif lang.lower() in LANGS:
        lang = lang.lower()
    else:
        problems.append(_problem("lang", lang, "语言须为 zh 或 en", "language must be zh or en"))
        lang = "zh"

    district = get("district")
    if district is not None:
        found = district_choices().get(_norm(district))
        if found is None:
            problems.append(_problem("district", district, "没有这个区（海勃湾区、海南区、乌达区）",
                                     "no such district (Haibowan, Hainan, Wuda)"))
        district = found

    street = get("street")
    if street is not None:
        found = street_choices().get(_norm(street))
        if found is None:
            problems.append(_problem("street", street, "没有这个街道/镇", "no such street or town"))
            street = None
        elif district and found[1] != district:
            problems.append(_problem("street", street, f"该街道不属于{district}", f"this street is not in {district}"))
            street = None
        else:
            street = found[0]

    circle = get("circle")
    if circle is not None:
        found = circle_choices().get(_norm(circle))
        if found is None:
            problems.append(_problem("circle", circle, "没有这个圈层", "no such circle"))
        circle = found

    type_id = get("type")
    if type_id is not None:
        found = type_choices().get(_norm(type_id))
        if found is None:
            problems.append(_problem("type", type_id, "没有这个设施类型", "no such facility type"))
        type_id = found

    speed_text = get("speed")
    speed = None
    if speed_text is not None:
        try:
            value = float(speed_text)
        except ValueError:
            value = float("nan")
        if not math.isfinite(value) or not SPEED_MIN <= value <= SPEED_MAX:
            problems.append(_problem("speed", speed_text, "步行速度须为 1–10 km/h 的数字", "walking speed must be a number, 1–10 km/h"))
        else:
            speed = round(value, 2)

    state = ChartState(chart_id, lang, district, street, circle, type_id, speed)
    return state.supported(), problems


def embed_url(base_url: str, state: ChartState, embed: bool = True) -> str:
    """The URL of the hidden chart page for ``state`` (``base_url`` is the app's root URL)."""
    query = state.to_query()
    if embed:
        query["embed"] = "true"
    return f"{base_url.rstrip('/')}/chart?{urlencode(query)}"


def aspect_ratio(chart_id: str) -> float:
    """Height / width of the embedded chart (for the responsive wrapper)."""
    return {"static-coverage-map": 1.25, "timeline": 1.0, "type-coverage": 1.1, "street-coverage": 0.9}.get(chart_id, 0.72)


def iframe_snippet(url: str, title: str, ratio: float = 0.72) -> str:
    """Responsive iframe HTML: a wrapper keeps the aspect ratio; ``height="480"`` is the fallback
    where the wrapper's style is stripped (some CMSs)."""
    padding = f"{ratio * 100:.1f}%"
    src = html.escape(url, quote=True)
    label = html.escape(title, quote=True)
    return (f'<div style="position:relative;width:100%;height:0;padding-bottom:{padding};overflow:hidden;">\n'
            f'  <iframe src="{src}" title="{label}" width="100%" height="480" loading="lazy" '
            f'style="position:absolute;top:0;left:0;width:100%;height:100%;border:0;" '
            f'referrerpolicy="no-referrer"></iframe>\n'
            f'</div>')
