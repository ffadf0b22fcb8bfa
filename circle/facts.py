"""Published figures about Wuhai's 15-minute community life circle, and the dated timeline.

This module owns ``data/official/``:

* ``figures.csv``  one row per published figure (mostly from the 2024 newspaper article
  《一刻钟社区生活圈 乌海人的幸福坐标》, plus the 2021 district population bulletin and a few
  press figures marked ``unverified``);
* ``timeline.csv`` dated events 2021 -> 2024 from the same article;
* ``source_article_zh.txt`` the article text itself, so every ``quote_zh`` can be checked.

Column meanings (see ``data/official/SOURCES.md``): ``value`` is the number as printed, in
``unit_zh`` (e.g. ``53.21`` 万人); ``value_num`` is the same number in base units, described by
``unit_en`` (e.g. ``532100`` residents); ``value_num`` is empty for text values such as the
"1+8+27" policy system.

Pure Python + pandas; no Streamlit. Loads are cached with :func:`functools.lru_cache`; the
public loaders return copies so callers cannot alter the cache.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import pandas as pd

DATA_DIR: Path = Path(__file__).resolve().parent.parent / "data" / "official"
FIGURES_CSV: Path = DATA_DIR / "figures.csv"
TIMELINE_CSV: Path = DATA_DIR / "timeline.csv"
ARTICLE_TXT: Path = DATA_DIR / "source_article_zh.txt"

#: The ``source`` value of every row taken from the newspaper article.
ARTICLE_SOURCE: str = "《一刻钟社区生活圈 乌海人的幸福坐标》（郝颺，2024年新闻报道）"

FIGURE_COLUMNS: tuple[str, ...] = (
    "id", "value", "value_num", "qualifier", "unit_zh", "unit_en", "label_zh", "label_en",
    "circle", "as_of", "status", "publisher_zh", "publisher_en", "source", "quote_zh", "key",
)
TIMELINE_COLUMNS: tuple[str, ...] = (
    "date", "date_precision", "event_zh", "event_en", "figure_ids", "quote_zh", "source",
)

QUALIFIERS: frozenset[str] = frozenset({"exact", "more_than", "about"})
STATUSES: frozenset[str] = frozenset({"official", "unverified"})
CIRCLES: frozenset[str] = frozenset(
    {"housing", "shopping", "culture", "education", "elderly", "health", "appearance",
     "service", "all"}
)
DATE_PRECISIONS: frozenset[str] = frozenset({"year", "month", "day"})
LANGS: frozenset[str] = frozenset({"zh", "en"})

_UNITS_NO_SPACE_EN = ("%",)


@dataclass(frozen=True)
class Figure:
    """One published figure; fields mirror the columns of ``figures.csv``."""

    id: str
    value: str
    value_num: float | None
    qualifier: str
    unit_zh: str
    unit_en: str
    label_zh: str
    label_en: str
    circle: str
    as_of: str
    status: str
    publisher_zh: str
    publisher_en: str
    source: str
    quote_zh: str
    key: bool

    @property
    def is_official(self) -> bool:
        """True when the figure comes from an official publication (not ``unverified``)."""
        return self.status == "official"

    @property
    def from_article(self) -> bool:
        """True when the figure was taken from the newspaper article."""
        return self.source == ARTICLE_SOURCE

    def label(self, lang: str = "zh") -> str:
        """The figure's label in ``lang`` ('zh' or 'en')."""
        _check_lang(lang)
        return self.label_zh if lang == "zh" else self.label_en

    def display(self, lang: str = "zh", compact: bool = False) -> str:
        """Format the figure for a card or a sentence.

        zh keeps the number as printed with its Chinese unit: ``53.21万人``, ``90%以上``
        (more_than), ``约4万人`` (about), ``第4位`` (ranks).
        en uses the base-unit number with thousands separators: ``532,100 residents``,
        ``>90%`` (more_than), ``~40,000 residents`` (about), ``No. 4`` (ranks). With
        ``compact=True`` large English numbers are shortened: ``532.1 thousand residents``,
        ``600 million yuan``. ``compact`` has no effect in zh, which is already compact.
        """
        _check_lang(lang)
        if lang == "zh":
            return self._display_zh()
        return self._display_en(compact)

    def _display_zh(self) -> str:
        if self.unit_en == "rank":
            return f"第{self.value}位"
        text = f"{self.value}{self.unit_zh}"
        if self.qualifier == "more_than":
            return f"{text}以上"
        if self.qualifier == "about":
            return f"约{text}"
        return text

    def _display_en(self, compact: bool) -> str:
        if self.unit_en == "rank":
            return f"No. {self.value}"
        number = self.value if self.value_num is None else _format_en_number(self.value_num, compact)
        if self.unit_en.startswith(_UNITS_NO_SPACE_EN):
            text = f"{number}{self.unit_en}"
        else:
            text = f"{number} {self.unit_en}".strip()
        if self.qualifier == "more_than":
            return f">{text}"
        if self.qualifier == "about":
            return f"~{text}"
        return text


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {sorted(LANGS)}, not {lang!r}")


def _strip_zeros(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _format_en_number(x: float, compact: bool = False) -> str:
    """``532100`` -> ``532,100``; compact: ``532.1 thousand``, ``11.63 million``."""
    if compact:
        # (threshold, divisor, word): numbers below 10,000 stay in full ("7,623").
        for limit, divisor, word in ((1e9, 1e9, "billion"), (1e6, 1e6, "million"),
                                     (1e4, 1e3, "thousand")):
            if abs(x) >= limit:
                return f"{_strip_zeros(f'{x / divisor:,.2f}')} {word}"
    if float(x).is_integer():
        return f"{int(x):,}"
    return _strip_zeros(f"{x:,.6f}")


def _blank_to_str(series: pd.Series) -> pd.Series:
    return series.fillna("").astype(str)


@lru_cache(maxsize=1)
def _figures_frame() -> pd.DataFrame:
    df = pd.read_csv(FIGURES_CSV, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = set(FIGURE_COLUMNS) - set(df.columns)
    if missing:
        raise ValueError(f"{FIGURES_CSV} lacks columns {sorted(missing)}")
    df = df[list(FIGURE_COLUMNS)].copy()
    raw = df["value_num"].str.strip()
    df["value_num"] = pd.to_numeric(raw.where(raw != ""), errors="raise").astype(float)
    df["key"] = df["key"].str.strip().str.lower().eq("yes")
    return df


@lru_cache(maxsize=1)
def _figures_by_id() -> dict[str, Figure]:
    out: dict[str, Figure] = {}
    for rec in _figures_frame().to_dict("records"):
        num = rec["value_num"]
        rec["value_num"] = None if num is None or (isinstance(num, float) and math.isnan(num)) else float(num)
        rec["key"] = bool(rec["key"])
        fig = Figure(**rec)
        if fig.id in out:
            raise ValueError(f"duplicate figure id {fig.id!r} in {FIGURES_CSV}")
        out[fig.id] = fig
    return out


def load_figures() -> pd.DataFrame:
    """All figures as a DataFrame (a copy): ``value_num`` float (NaN for text values), ``key`` bool."""
    return _figures_frame().copy()


def figure(id: str) -> Figure:  # noqa: A002 - the column is called ``id``
    """The figure with this ``id``; raises ``KeyError`` naming the unknown id."""
    try:
        return _figures_by_id()[id]
    except KeyError:
        raise KeyError(f"no figure with id {id!r} in {FIGURES_CSV.name}") from None


def all_figures() -> tuple[Figure, ...]:
    """Every figure, in file order."""
    return tuple(_figures_by_id().values())


def key_figures() -> tuple[Figure, ...]:
    """The headline figures (``key == yes``) used on cards, in file order."""
    return tuple(f for f in _figures_by_id().values() if f.key)


def parse_partial_date(text: str) -> date:
    """First day of a partial ISO date: ``2022`` -> 2022-01-01, ``2022-03`` -> 2022-03-01."""
    parts = text.strip().split("-")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not an ISO (partial) date: {text!r}")
    year, month, day = (int(p) for p in parts + ["1"] * (3 - len(parts)))
    return date(year, month, day)


@lru_cache(maxsize=1)
def _timeline_frame() -> pd.DataFrame:
    df = pd.read_csv(TIMELINE_CSV, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = set(TIMELINE_COLUMNS) - set(df.columns)
    if missing:
        raise ValueError(f"{TIMELINE_CSV} lacks columns {sorted(missing)}")
    df = df[list(TIMELINE_COLUMNS)].copy()
    df["date_start"] = pd.to_datetime([parse_partial_date(d) for d in df["date"]])
    return df


def load_timeline() -> pd.DataFrame:
    """The timeline as a DataFrame (a copy), plus ``date_start`` (first day of ``date``)."""
    return _timeline_frame().copy()


def timeline_figure_ids(figure_ids: str) -> list[str]:
    """Split a timeline ``figure_ids`` cell (``a;b``) into a list; empty cell -> []."""
    return [p.strip() for p in figure_ids.split(";") if p.strip()]


@lru_cache(maxsize=2)
def article_text(joined: bool = False) -> str:
    """The source article. ``joined=True`` removes line breaks, so quotes that the article's
    layout splits across lines (e.g. ``5个社`` / ``区``) can still be found verbatim."""
    text = ARTICLE_TXT.read_text(encoding="utf-8")
    if joined:
        text = text.replace("\r", "").replace("\n", "")
    return text
