"""Briefing deck for officials: one message per slide, built once as data, rendered three ways.

``build_deck(index, lang, district)`` returns a :class:`Deck` whose :class:`Slide` s each hold a
title, one headline (a number or a short message) with what it means, up to three short lines,
one chart id (with its filters), the source line, speaker notes holding every source, and whether
the slide rests on simulated data. The briefing page shows the slides; :func:`to_pptx` (python-
pptx: title, headline, picture, text, notes) and :func:`to_pdf` (matplotlib: the same slides, then
one page of speaker notes and sources per slide) export them. Chart pictures come from
:mod:`circle.chart_export` / :mod:`circle.staticmap`: offline, with
the CJK font. Story: why → what was built → journey → the eight circles → districts → map → gaps
(streets, facility types) → next steps.
"""
from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone

from circle import chart_export, charts, facts, metrics
from circle.i18n import pick
from circle.provenance import computed as computed_tag
from circle.provenance import official as official_tag
from circle.taxonomy import circle_by_id, circles

SLIDE_W_IN, SLIDE_H_IN = 13.333, 7.5
DECK_CHART_WIDTH = 540         # CSS px: narrower than the web export, so chart text is legible on a slide
EA_FONT = "Microsoft YaHei"     # what Chinese offices have; PowerPoint/LibreOffice substitute otherwise


@dataclass
class Slide:
    key: str
    title: str
    headline: str
    headline_label: str
    lines: list[str]
    chart_id: str
    chart_filters: dict
    source: str
    notes: str
    simulated: bool
    kind: str                    # official | computed
    headline_source: str = ""
    _built: object = field(default=None, repr=False)
    _png: bytes | None = field(default=None, repr=False)


@dataclass
class Deck:
    lang: str
    district: str | None
    speed_kmh: float | None
    generated: datetime
    title: str
    subtitle: str
    simulated: bool
    slides: list[Slide]
    index: object = field(default=None, repr=False)
    _lock: object = field(default_factory=threading.Lock, repr=False)
    _files: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.slides)

    def built(self, i: int):
        """The chart of slide ``i`` (a ``charts.BuiltChart``), built once."""
        slide = self.slides[i]
        if slide._built is None:
            slide._built = charts.build_chart(slide.chart_id, self.index, self.lang, **slide.chart_filters)
        return slide._built

    def picture(self, i: int) -> bytes:
        """The chart of slide ``i`` as PNG (title, source and date drawn in)."""
        slide = self.slides[i]
        with self._lock:  # matplotlib figures are not thread-safe; sessions may share a deck
            if slide._png is None:
                slide._png = chart_export.export_png(self.built(i), self.generated, width=DECK_CHART_WIDTH)
        return slide._png

    def footer_lines(self, i: int) -> list[str]:
        """The source lines printed at the bottom of slide ``i``."""
        s = self.slides[i]
        lines = [pick(self.lang, "来源：", "Source: ") + s.source]
        if s.headline_source and s.kind == "official" and charts.REGISTRY[s.chart_id].kind != "official":
            lines.insert(0, pick(self.lang, "标题数字：", "Headline: ") + s.headline_source)
        if s.simulated:
            lines.insert(0, pick(self.lang, "模拟数据：设施与居民为模拟样本，不代表真实情况",
                                 "SIMULATED data: facilities and residents are a simulated sample, not the real city"))
        return lines

    def footer(self, i: int) -> str:
        return f"{self.title} · {i + 1}/{len(self.slides)}"


def _pct(value: float) -> str:
    return "—" if value != value else f"{value * 100:.0f}%"


def _num(value: float, lang: str) -> str:
    return f"{value:,.0f}"


def _fig(fig_id: str, lang: str) -> tuple[str, str, str]:
    f = facts.figure(fig_id)
    return f.display(lang), f.label(lang), official_tag(f).text(lang)


def _area(lang: str, district: str | None) -> str:
    if not district:
        return pick(lang, "全市", "Wuhai")
    return charts.filter_labels(lang, district=district)[0]


def build_deck(index, lang: str = "zh", district: str | None = None, speed_kmh: float | None = None,
               generated: datetime | None = None) -> Deck:
    """The deck's content for ``lang`` with an optional district focus (its Chinese name)."""
    from circle import grid as gridmod

    if district is not None and district not in [d.name_zh for d in gridmod.districts()]:
        raise ValueError(f"没有这个区：{district}（海勃湾区、海南区、乌达区）/ no such district: {district} "
                         "(海勃湾区 Haibowan, 海南区 Hainan, 乌达区 Wuda)")
    generated = generated or datetime.now(timezone.utc)
    area = _area(lang, district)
    sim = bool(index.dataset.simulated)
    ctag = computed_tag(index).text(lang)
    sim_note = pick(lang, "注意：以下计算基于模拟样本数据（非真实设施），仅演示方法。",
                    "Note: computed from the SIMULATED sample (not real facilities); it shows the method only.") if sim else ""
    group = metrics.summary(index, "district" if district else "city", speed_kmh)
    if district:
        group = group[group["name_zh"] == district]
    row = group.iloc[0]
    focus = {"district": district} if district else {}
    speed = {"speed_kmh": speed_kmh} if speed_kmh else {}
    slides: list[Slide] = []

    def add(key, title, headline, label, lines, chart_id, filters, headline_source, kind, notes_extra=""):
        built_kind = charts.REGISTRY[chart_id].kind
        chart_source = (charts._computed_source(index, lang, float(speed_kmh or index.params.speed_kmh))
                        if built_kind == "computed" else charts._official_source(lang))
        is_sim = sim and (kind == "computed" or built_kind == "computed")
        notes = [pick(lang, f"要点：{headline} — {label}", f"Key point: {headline} — {label}")]
        notes += [f"• {line}" for line in lines]
        if notes_extra:
            notes.append(notes_extra)
        notes.append(pick(lang, "来源：", "Sources:"))
        notes.append(f"• {pick(lang, '标题数字', 'Headline')}: {headline_source}")
        notes.append(f"• {pick(lang, '图表', 'Chart')} ({chart_id}): {chart_source}")
        if is_sim:
            notes.append(sim_note)
        slides.append(Slide(key, title, headline, label, lines, chart_id, {**filters, **speed}, chart_source,
                            "\n".join(notes), is_sim, kind, headline_source))

    # 1. Why.
    value, label, src = _fig("residents_served", lang)
    add("why", pick(lang, "为什么：步行15分钟，满足日常所需", "Why: daily needs within a 15-minute walk"),
        value, label,
        [pick(lang, "买菜、早餐、看病、上学、养老、锻炼、办事，都在家门口", "Food, breakfast, a clinic, school, elderly care, a park, errands: close to home"),
         pick(lang, f"常住人口 {facts.figure('resident_population').display('zh')}；从5个试点街道社区（16万人）起步",
              f"Resident population {facts.figure('resident_population').display('en')}; started from 5 pilot street-communities (160,000 people)")],
        "residents-served", {}, src, "official")

    # 2. What was built.
    value, label, src = _fig("circles_count", lang)
    v2, l2, _ = _fig("commercial_outlets", lang)
    v3, l3, _ = _fig("government_funds", lang)
    v4, l4, _ = _fig("private_investment", lang)
    add("built", pick(lang, "建成了什么：官方公布的成果", "What was built: the official figures"),
        value, label, [f"{l2}: {v2}", f"{l3}: {v3}", f"{l4}: {v4}"],
        "published-counts", {}, src, "official")

    # 3. The journey.
    value, label, src = _fig("street_community_coverage", lang)
    add("journey", pick(lang, "从试点到全覆盖", "From pilots to the whole city"), value, label,
        [pick(lang, "2022年：自治区首批、商务部第二批全国试点", "2022: regional first batch and MOFCOM's second national batch of pilots"),
         pick(lang, "2024年：“品质提升年”，全域推进先行区试点", "2024: the 'quality year'; a whole-area advancement pilot zone")],
        "timeline", {}, src, "official")

    # 4. The eight circles.
    shares = {c.id: float(row[f"share_{c.id}"]) for c in circles()}
    weakest = min(shares, key=shares.get)
    add("circles", pick(lang, f"八个圈层：{area}的覆盖情况", f"The eight circles in {area}"),
        _pct(float(row["share_all_circles"])), pick(lang, "八个圈层全部覆盖的居民比例", "of residents have all eight circles in reach"),
        [pick(lang, f"最弱的圈层：{circle_by_id(weakest).name('zh')}（{_pct(shares[weakest])}）",
              f"Weakest circle: {circle_by_id(weakest).name('en')} ({_pct(shares[weakest])})"),
         pick(lang, f"平均步行时间（PT）{row['mean_pt_minutes']:.1f} 分钟；F15 {_pct(float(row['f15']))}",
              f"Proximity time (PT) {row['mean_pt_minutes']:.1f} min; F15 {_pct(float(row['f15']))}")],
        "circle-coverage", focus, ctag, "computed")

    # 5. Coverage by district (or by street within the focus district).
    by_district = metrics.summary(index, "district", speed_kmh).sort_values("share_all_circles")
    if district:
        streets = metrics.summary(index, "street", speed_kmh)
        streets = streets[(streets["district_zh"] == district) & (streets["population"] > 0)].sort_values("share_all_circles")
        low = streets.iloc[0] if len(streets) else None
        lines = [pick(lang, f"覆盖最低：{low['name_zh']}（{_pct(low['share_all_circles'])}）",
                      f"Lowest: {low['name_en']} ({_pct(low['share_all_circles'])})")] if low is not None else []
        add("districts", pick(lang, f"{area}各街道/镇的覆盖", f"Coverage by street in {area}"),
            _pct(float(row["share_all_circles"])), pick(lang, f"{area}八圈全覆盖", f"{area}: all eight circles"),
            lines, "street-coverage", focus, ctag, "computed")
    else:
        low, high = by_district.iloc[0], by_district.iloc[-1]
        add("districts", pick(lang, "三个区的覆盖对比", "Coverage in the three districts"),
            f"{_pct(low['share_all_circles'])} – {_pct(high['share_all_circles'])}",
            pick(lang, f"八圈全覆盖：{low['name_zh']}最低，{high['name_zh']}最高",
                 f"all eight circles: {low['name_en']} lowest, {high['name_en']} highest"),
            [pick(lang, f"{r.name_zh}：{_pct(r.share_all_circles)}，{r.population:,} 人",
                  f"{r.name_en}: {_pct(r.share_all_circles)}, {r.population:,} residents") for r in by_district.itertuples()],
            "district-coverage", {}, ctag, "computed")

    # 6. The map.
    add("map", pick(lang, f"地图：{area}哪里步行可达", f"Map: where {area} is covered on foot"),
        _pct(float(row["f15"])), pick(lang, "F15：平均步行时间≤15分钟的居民比例", "F15: residents whose proximity time is ≤ 15 min"),
        [pick(lang, "颜色越亮，步行可达的圈层越多；浅色处无居民", "Brighter = more circles in reach; pale cells have no residents")],
        "static-coverage-map", focus, ctag, "computed")

    # 7. Gaps: streets.
    not_all = int(row["residents_not_all_circles"])
    worst = metrics.summary(index, "street", speed_kmh)
    if district:
        worst = worst[worst["district_zh"] == district]
    worst = worst[worst["population"] > 0].sort_values(["residents_not_all_circles", "code"], ascending=[False, True]).head(3)
    add("gaps_streets", pick(lang, "缺口一：哪些街道还没有全覆盖", "Gaps (1): streets not yet fully covered"),
        _num(not_all, lang), pick(lang, f"{area}未被八圈全覆盖的居民", f"residents of {area} without all eight circles"),
        [pick(lang, f"{r.name_zh}：{r.residents_not_all_circles:,} 人", f"{r.name_en}: {r.residents_not_all_circles:,} residents")
         for r in worst.itertuples()],
        "worst-streets", focus, ctag, "computed")

    # 8. Gaps: facility types.
    types = metrics.type_coverage(index, "district" if district else "city", speed_kmh)
    if district:
        types = types[types["name_zh"] == district]
    types = types[~types["no_data"]].sort_values(["residents_beyond", "type"], ascending=[False, True])
    top = types.iloc[0]
    add("gaps_types", pick(lang, "缺口二：最缺哪类设施", "Gaps (2): which facilities are missing"),
        pick(lang, str(top["type_zh"]), str(top["type_en"])),
        pick(lang, f"{int(top['residents_beyond']):,} 名居民步行 {top['threshold_min']} 分钟内够不着",
             f"{int(top['residents_beyond']):,} residents are beyond a {top['threshold_min']}-minute walk"),
        [pick(lang, f"{r.type_zh}：{int(r.residents_beyond):,} 人", f"{r.type_en}: {int(r.residents_beyond):,} residents")
         for r in types.iloc[1:3].itertuples()],
        "missing-types", focus, ctag, "computed")

    # 9. Next steps.
    basic = types[types["mofcom"] == "basic"]
    first = basic.iloc[0] if len(basic) else top
    value, label, src = _fig("tasks_2024", lang)
    qa, _, _ = _fig("quality_year_areas", lang)
    qt, _, _ = _fig("quality_year_tasks", lang)
    add("next", pick(lang, "下一步", "Next steps"), value, label,
        [pick(lang, f"“品质提升年”：{qa}、{qt}重点任务", f"The 'quality year': {qa}, {qt}"),
         pick(lang, f"补齐商务部基本保障类业态，先补“{first['type_zh']}”", f"Complete MOFCOM's basic formats, starting with: {first['type_en']}"),
         pick(lang, "用真实设施数据替换模拟样本，复核本报告的计算结果", "Replace the simulated sample with real facility data and re-check these numbers")
         if sim else pick(lang, "每年用更新的设施数据复核", "Re-check every year with updated facility data")],
        "mofcom-basic", focus, src, "official",
        notes_extra=pick(lang, f"图表为{area}的商务部基本保障类业态覆盖（计算）。", f"The chart shows MOFCOM basic formats in {area} (computed)."))

    title = pick(lang, "乌海一刻钟社区生活圈 · 汇报", "Wuhai's 15-minute community life circle · Briefing")
    subtitle = pick(lang, f"{area} · {generated:%Y-%m-%d}", f"{area} · {generated:%Y-%m-%d}")
    return Deck(lang, district, speed_kmh, generated, title, subtitle, sim, slides, index)


# --- PPTX --------------------------------------------------------------------------------------

def _set_font(run, size_pt: float, bold: bool = False, colour=None) -> None:
    from pptx.oxml.ns import qn
    from pptx.util import Pt

    run.font.size = Pt(size_pt)
    run.font.bold = bold
    if colour is not None:
        from pptx.dml.color import RGBColor

        run.font.color.rgb = RGBColor(*colour)
    rpr = run._r.get_or_add_rPr()
    for tag in ("a:latin", "a:ea"):
        el = rpr.find(qn(tag))
        if el is None:
            el = rpr.makeelement(qn(tag), {})
            rpr.append(el)
        el.set("typeface", EA_FONT)


def _text_box(slide, left, top, width, height, paragraphs, size, bold=False, colour=None):
    from pptx.util import Inches

    box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
    frame = box.text_frame
    frame.word_wrap = True
    for i, text in enumerate(paragraphs):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        run = para.add_run()
        run.text = text
        _set_font(run, size, bold, colour)
    return box


def _fit(png: bytes, max_w: float, max_h: float) -> tuple[float, float]:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        w, h = im.size
    scale = min(max_w / w, max_h / h)
    return w * scale, h * scale


def to_pptx(deck: Deck) -> bytes:
    """The deck as PowerPoint: per slide a title, the headline, the chart picture, the lines, the
    source, and speaker notes with all sources."""
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(SLIDE_W_IN), Inches(SLIDE_H_IN)
    blank = prs.slide_layouts[6]
    prs.core_properties.title = deck.title
    prs.core_properties.subject = deck.subtitle
    for i, slide_data in enumerate(deck.slides):
        slide = prs.slides.add_slide(blank)
        title = _text_box(slide, 0.5, 0.3, 12.3, 0.9, [slide_data.title], 30, bold=True)
        title.name = "Title"
        _text_box(slide, 0.5, 1.35, 5.0, 1.4, [slide_data.headline], 48, bold=True, colour=(11, 110, 79))
        _text_box(slide, 0.5, 2.75, 5.0, 1.0, [slide_data.headline_label], 18, colour=(60, 60, 60))
        _text_box(slide, 0.5, 3.9, 5.0, 2.4, [f"• {line}" for line in slide_data.lines], 15)
        png = deck.picture(i)
        w, h = _fit(png, 7.1, 5.5)
        slide.shapes.add_picture(io.BytesIO(png), Inches(5.8 + (7.1 - w) / 2), Inches(1.3 + (5.5 - h) / 2),
                                 Inches(w), Inches(h))
        _text_box(slide, 0.5, 6.4, 10.8, 0.9, deck.footer_lines(i), 10,
                  colour=(150, 30, 30) if slide_data.simulated else (80, 80, 80))
        _text_box(slide, 11.3, 6.95, 1.8, 0.4, [f"{i + 1} / {len(deck.slides)}"], 10, colour=(120, 120, 120))
        slide.notes_slide.notes_text_frame.text = slide_data.notes
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


# --- PDF ---------------------------------------------------------------------------------------

def slide_figure(deck: Deck, i: int):
    """Slide ``i`` drawn as a matplotlib figure (the PDF page; also a PNG preview)."""
    import numpy as np
    from matplotlib.figure import Figure
    from PIL import Image

    from circle.fonts import font_properties as fp
    from circle.staticmap import _wrap

    s = deck.slides[i]
    width = 40 if deck.lang == "zh" else 70
    W, H = SLIDE_W_IN, SLIDE_H_IN
    fig = Figure(figsize=(W, H))
    fig.patch.set_facecolor("white")

    def text(x_in, y_in, content, size, weight="normal", colour="#111", **kw):
        fig.text(x_in / W, 1 - y_in / H, content, fontproperties=fp(size, weight), color=colour,
                 ha="left", va="top", parse_math=False, **kw)

    text(0.5, 0.35, s.title, 26, "bold")
    text(0.5, 1.4, s.headline, 40, "bold", "#0b6e4f")
    text(0.5, 2.8, "\n".join(_wrap(s.headline_label, width // 2 + 8)), 15, colour="#3c3c3c", linespacing=1.3)
    bullets = []
    for line in s.lines:
        wrapped = _wrap(line, width // 2 + 10)
        bullets += [f"• {wrapped[0]}"] + [f"   {w}" for w in wrapped[1:]]
    text(0.5, 3.95, "\n".join(bullets), 12.5, linespacing=1.5)
    png = deck.picture(i)
    with Image.open(io.BytesIO(png)) as im:
        image = np.asarray(im.convert("RGB"))
    w, h = _fit(png, 7.1, 5.5)
    ax = fig.add_axes(((5.8 + (7.1 - w) / 2) / W, 1 - (1.3 + (5.5 - h) / 2 + h) / H, w / W, h / H))
    ax.imshow(image, interpolation="none")
    ax.set_axis_off()
    lines = []
    for line in deck.footer_lines(i):
        lines += _wrap(line, 150 if deck.lang == "en" else 85)
    text(0.5, 6.4, "\n".join(lines), 8.5, colour="#962020" if s.simulated else "#505050", linespacing=1.35)
    text(11.6, 7.05, f"{i + 1} / {len(deck.slides)}", 9, colour="#777")
    return fig


def notes_figure(deck: Deck, i: int):
    """The speaker notes of slide ``i`` as a page of the PDF's appendix: the slide's title, then its
    notes (key point, lines, every source, the simulated warning) as text."""
    from matplotlib.figure import Figure

    from circle.fonts import font_properties as fp
    from circle.staticmap import _wrap

    s = deck.slides[i]
    W, H = SLIDE_W_IN, SLIDE_H_IN
    fig = Figure(figsize=(W, H))
    fig.patch.set_facecolor("white")
    heading = pick(deck.lang, f"讲稿与来源 · 第 {i + 1} 页：{s.title}",
                   f"Speaker notes and sources · slide {i + 1}: {s.title}")
    fig.text(0.5 / W, 1 - 0.4 / H, heading, fontproperties=fp(20, "bold"), ha="left", va="top", parse_math=False)
    width = 150 if deck.lang == "en" else 80
    lines = [w for paragraph in s.notes.split("\n") for w in (_wrap(paragraph, width) or [""])]
    size = 13 if len(lines) <= 24 else max(8.0, 13 * 24 / len(lines))  # long notes: smaller, never cut
    fig.text(0.5 / W, 1 - 1.2 / H, "\n".join(lines), fontproperties=fp(size), ha="left", va="top",
             color="#222", linespacing=1.45, parse_math=False)
    fig.text(11.6 / W, 1 - 7.05 / H, f"{len(deck.slides) + i + 1} / {2 * len(deck.slides)}",
             fontproperties=fp(9), color="#777", ha="left", va="top")
    return fig


def slide_png(deck: Deck, i: int, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    slide_figure(deck, i).savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def to_pdf(deck: Deck) -> bytes:
    """The same slides as the PPTX, as a PDF (matplotlib, with the CJK font), then an appendix with
    each slide's speaker notes and sources (what the PPTX keeps in its notes), one page per slide:
    the slides can be shown as they are, and the notes printed for the presenter."""
    from matplotlib.backends.backend_pdf import PdfPages

    buf = io.BytesIO()
    with PdfPages(buf, metadata={"Title": deck.title, "Subject": deck.subtitle,
                                 "Creator": chart_export.APP_NAME[1]}) as pdf:
        for i in range(len(deck.slides)):
            pdf.savefig(slide_figure(deck, i), dpi=150)
        for i in range(len(deck.slides)):
            pdf.savefig(notes_figure(deck, i), dpi=150)
    return buf.getvalue()


def export(deck: Deck, fmt: str) -> bytes:
    """The deck as ``pptx`` or ``pdf`` bytes (made once per deck)."""
    if fmt not in ("pptx", "pdf"):
        raise ValueError(f"输出须为 .pptx 或 .pdf / output must be .pptx or .pdf, got {fmt!r}")
    if fmt not in deck._files:
        deck._files[fmt] = to_pptx(deck) if fmt == "pptx" else to_pdf(deck)
    return deck._files[fmt]

