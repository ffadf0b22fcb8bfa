"""Every chart of the app, in one place: stable ids, the data behind each, the Altair spec.

A chart is built by ``build_chart(chart_id, index, lang, **filters)`` and returns a
:class:`BuiltChart`: the Altair chart (title and source line drawn in), the exact DataFrame shown
(for CSV downloads), and metadata (sources, method, simulated or not). Pages, embeds and exports
all call this, so a chart looks and means the same everywhere. Chart ids never change meaning.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import altair as alt
import pandas as pd

from circle import facts, metrics
from circle.i18n import pick
from circle.taxonomy import circle_by_id, circles

CIRCLE_COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f"]
FONT = "Noto Sans CJK SC, Noto Sans SC, PingFang SC, Microsoft YaHei, sans-serif"


@dataclass
class BuiltChart:
    chart_id: str
    title: str
    chart: alt.TopLevelMixin
    data: pd.DataFrame
    source_line: str
    simulated: bool
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ChartSpec:
    chart_id: str
    title_zh: str
    title_en: str
    kind: str                   # official | computed
    builder: Callable
    filters: tuple[str, ...] = ()

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh


def _official_source(lang: str) -> str:
    return pick(lang, f"来源：{facts.ARTICLE_SOURCE}；官方公布数字",
                f"Source: {facts.ARTICLE_SOURCE}; figures published by Wuhai city as reported")


def _computed_source(index, lang: str, speed: float) -> str:
    data = index.describe(lang)
    if index.dataset.simulated:
        return pick(lang, f"数据：{data}（模拟，非真实设施）；方法：H3网格步行模型，{speed:g} km/h，人口加权",
                    f"Data: {data} (SIMULATED, not real facilities); method: H3 grid walking model, {speed:g} km/h, population-weighted")
    return pick(lang, f"数据：{data}；方法：H3网格步行模型，{speed:g} km/h，人口加权",
                f"Data: {data}; method: H3 grid walking model, {speed:g} km/h, population-weighted")


def _titled(chart, title: str, source: str, width="container", height: int = 320):
    return chart.properties(
        title=alt.Title(title, subtitle=[source], anchor="start", fontSize=16, subtitleFontSize=11,
                        subtitleColor="#555"),
        width=width, height=height,
    ).configure(font=FONT).configure_view(stroke=None)


# --- official charts ------------------------------------------------------------------------

def _residents_served(index, lang, **_):
    rows = [
        {"year": "2022", "label": pick(lang, "首批5个试点", "5 first pilots"), "residents": facts.figure("pilot_population").value_num},
        {"year": "2024", "label": pick(lang, "14个生活圈", "14 life circles"), "residents": facts.figure("residents_served").value_num},
    ]
    data = pd.DataFrame(rows)
    data["residents_wan"] = data["residents"] / 10_000
    axis_title = pick(lang, "服务居民（万人）", "Residents served (10,000s)")
    chart = alt.Chart(data).mark_bar(color="#0b6e4f").encode(
        x=alt.X("label:N", title=None, sort=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("residents_wan:Q", title=axis_title),
        tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("residents:Q", title=axis_title, format=",")],
    )
    text = chart.mark_text(dy=-8).encode(text=alt.Text("residents_wan:Q", format=".2f"))
    return chart + text, data, False


def _published_counts(index, lang, **_):
    ids = ["breakfast_shops", "markets", "elderly_institutions", "meal_points", "childcare_institutions",
           "pocket_parks", "red_property_sites"]
    data = pd.DataFrame([{"id": i, "label": pick(lang, facts.figure(i).label_zh, facts.figure(i).label_en),
                          "value": facts.figure(i).value_num, "circle": facts.figure(i).circle} for i in ids])
    chart = alt.Chart(data).mark_bar(color="#0b6e4f").encode(
        y=alt.Y("label:N", sort="-x", title=None),
        x=alt.X("value:Q", title=pick(lang, "数量", "Count")),
        tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("value:Q", title=pick(lang, "数量", "Count"))],
    )
    return chart + chart.mark_text(align="left", dx=3).encode(text="value:Q"), data, False


# --- computed charts ------------------------------------------------------------------------

def _circle_coverage(index, lang, speed_kmh=None, district=None, **_):
    by = "district" if district else "city"
    table = metrics.summary(index, by, speed_kmh)
    if district:
        table = table[table["name_zh"] == district]
    row = table.iloc[0]
    data = pd.DataFrame([{"circle": c.id, "label": c.name(lang), "order": c.order,
                          "share": float(row[f"share_{c.id}"])} for c in circles()])
    data["area"] = row["name_zh"] if lang == "zh" else row["name_en"]
    base = alt.Chart(data).encode(
        y=alt.Y("label:N", sort=alt.SortField("order"), title=None),
        x=alt.X("share:Q", title=pick(lang, "覆盖居民比例", "Share of residents covered"),
                axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("share:Q", format=".1%")],
    )
    bars = base.mark_bar().encode(color=alt.Color("label:N", legend=None, scale=alt.Scale(range=CIRCLE_COLOURS)))
    rule = alt.Chart(pd.DataFrame({"x": [0.9]})).mark_rule(strokeDash=[4, 3], color="#333").encode(x="x:Q")
    return bars + base.mark_text(align="left", dx=3).encode(text=alt.Text("share:Q", format=".0%")) + rule, data, True


def _group_coverage(index, lang, by, speed_kmh=None, district=None):
    table = metrics.summary(index, by, speed_kmh)
    if district and by == "street":
        table = table[table["district_zh"] == district]
    data = table[["code", "name_zh", "name_en", "district_zh", "population", "share_all_circles",
                  "share_basic_complete", "f15", "mean_pt_minutes", "gini_pt"]].copy()
    data["label"] = data["name_zh"] if lang == "zh" else data["name_en"]
    chart = alt.Chart(data).mark_bar(color="#3e4a89").encode(
        y=alt.Y("label:N", sort="-x", title=None),
        x=alt.X("share_all_circles:Q", title=pick(lang, "八圈全覆盖的居民比例", "Residents with all eight circles"),
                axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("label:N", title=""),
                 alt.Tooltip("share_all_circles:Q", format=".1%", title=pick(lang, "八圈全覆盖", "All eight")),
                 alt.Tooltip("population:Q", format=",", title=pick(lang, "居民", "Residents")),
                 alt.Tooltip("mean_pt_minutes:Q", format=".1f", title="PT")],
    )
    return chart + chart.mark_text(align="left", dx=3).encode(text=alt.Text("share_all_circles:Q", format=".0%")), data, True


def _district_coverage(index, lang, speed_kmh=None, **_):
    return _group_coverage(index, lang, "district", speed_kmh)


def _street_coverage(index, lang, speed_kmh=None, district=None, **_):
    return _group_coverage(index, lang, "street", speed_kmh, district)


def _type_coverage(index, lang, speed_kmh=None, circle=None, district=None, **_):
    by = "district" if district else "city"
    table = metrics.type_coverage(index, by, speed_kmh)
    if district:
        table = table[table["name_zh"] == district]
    if circle:
        table = table[table["circle"] == circle]
    data = table[["type", "type_zh", "type_en", "circle", "mofcom", "threshold_min", "share_within",
                  "residents_beyond", "mean_minutes", "no_data"]].copy()
    data["label"] = data["type_zh"] if lang == "zh" else data["type_en"]
    data["circle_label"] = [circle_by_id(c).name(lang) for c in data["circle"]]
    chart = alt.Chart(data).mark_bar().encode(
        y=alt.Y("label:N", sort="-x", title=None),
        x=alt.X("share_within:Q", title=pick(lang, "在标准步行时间内的居民比例", "Residents within the standard walk"),
                axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("circle_label:N", title=pick(lang, "圈层", "Circle"),
                        scale=alt.Scale(domain=[c.name(lang) for c in circles()], range=CIRCLE_COLOURS),
                        legend=alt.Legend(orient="bottom", columns=4)),
        tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("share_within:Q", format=".1%"),
                 alt.Tooltip("threshold_min:Q", title=pick(lang, "标准（分钟）", "Standard (min)"))],
    )
    return chart, data, True


def _pt_distribution(index, lang, speed_kmh=None, district=None, **_):
    cells = index.cells_at_speed(speed_kmh)
    frame = cells[cells["population"] > 0]
    if district:
        from circle import grid as gridmod
        codes = [i for i, d in enumerate(gridmod.districts()) if d.name_zh == district]
        frame = frame[frame["district"].isin(codes)]
    bins = list(range(0, 32, 2)) + [61]
    labels = [f"{a}–{b}" for a, b in zip(bins[:-1], bins[1:])]
    cut = pd.cut(frame["pt_minutes"], bins=bins, right=False, labels=labels)
    data = frame.groupby(cut, observed=False)["population"].sum().reset_index()
    data.columns = ["pt_bin", "residents"]
    data["residents"] = data["residents"].round().astype(int)
    data["order"] = range(len(data))
    chart = alt.Chart(data).mark_bar(color="#21918c").encode(
        x=alt.X("pt_bin:N", sort=alt.SortField("order"), title=pick(lang, "平均步行时间 PT（分钟）", "Proximity time PT (minutes)")),
        y=alt.Y("residents:Q", title=pick(lang, "居民", "Residents")),
        tooltip=[alt.Tooltip("pt_bin:N", title="PT"), alt.Tooltip("residents:Q", format=",")],
    )
    return chart, data, True


REGISTRY: dict[str, ChartSpec] = {spec.chart_id: spec for spec in (
    ChartSpec("residents-served", "服务居民：从试点到全覆盖", "Residents served: from pilots to full coverage", "official", _residents_served),
    ChartSpec("published-counts", "官方公布的设施数量", "Facilities built, as published", "official", _published_counts),
    ChartSpec("circle-coverage", "各圈层覆盖的居民比例", "Residents covered, by circle", "computed", _circle_coverage, ("speed", "district")),
    ChartSpec("district-coverage", "各区八圈全覆盖的居民比例", "Residents with all eight circles, by district", "computed", _district_coverage, ("speed",)),
    ChartSpec("street-coverage", "各街道/镇八圈全覆盖的居民比例", "Residents with all eight circles, by street or town", "computed", _street_coverage, ("speed", "district")),
    ChartSpec("type-coverage", "各类设施在标准步行时间内的居民比例", "Residents within the standard walk, by facility type", "computed", _type_coverage, ("speed", "district", "circle")),
    ChartSpec("pt-distribution", "居民平均步行时间（PT）分布", "How far residents walk: proximity time (PT)", "computed", _pt_distribution, ("speed", "district")),
)}


def build_chart(chart_id: str, index, lang: str = "zh", speed_kmh: float | None = None,
                district: str | None = None, circle: str | None = None, height: int = 320) -> BuiltChart:
    """Build a chart by id with its data, title and source line (KeyError for an unknown id)."""
    spec = REGISTRY[chart_id]
    speed = float(speed_kmh or (index.params.speed_kmh if index is not None else 4.0))
    chart, data, computed = spec.builder(index, lang, speed_kmh=speed_kmh, district=district, circle=circle)
    source = _computed_source(index, lang, speed) if computed else _official_source(lang)
    title = spec.title(lang)
    if district and "district" in spec.filters:
        title = f"{title} · {district}"
    simulated = computed and index.dataset.simulated
    meta = {"chart_id": chart_id, "title": title, "source": source, "kind": spec.kind,
            "simulated": simulated, "speed_kmh": speed if computed else None,
            "filters": {"district": district, "circle": circle}, "lang": lang,
            "dataset": index.describe(lang) if computed else None}
    return BuiltChart(chart_id, title, _titled(chart, title, source, height=height), data, source, simulated, meta)
