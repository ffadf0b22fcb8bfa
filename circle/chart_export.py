"""Downloads for every chart: PNG, SVG, CSV of exactly what is shown, and a metadata JSON.

All of it works offline (no CDN, nothing fetched): Altair charts are converted by vl-convert with
external requests forbidden, and image charts (the static map) come from their own renderer. The
CJK font is registered first, so Chinese text is drawn, not tofu. The PNG and SVG carry the title,
the source line and the date (UTC) with the app version; the CSV is ``BuiltChart.data`` as is
(UTF-8 with a byte-order mark, so Excel reads the Chinese); the metadata JSON names the chart, its
sources, method, filters, whether it is simulated, when it was generated and by which app version.
"""
from __future__ import annotations

import copy
import json
import math
import re
from datetime import datetime, timezone

import circle
from circle import facts, fonts, i18n

EXPORT_WIDTH = 760          # px: Altair charts are "container"-wide in the app; exports need a width
PNG_SCALE = 2.0             # crisp on screens and in print
APP_NAME = ("乌海一刻钟社区生活圈", "Wuhai's 15-minute community life circle")


def _now(generated: datetime | None) -> datetime:
    when = generated or datetime.now(timezone.utc)
    return when.astimezone(timezone.utc) if when.tzinfo else when.replace(tzinfo=timezone.utc)


def date_line(lang: str, generated: datetime | None = None) -> str:
    """'生成于 2026-05-01 UTC · 乌海一刻钟社区生活圈 v0.1.0' (or English)."""
    when = _now(generated).strftime("%Y-%m-%d %H:%M UTC")
    if lang == "en":
        return f"Generated {when} · {APP_NAME[1]} app v{circle.__version__}"
    return f"生成于 {when} · {APP_NAME[0]} v{circle.__version__}"


def export_spec(built, generated: datetime | None = None, width: int = EXPORT_WIDTH) -> dict:
    """The Vega-Lite spec that is exported: the chart as shown, a fixed width, and a date line under
    the source line in the subtitle."""
    if built.is_image:
        raise ValueError(f"{built.chart_id} 是图片，没有 Vega-Lite 规格 / is a picture, it has no Vega-Lite spec")
    spec = copy.deepcopy(built.chart.to_dict())
    if spec.get("width") == "container" or "width" not in spec:
        spec["width"] = width
    title = spec.get("title")
    if isinstance(title, dict):
        subtitle = title.get("subtitle") or []
        subtitle = [subtitle] if isinstance(subtitle, str) else list(subtitle)
        title["subtitle"] = subtitle + [date_line(built.meta.get("lang", "zh"), generated)]
    else:
        spec["title"] = {"text": built.title, "subtitle": [built.source_line, date_line(built.meta.get("lang", "zh"), generated)],
                         "anchor": "start"}
    spec.setdefault("padding", 12)
    spec.setdefault("background", "white")
    font = fonts.cjk_font()
    if font is not None:  # the bundled font first: the same look on every machine, and faster
        config = spec.setdefault("config", {})
        config["font"] = f"{font.family}, {config.get('font') or 'sans-serif'}"
    return spec


def export_png(built, generated: datetime | None = None, scale: float = PNG_SCALE,
               width: int = EXPORT_WIDTH) -> bytes:
    """PNG with title, source line and date drawn in (``width`` in CSS pixels before ``scale``)."""
    if built.is_image:
        return built.image.png()
    import vl_convert

    fonts.register_vl_convert()
    return vl_convert.vegalite_to_png(export_spec(built, generated, width=width), scale=scale, allowed_base_urls=[])


def export_svg(built, generated: datetime | None = None) -> bytes:
    """SVG with the text kept as text (title, source line and date are searchable in it)."""
    if built.is_image:
        return built.image.svg()
    import vl_convert

    fonts.register_vl_convert()
    return vl_convert.vegalite_to_svg(export_spec(built, generated), allowed_base_urls=[]).encode("utf-8")


def export_csv(built) -> bytes:
    """Exactly the rows and columns of ``built.data`` (UTF-8 with BOM for Excel; text cells a
    spreadsheet would run as formulas are made text)."""
    from circle.exports import to_csv_bytes

    return to_csv_bytes(built.data)


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def sources(built) -> list[str]:
    """The sources behind a chart, as text: publications for official charts; the data set,
    reference data and method for computed ones."""
    lang = built.meta.get("lang", "zh")
    if built.meta.get("kind") == "official":
        out = [facts.ARTICLE_SOURCE]
        if "source" in built.data.columns:
            out += [s for s in dict.fromkeys(built.data["source"].astype(str)) if s and s not in out]
        return out
    dataset = built.meta.get("dataset") or ""
    data_zh = "模拟样本（非真实设施）" if built.simulated else dataset
    return [
        i18n.pick(lang, f"设施与居民：{data_zh}", f"Facilities and residents: {dataset}" + (" (SIMULATED)" if built.simulated else "")),
        i18n.pick(lang, "行政区划：乌海市三区边界（cnmaps，MIT）；街道：国家统计局2023年区划代码",
                  "Boundaries: Wuhai's three districts (cnmaps, MIT); streets: NBS 2023 division codes"),
        i18n.pick(lang, "网格：H3（Uber，Apache-2.0）", "Grid: H3 (Uber, Apache-2.0)"),
    ]


def method(built) -> str:
    lang = built.meta.get("lang", "zh")
    if built.meta.get("kind") == "official":
        return i18n.pick(lang, "官方公布的数字，按原文摘录，未经本应用计算",
                         "Figures as published by official sources, copied as printed; not computed by this app")
    speed = built.meta.get("speed_kmh") or 4.0
    return i18n.t("method_coverage", lang, speed=f"{speed:g}")


def metadata(built, generated: datetime | None = None, query: dict | None = None) -> dict:
    """Everything a reader needs to check the chart: what, from where, how, when, which version."""
    from circle.charts import REGISTRY

    spec = REGISTRY.get(built.chart_id)
    return _clean({
        "chart_id": built.chart_id,
        "title": built.title,
        "title_zh": spec.title_zh if spec else built.title,
        "title_en": spec.title_en if spec else built.title,
        "lang": built.meta.get("lang", "zh"),
        "kind": built.meta.get("kind"),
        "simulated": bool(built.simulated),
        "source_line": built.source_line,
        "sources": sources(built),
        "method": method(built),
        "dataset": built.meta.get("dataset"),
        "speed_kmh": built.meta.get("speed_kmh"),
        "filters": {k: v for k, v in (built.meta.get("filters") or {}).items() if v},
        "query": query or {},
        "columns": [str(c) for c in built.data.columns],
        "rows": int(len(built.data)),
        "generated_utc": _now(generated).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "app": f"{APP_NAME[0]} / {APP_NAME[1]}",
        "app_version": circle.__version__,
        "note": ("设施与居民为模拟数据，不代表真实情况 / Facilities and residents are SIMULATED, not the real city"
                 if built.simulated else None),
    })


def export_metadata(built, generated: datetime | None = None, query: dict | None = None) -> bytes:
    return json.dumps(metadata(built, generated, query), ensure_ascii=False, indent=2).encode("utf-8")


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_stem(built, query: dict | None = None) -> str:
    """An ASCII file name stem: wuhai_<chart id>_<lang>[_<filters>]."""
    parts = ["wuhai", built.chart_id, built.meta.get("lang", "zh")]
    for key in ("district", "street", "circle", "type", "speed"):
        value = (query or {}).get(key)
        if value:
            parts.append(_SAFE.sub("-", str(value)).strip("-") or key)
    return "_".join(p for p in parts if p)


FORMATS = {
    "png": ("image/png", export_png),
    "svg": ("image/svg+xml", export_svg),
    "csv": ("text/csv", None),
    "json": ("application/json", None),
}


def export(built, fmt: str, generated: datetime | None = None, query: dict | None = None) -> bytes:
    """One download by format name: png | svg | csv | json."""
    if fmt == "png":
        return export_png(built, generated)
    if fmt == "svg":
        return export_svg(built, generated)
    if fmt == "csv":
        return export_csv(built)
    if fmt == "json":
        return export_metadata(built, generated, query)
    raise ValueError(f"未知的导出格式：{fmt} / unknown export format: {fmt}")
