"""Official figures beside computed ones, with a short, cautious reading of the difference.

Each :class:`Comparison` pairs a published figure (``circle.facts``) with the nearest thing the
engine can compute from the current data set, and a generated sentence in Chinese and English
that says what is being compared and what can (and cannot) be concluded:

* the published ">90%" is a share of **street-communities** covered by the programme, while the
  engine measures **residents** (or community points) whose 15-minute walk reaches all eight
  circles — different measures;
* on the simulated sample nothing can confirm or refute an official figure; where the sample was
  generated from the published count, agreement is by construction.

The sentence templates live in ``circle/strings/progress.toml`` (keys ``rd_*``). No streamlit.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from circle import facts, metrics
from circle.i18n import pick, t
from circle.provenance import Tag, computed, official
from circle.sources import SAMPLE_DIR, read_csv
from circle.taxonomy import circles, facility_types, types_in_circle

COUNT_FIGURES_EXTRA = {"commercial_outlets": tuple(ft.id for ft in types_in_circle("shopping"))}


@dataclass(frozen=True)
class Comparison:
    id: str
    figure: facts.Figure
    label_zh: str
    label_en: str
    computed_value: float
    computed_zh: str
    computed_en: str
    computed_tag: Tag
    reading_zh: str
    reading_en: str
    short_zh: str = ""        # the computed number alone, for a card
    short_en: str = ""
    kind: str = ""            # coverage | residents | by_construction | equal | fewer | more

    def label(self, lang: str = "zh") -> str:
        return pick(lang, self.label_zh, self.label_en)

    def computed_text(self, lang: str = "zh") -> str:
        return pick(lang, self.computed_zh, self.computed_en)

    def short(self, lang: str = "zh") -> str:
        return pick(lang, self.short_zh, self.short_en) or self.computed_text(lang)

    def reading(self, lang: str = "zh") -> str:
        return pick(lang, self.reading_zh, self.reading_en)

    @property
    def official_tag(self) -> Tag:
        return official(self.figure)


def _pct(x: float) -> str:
    return "—" if x != x else f"{x * 100:.1f}%"


def _people(n: float, lang: str) -> str:
    return f"{n / 10_000:.2f}万" if lang == "zh" else f"{n:,.0f}"


def _both(key: str, **values) -> tuple[str, str]:
    return t(key, "zh", **values), t(key, "en", **values)


def _tag(index, speed: float) -> Tag:
    return computed(index, f"H3第{index.params.resolution}级网格步行模型，{speed:.1f} km/h",
                    f"H3 resolution-{index.params.resolution} grid walking model, {speed:.1f} km/h")


@lru_cache(maxsize=1)
def _community_points() -> pd.DataFrame:
    return read_csv(SAMPLE_DIR / "communities.csv", dtype={"code": str, "street_code": str, "district_code": str})


def community_coverage(index, speed_kmh: float | None = None, kind: str = "urban") -> tuple[float, int, int]:
    """Share of communities (of ``kind``; their office or approximate point) whose cell has all
    eight circles: (share, covered, counted). Points outside the grid are not counted."""
    table = _community_points()
    if kind:
        table = table[table["kind"] == kind]
    pos = index.positions_of(table["lat"].to_numpy(), table["lng"].to_numpy())
    pos = pos[pos >= 0]
    if len(pos) == 0:
        return float("nan"), 0, 0
    covered = index.cells_at_speed(speed_kmh)["circles_covered"].to_numpy()[pos] == len(circles())
    return float(covered.mean()), int(covered.sum()), int(len(pos))


def _published_count_types() -> dict[str, tuple[str, ...]]:
    """Figure id → the facility types that figure counts."""
    out: dict[str, tuple[str, ...]] = {}
    for ft in facility_types():
        if ft.published_figure_id:
            out.setdefault(ft.published_figure_id, ())
            out[ft.published_figure_id] += (ft.id,)
    out.update(COUNT_FIGURES_EXTRA)
    return out


@lru_cache(maxsize=1)
def _sample_basis() -> dict[str, str]:
    table = read_csv(SAMPLE_DIR / "facility_counts.csv")
    return dict(zip(table["type"], table["basis"].astype(str)))


def reading_coverage(official_pct: float, share_residents: float, share_communities: float, n_communities: int,
                     simulated: bool, official_zh: str | None = None, official_en: str | None = None) -> tuple[str, str]:
    """The reading of the published street-community coverage beside the computed shares."""
    values = dict(residents=_pct(share_residents), communities=_pct(share_communities), n=n_communities)
    zh = t("rd_coverage_measures", "zh", official=official_zh or f"{official_pct:g}%", **values)
    en = t("rd_coverage_measures", "en", official=official_en or f"{official_pct:g}%", **values)
    if share_residents == share_residents:
        side = "above" if share_residents * 100 >= official_pct else "below"
        z, e = _both(f"rd_coverage_{side}")
        zh, en = zh + z, en + " " + e
    z, e = _both("rd_simulated" if simulated else "rd_imported")
    return zh + z, en + " " + e


def reading_residents(official_n: float, population: float, covered: float, simulated: bool) -> tuple[str, str]:
    """The reading of 'residents served' beside the residents in the data and those covered."""
    zh, en = (t("rd_residents", "zh", official=_people(official_n, "zh"), population=_people(population, "zh"),
                covered=_people(covered, "zh")),
              t("rd_residents", "en", official=_people(official_n, "en"), population=_people(population, "en"),
                covered=_people(covered, "en")))
    z, e = _both("rd_simulated" if simulated else "rd_imported")
    return zh + z, en + " " + e


def count_kind(official_n: float, qualifier: str, computed_n: int, simulated: bool, from_published: bool) -> str:
    """by_construction | equal | fewer | more."""
    diff = computed_n - official_n
    if simulated and from_published and (diff == 0 or (qualifier == "more_than" and diff >= 0)):
        return "by_construction"
    if diff == 0 or (qualifier == "more_than" and diff > 0):
        return "equal"
    return "fewer" if diff < 0 else "more"


def reading_count(official_n: float, qualifier: str, computed_n: int, simulated: bool,
                  from_published: bool) -> tuple[str, str]:
    """The reading of a published count beside the facilities of that kind in the data."""
    diff = computed_n - official_n
    values = dict(official=f"{official_n:,.0f}", computed=f"{computed_n:,}", diff=f"{abs(diff):,.0f}")
    if simulated and from_published and (diff == 0 or (qualifier == "more_than" and diff >= 0)):
        return _both("rd_count_by_construction", **values)
    if diff == 0 or (qualifier == "more_than" and diff > 0):
        key = "rd_count_equal"
    elif diff < 0:
        key = "rd_count_fewer"
    else:
        key = "rd_count_more"
    zh, en = _both(key, **values)
    z, e = _both("rd_simulated_count" if simulated else "rd_imported_count")
    return zh + z, en + " " + e


def comparisons(index, speed_kmh: float | None = None) -> list[Comparison]:
    """Every official-vs-computed pair the data allows, in display order (computed once per index
    and speed)."""
    speed = float(speed_kmh or index.params.speed_kmh)
    return metrics.memoised(index, ("comparisons", speed), lambda: _comparisons(index, speed))


def _comparisons(index, speed: float) -> list[Comparison]:
    tag = _tag(index, speed)
    simulated = bool(index.dataset.simulated)
    city = metrics.summary(index, "city", speed).iloc[0]
    out: list[Comparison] = []

    cov = facts.figure("street_community_coverage")
    share_c, covered_c, n_c = community_coverage(index, speed)
    zh, en = reading_coverage(cov.value_num, float(city["share_all_circles"]), share_c, n_c, simulated,
                              cov.display("zh"), cov.display("en"))
    out.append(Comparison("coverage", cov, cov.label_zh, cov.label_en, float(city["share_all_circles"]),
                          t("rd_value_coverage", "zh", residents=_pct(city["share_all_circles"]),
                            communities=_pct(share_c), covered=covered_c, n=n_c),
                          t("rd_value_coverage", "en", residents=_pct(city["share_all_circles"]),
                            communities=_pct(share_c), covered=covered_c, n=n_c),
                          tag, zh, en, _pct(city["share_all_circles"]), _pct(city["share_all_circles"]), "coverage"))

    served = facts.figure("residents_served")
    population = float(city["population"])
    covered = population - float(city["residents_not_all_circles"])
    zh, en = reading_residents(served.value_num, population, covered, simulated)
    out.append(Comparison("residents", served, served.label_zh, served.label_en, covered,
                          t("rd_value_residents", "zh", covered=_people(covered, "zh"), population=_people(population, "zh")),
                          t("rd_value_residents", "en", covered=_people(covered, "en"), population=_people(population, "en")),
                          tag, zh, en, _people(covered, "zh") + "人", _people(covered, "en") + " residents",
                          "residents"))

    counts = index.facilities["type"].value_counts()
    basis = _sample_basis()
    count_tag = computed(index, "设施计数", "count of facilities") if simulated else tag
    for figure_id, type_ids in _published_count_types().items():
        fig = facts.figure(figure_id)
        if fig.value_num is None:
            continue
        n = int(sum(int(counts.get(tid, 0)) for tid in type_ids))
        from_published = any(basis.get(tid, "").startswith(("PUBLISHED", "REMAINDER")) for tid in type_ids)
        zh, en = reading_count(fig.value_num, fig.qualifier, n, simulated, from_published)
        out.append(Comparison(f"count_{figure_id}", fig, fig.label_zh, fig.label_en, float(n),
                              t("rd_value_count", "zh", n=f"{n:,}"), t("rd_value_count", "en", n=f"{n:,}"),
                              count_tag, zh, en, f"{n:,}", f"{n:,}",
                              count_kind(fig.value_num, fig.qualifier, n, simulated, from_published)))
    return out


def count_notes(pairs: list[Comparison], lang: str = "zh") -> list[str]:
    """Readings of the count comparisons, with the by-construction ones said once for all."""
    counts = [c for c in pairs if c.id.startswith("count_")]
    same = [c for c in counts if c.kind == "by_construction"]
    notes = []
    if same:
        items = pick(lang, "；", "; ").join(c.label(lang) for c in same)
        notes.append(t("rd_count_by_construction_all", lang, items=items))
    notes += [f"{c.label(lang)}{pick(lang, '：', ': ')}{c.reading(lang)}" for c in counts if c.kind != "by_construction"]
    return notes


def comparison_table(index, lang: str = "zh", speed_kmh: float | None = None) -> pd.DataFrame:
    """The comparisons as a table (for display and CSV)."""
    speed = float(speed_kmh or index.params.speed_kmh)
    return metrics.memoised(index, ("comparison_table", lang, speed), lambda: _comparison_table(index, lang, speed))


def count_comparison_arrow(index, lang: str = "zh", speed_kmh: float | None = None):
    """The published counts beside the computed ones (item, official, computed), as a shared
    Arrow table for display."""
    speed = float(speed_kmh or index.params.speed_kmh)

    def frame() -> pd.DataFrame:
        table = comparison_table(index, lang, speed)
        return table.loc[table["id"].str.startswith("count_"), ["item", "official", "computed"]]

    return metrics.memoised_arrow(index, ("count_comparison", lang, speed), frame)


def _comparison_table(index, lang: str, speed_kmh: float) -> pd.DataFrame:
    rows = []
    for c in comparisons(index, speed_kmh):
        rows.append({"id": c.id, "item": c.label(lang), "official": c.figure.display(lang),
                     "official_source": c.official_tag.text(lang), "computed": c.short(lang),
                     "computed_detail": c.computed_text(lang),
                     "computed_source": c.computed_tag.text(lang), "reading": c.reading(lang)})
    return pd.DataFrame(rows)


def count_summary(index) -> dict[str, int]:
    """Facilities per type in the data set (for tests and the data page)."""
    counts = index.facilities["type"].value_counts()
    return {ft.id: int(counts.get(ft.id, 0)) for ft in facility_types()}

