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
import numpy as np
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
    # Image charts (the static map): the rendered picture, with .png() and .svg() bytes. ``chart``
    # then shows the same picture as an Altair image mark, so code that only knows Altair still works.
    image: object | None = None

    @property
    def is_image(self) -> bool:
        return self.image is not None


@dataclass(frozen=True)
class ChartSpec:
    chart_id: str
    title_zh: str
    title_en: str
    kind: str                   # official | computed
    builder: Callable
    filters: tuple[str, ...] = ()
    image: bool = False         # the builder returns a rendered picture (circle.staticmap.StaticMap)
    height: int | None = None   # plot height when the default (320 px) does not fit

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


# --- charts for journalists and the briefing (issue 4) -----------------------------------------

def _district_rows(index, speed_kmh):
    """metrics.summary by district with the city as a first row."""
    city = metrics.summary(index, "city", speed_kmh)
    return pd.concat([city, metrics.summary(index, "district", speed_kmh)], ignore_index=True)


def _circle_district_heatmap(index, lang, speed_kmh=None, **_):
    table = _district_rows(index, speed_kmh)
    rows = []
    for order, row in enumerate(table.itertuples(index=False)):
        for c in circles():
            rows.append({"area_code": row.code, "area_zh": row.name_zh, "area_en": row.name_en,
                         "area": row.name_zh if lang == "zh" else row.name_en, "area_order": order,
                         "circle": c.id, "circle_label": c.name(lang), "circle_order": c.order,
                         "share": float(getattr(row, f"share_{c.id}")), "population": int(row.population)})
    data = pd.DataFrame(rows)
    # The colour scale starts a little below the lowest share (shares cluster near 100%).
    low = float(max(0.0, np.floor(np.nanmin(data["share"]) * 10) / 10 - 0.1)) if data["share"].notna().any() else 0.0
    share_title = pick(lang, "覆盖居民比例", "Share of residents covered")
    base = alt.Chart(data).encode(
        x=alt.X("circle_label:N", sort=alt.SortField("circle_order"), title=None,
                axis=alt.Axis(labelAngle=-30 if lang == "en" else 0, labelLimit=160, orient="top")),
        y=alt.Y("area:N", sort=alt.SortField("area_order"), title=None),
    )
    cells = base.mark_rect(stroke="white", strokeWidth=1.5).encode(
        color=alt.Color("share:Q", title=share_title, scale=alt.Scale(scheme="viridis", domain=[low, 1], clamp=True),
                        legend=alt.Legend(format="%", orient="bottom", gradientLength=240)),
        tooltip=[alt.Tooltip("area:N", title=""), alt.Tooltip("circle_label:N", title=pick(lang, "圈层", "Circle")),
                 alt.Tooltip("share:Q", format=".1%", title=share_title)],
    )
    text = base.mark_text(fontSize=12).encode(
        text=alt.Text("share:Q", format=".0%"),
        color=alt.condition(f"datum.share > {low + (1 - low) * 0.55:.3f}", alt.value("#111"), alt.value("white")),
    )
    return cells + text, data, True


def _mofcom_basic(index, lang, speed_kmh=None, district=None, street=None, **_):
    by, name = ("street", street) if street else (("district", district) if district else ("city", None))
    table = metrics.type_coverage(index, by, speed_kmh)
    if name:
        table = table[table["name_zh"] == name]
    table = table[table["mofcom"] == "basic"]
    data = table[["type", "type_zh", "type_en", "circle", "threshold_min", "population", "share_within",
                  "residents_beyond", "no_data"]].reset_index(drop=True).copy()
    data["label"] = [f"{zh}（≤{m}分钟）" if lang == "zh" else f"{en} (≤{m} min)"
                     for zh, en, m in zip(data["type_zh"], data["type_en"], data["threshold_min"])]
    share_title = pick(lang, "在步行阈值内的居民比例", "Residents within the walking threshold")
    base = alt.Chart(data).encode(
        y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
        x=alt.X("share_within:Q", title=share_title, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("share_within:Q", format=".1%", title=share_title),
                 alt.Tooltip("residents_beyond:Q", format=",", title=pick(lang, "阈值外居民", "Residents beyond"))],
    )
    bars = base.mark_bar(color="#31688e")
    labels = base.mark_text(align="left", dx=3).encode(text=alt.Text("share_within:Q", format=".0%"))
    rule = alt.Chart(pd.DataFrame({"x": [0.9]})).mark_rule(strokeDash=[4, 3], color="#333").encode(x="x:Q")
    return bars + labels + rule, data, True


def _wrap_text(text: str, width: int) -> str:
    """Break a long label into lines of about ``width`` characters: at spaces (English) or after
    Chinese punctuation, never inside a number."""
    if len(text) <= width:
        return text
    tokens, current = [], ""
    for ch in text:
        current += ch
        if ch in " ，；、：。,;:":
            tokens.append(current)
            current = ""
    if current:
        tokens.append(current)
    pieces = []
    for token in tokens:  # a token longer than a line: cut it where no number is split
        while len(token) > width:
            cut = width
            while cut > width // 2 and (token[cut - 1].isdigit() or token[cut - 1] in ".%") and \
                    (token[cut].isdigit() or token[cut] in ".%"):
                cut -= 1
            pieces.append(token[:cut])
            token = token[cut:]
        pieces.append(token)
    lines, line = [], ""
    for piece in pieces:
        if line and len(line) + len(piece.rstrip()) > width:
            lines.append(line.rstrip())
            line = piece.lstrip()
        else:
            line += piece
    if line.strip():
        lines.append(line.rstrip())
    return "\n".join(lines)


def _timeline(index, lang, **_):
    table = facts.load_timeline()
    data = pd.DataFrame({
        "order": range(len(table)),
        "date": table["date"].astype(str),
        "event_zh": table["event_zh"], "event_en": table["event_en"],
        "event": table["event_en"] if lang == "en" else table["event_zh"],
        "source": table["source"],
    })
    data["event_wrapped"] = [_wrap_text(e, 64 if lang == "en" else 34) for e in data["event"]]
    data["first_of_year"] = data["date"] != data["date"].shift(1)
    y = alt.Y("order:O", axis=None)
    base = alt.Chart(data).encode(y=y)
    year = base.transform_filter("datum.first_of_year").mark_text(
        align="left", fontSize=13, fontWeight="bold", color="#0b6e4f").encode(x=alt.value(0), text="date:N")
    dots = base.mark_circle(size=90, color="#0b6e4f", opacity=1).encode(
        x=alt.value(56), tooltip=[alt.Tooltip("date:N", title=""), alt.Tooltip("event:N", title="")])
    text = base.mark_text(align="left", baseline="middle", fontSize=12, lineBreak="\n", lineHeight=15).encode(
        x=alt.value(72), text="event_wrapped:N")
    chart = alt.layer(dots, year, text)
    return chart, data.drop(columns=["event_wrapped", "first_of_year"]), False


def _worst_streets(index, lang, speed_kmh=None, district=None, limit: int = 10, **_):
    table = metrics.summary(index, "street", speed_kmh)
    if district:
        table = table[table["district_zh"] == district]
    table = table[table["population"] > 0].sort_values(["residents_not_all_circles", "code"], ascending=[False, True])
    data = table.head(limit)[["code", "name_zh", "name_en", "district_zh", "population", "residents_not_all_circles",
                              "share_all_circles"]].reset_index(drop=True).copy()
    data["label"] = data["name_zh"] if lang == "zh" else data["name_en"]
    title = pick(lang, "未被八圈全覆盖的居民", "Residents without all eight circles")
    base = alt.Chart(data).encode(
        y=alt.Y("label:N", sort="-x", title=None),
        x=alt.X("residents_not_all_circles:Q", title=title),
        tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("residents_not_all_circles:Q", format=",", title=title),
                 alt.Tooltip("share_all_circles:Q", format=".1%", title=pick(lang, "八圈全覆盖", "All eight"))],
    )
    chart = base.mark_bar(color="#b5367a") + base.mark_text(align="left", dx=3).encode(
        text=alt.Text("residents_not_all_circles:Q", format=","))
    return chart, data, True


def _missing_types(index, lang, speed_kmh=None, district=None, street=None, circle=None, limit: int = 10, **_):
    by, name = ("street", street) if street else (("district", district) if district else ("city", None))
    table = metrics.type_coverage(index, by, speed_kmh)
    if name:
        table = table[table["name_zh"] == name]
    if circle:
        table = table[table["circle"] == circle]
    table = table[~table["no_data"]].sort_values(["residents_beyond", "type"], ascending=[False, True])
    data = table.head(limit)[["type", "type_zh", "type_en", "circle", "threshold_min", "population",
                              "residents_beyond", "share_within"]].reset_index(drop=True).copy()
    data["residents_beyond"] = data["residents_beyond"].astype(int)
    data["label"] = data["type_zh"] if lang == "zh" else data["type_en"]
    data["circle_label"] = [circle_by_id(c).name(lang) for c in data["circle"]]
    title = pick(lang, "在步行阈值外的居民", "Residents beyond the walking threshold")
    base = alt.Chart(data).encode(
        y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelLimit=220)),
        x=alt.X("residents_beyond:Q", title=title),
        tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("residents_beyond:Q", format=",", title=title),
                 alt.Tooltip("threshold_min:Q", title=pick(lang, "阈值（分钟）", "Threshold (min)"))],
    )
    bars = base.mark_bar().encode(color=alt.Color(
        "circle_label:N", title=pick(lang, "圈层", "Circle"),
        scale=alt.Scale(domain=[c.name(lang) for c in circles()], range=CIRCLE_COLOURS),
        legend=alt.Legend(orient="bottom", columns=4)))
    return bars + base.mark_text(align="left", dx=3).encode(text=alt.Text("residents_beyond:Q", format=",")), data, True


def _static_coverage_map(index, lang, speed_kmh=None, district=None, street=None, circle=None, type_id=None,
                         title=None, source=None, **_):
    from circle import staticmap

    picture = staticmap.render(index, lang=lang, speed_kmh=speed_kmh, district=district, street=street,
                               circle=circle, type_id=type_id, title=title, source=source)
    return picture, picture.data, True


def _image_chart(picture) -> alt.Chart:
    """An Altair chart showing a rendered picture (a data: URL; nothing is fetched)."""
    import base64
    import io

    from PIL import Image

    png = picture.png(dpi=100)
    with Image.open(io.BytesIO(png)) as im:
        width, height = im.size
    url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return alt.Chart(pd.DataFrame({"url": [url]})).mark_image(width=width, height=height, align="center",
                                                               baseline="middle").encode(
        x=alt.value(width / 2), y=alt.value(height / 2), url="url:N").properties(width=width, height=height)


REGISTRY: dict[str, ChartSpec] = {spec.chart_id: spec for spec in (
    ChartSpec("residents-served", "服务居民：从试点到全覆盖", "Residents served: from pilots to full coverage", "official", _residents_served),
    ChartSpec("published-counts", "官方公布的设施数量", "Facilities built, as published", "official", _published_counts),
    ChartSpec("circle-coverage", "各圈层覆盖的居民比例", "Residents covered, by circle", "computed", _circle_coverage, ("speed", "district")),
    ChartSpec("district-coverage", "各区八圈全覆盖的居民比例", "Residents with all eight circles, by district", "computed", _district_coverage, ("speed",)),
    ChartSpec("street-coverage", "各街道/镇八圈全覆盖的居民比例", "Residents with all eight circles, by street or town", "computed", _street_coverage, ("speed", "district")),
    ChartSpec("type-coverage", "各类设施在标准步行时间内的居民比例", "Residents within the standard walk, by facility type", "computed", _type_coverage, ("speed", "district", "circle")),
    ChartSpec("pt-distribution", "居民平均步行时间（PT）分布", "How far residents walk: proximity time (PT)", "computed", _pt_distribution, ("speed", "district")),
    # Issue 4 (gallery, embeds, briefing): append only; ids never change meaning.
    ChartSpec("circle-district-heatmap", "各区各圈层覆盖的居民比例", "Residents covered, by circle and district", "computed", _circle_district_heatmap, ("speed",)),
    ChartSpec("mofcom-basic", "商务部基本保障类业态：步行可达的居民比例", "MOFCOM basic formats: residents within walking reach", "computed", _mofcom_basic, ("speed", "district", "street")),
    ChartSpec("timeline", "乌海一刻钟社区生活圈大事记", "Wuhai's 15-minute life circle: timeline", "official", _timeline, height=540),
    ChartSpec("worst-streets", "缺口最大的街道/镇：未被八圈全覆盖的居民", "Largest gaps: residents without all eight circles, by street", "computed", _worst_streets, ("speed", "district")),
    ChartSpec("missing-types", "缺口最大的设施类型：步行阈值外的居民", "Largest gaps: residents beyond the walking threshold, by facility type", "computed", _missing_types, ("speed", "district", "street", "circle")),
    ChartSpec("static-coverage-map", "步行覆盖地图（静态）", "Walking coverage map (static)", "computed", _static_coverage_map, ("speed", "district", "street", "circle", "type"), image=True),
)}


def filter_labels(lang: str, district: str | None = None, street: str | None = None,
                  circle: str | None = None, type_id: str | None = None) -> list[str]:
    """Human names of the active filters, in ``lang`` (for titles and metadata)."""
    from circle import grid as gridmod
    from circle.names import english_name
    from circle.taxonomy import facility_type

    out = []
    if district:
        match = [d for d in gridmod.districts() if d.name_zh == district]
        out.append(pick(lang, district, f"{match[0].name_en} District" if match else district))
    if street:
        out.append(pick(lang, street, english_name(street)))
    if circle:
        out.append(circle_by_id(circle).name(lang))
    if type_id:
        out.append(facility_type(type_id).name(lang))
    return out


def build_chart(chart_id: str, index, lang: str = "zh", speed_kmh: float | None = None,
                district: str | None = None, circle: str | None = None, height: int = 320,
                street: str | None = None, type_id: str | None = None) -> BuiltChart:
    """Build a chart by id with its data, title and source line (KeyError for an unknown id).

    Filters a chart does not support (see ``ChartSpec.filters``) are ignored."""
    spec = REGISTRY[chart_id]
    speed = float(speed_kmh or (index.params.speed_kmh if index is not None else 4.0))
    active = {"district": district, "street": street, "circle": circle, "type": type_id}
    if spec.image:
        active = {k: (v if k in spec.filters else None) for k, v in active.items()}
    labels = filter_labels(lang, *(active[k] if k in spec.filters else None
                                   for k in ("district", "street", "circle", "type")))
    title = spec.title(lang)
    if labels:
        title = f"{title} · {' · '.join(labels)}"
    if spec.image:
        computed = spec.kind == "computed"
        source = _computed_source(index, lang, speed) if computed else _official_source(lang)
        picture, data, computed = spec.builder(index, lang, speed_kmh=speed_kmh, district=active["district"],
                                               circle=active["circle"], street=active["street"],
                                               type_id=active["type"], title=None, source=source)
        title = picture.title
        chart = _image_chart(picture).configure(font=FONT).configure_view(stroke=None)
    else:
        picture = None
        chart, data, computed = spec.builder(index, lang, speed_kmh=speed_kmh, district=district, circle=circle,
                                             street=street, type_id=type_id)
        source = _computed_source(index, lang, speed) if computed else _official_source(lang)
        chart = _titled(chart, title, source, height=spec.height or height)
    simulated = bool(computed and index.dataset.simulated)
    meta = {"chart_id": chart_id, "title": title, "source": source, "kind": spec.kind,
            "simulated": simulated, "speed_kmh": speed if computed else None,
            "filters": {"district": district, "circle": circle, "street": street, "type": type_id}, "lang": lang,
            "dataset": index.describe(lang) if computed else None}
    return BuiltChart(chart_id, title, chart, data, source, simulated, meta, image=picture)
