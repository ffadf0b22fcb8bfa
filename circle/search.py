"""Find a place by name, forgivingly: communities, streets/towns, districts and landmarks.

Residents type a community, street or landmark name — in characters, pinyin, pinyin initials or
English, possibly with a typo — and get ranked :class:`SearchHit` objects back. Every hit carries
its street and district, because names repeat (two 幸福社区, 团结社区 vs 团结北路社区).

The gazetteer is built once from ``data/`` (``data/sample/communities.csv``,
``data/reference/street_locations.csv``, ``data/reference/places.csv`` and the district outlines)
and all search keys are precomputed, so one search costs well under a millisecond or two.

Scores (0–100) come in bands, best first:

==========================================  =========  =============
match                                       score      ``matched_on``
==========================================  =========  =============
Chinese name, exact (official/short name)   100        exact
Chinese alias, exact (长青, 凤凰岭, 乌海站)    98         exact
Chinese prefix                              55–95      prefix
Chinese substring                           55–85      prefix
pinyin / English, exact                     88–90      pinyin/english
homophone (Chinese typed, same pinyin)      80–84      pinyin
pinyin initials, exact                      80–82      initials
pinyin / English prefix or substring        45–80      pinyin/english
typo (rapidfuzz ratio ≥ 70)                 ≤ 78       fuzzy
==========================================  =========  =============

Prefix and substring scores grow with how much of the name the query covers, so a bare '社区'
(which is in every community name) never reaches the confidence threshold of :func:`resolve`.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable, Literal

import pandas as pd
from pypinyin import Style, lazy_pinyin, pinyin
from rapidfuzz import fuzz, process

from circle.names import english_name
from circle.sources import DISTRICTS, PLACES, REFERENCE_DIR, SAMPLE_DIR, read_csv, read_geojson

__all__ = ["SearchHit", "gazetteer", "normalise", "resolve", "search", "MAX_QUERY_LEN", "CONFIDENT"]

COMMUNITIES_CSV = SAMPLE_DIR / "communities.csv"
STREETS_CSV = REFERENCE_DIR / "street_locations.csv"

MAX_QUERY_LEN = 100          # longer queries return no hits
CONFIDENT = 80.0             # resolve() threshold
FUZZY_CUTOFF = 70.0          # minimum rapidfuzz ratio for a typo match
FUZZY_WEIGHT = 0.78          # fuzzy score = ratio × weight, so a typo never scores ≥ CONFIDENT
MAX_VARIANTS = 12            # reading variants (polyphonic characters) per string
MAX_VARIANT_CHARS = 16       # longer strings (characters) get only their primary reading

Kind = Literal["community", "street", "district", "landmark"]
MatchedOn = Literal["exact", "prefix", "pinyin", "initials", "english", "fuzzy"]
KIND_ORDER = {"district": 0, "street": 1, "community": 2, "landmark": 3}  # tie-break

# places.csv kinds used as landmarks; the others are rivers/lakes or duplicate the communities
# and streets read from their own tables.
LANDMARK_KINDS = frozenset({
    "government", "rail_station", "airport", "airport_terminal", "place_geonames",
    "urban_core_center", "mountain_estimate", "bridge_estimate",
})
# Administrative suffixes stripped (repeatedly, longest first) to make short aliases.
ADMIN_SUFFIXES = ("村民委员会", "虚拟社区", "居委会", "村委会", "社区", "街道", "镇", "村")
DISTRICT_SUFFIXES = ("区",)

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_RUNS = re.compile(f"[{_CJK}]+|[^{_CJK}]+")
_PARENS = re.compile(r"[(（][^()（）]*[)）]")


@dataclass(frozen=True)
class SearchHit:
    """One ranked search result; ``street_zh``/``district_zh`` disambiguate repeated names."""

    id: str
    kind: Kind
    name_zh: str
    name_en: str
    district_zh: str
    street_zh: str
    lat: float
    lng: float
    location_quality: str
    score: float
    matched_on: MatchedOn

    @property
    def label(self) -> str:
        """'长青社区 · 凤凰岭街道 · 海勃湾区' — the name with whatever context it has."""
        parts = [self.name_zh]
        for part in (self.street_zh, self.district_zh):
            if part and part not in parts:
                parts.append(part)
        return " · ".join(parts)


@dataclass(frozen=True)
class _Entry:
    """A gazetteer row plus its search keys: (normalised text, key type, is-primary-name)."""

    id: str
    kind: Kind
    name_zh: str
    name_en: str
    district_zh: str
    street_zh: str
    lat: float
    lng: float
    location_quality: str
    keys: tuple[tuple[str, str, bool], ...]


# --- text ------------------------------------------------------------------------------------

def normalise(text: str) -> str:
    """Search form of a string: NFKC (full-width → half-width), lower case, accents dropped,
    only letters and digits kept (spaces, punctuation, symbols, emoji and control chars go)."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).lower())
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")
    return unicodedata.normalize("NFC", kept)


def has_chinese(text: str) -> bool:
    """True if ``text`` contains a CJK ideograph."""
    return _CJK_CHAR.search(text) is not None


def _syllables(text: str, with_others: bool = True) -> list[tuple[str, tuple[str, ...], bool]]:
    """(primary reading, other readings, is-a-character) per unit: one unit per Chinese
    character (phrase-aware primary reading from pypinyin), one per run of anything else (as is).
    ``with_others=False`` skips the (slower) lookup of other readings."""
    units: list[tuple[str, tuple[str, ...], bool]] = []
    for run in _RUNS.findall(text):
        if not has_chinese(run):
            units.append((run, (), False))
            continue
        primary = lazy_pinyin(run)
        if len(primary) != len(run):          # unexpected grouping: no per-character variants
            units.extend((reading, (), True) for reading in primary)
            continue
        for ch, reading in zip(run, primary):
            others = pinyin(ch, style=Style.NORMAL, heteronym=True)[0] if with_others else ()
            units.append((reading, tuple(r for r in others if r != reading), True))
    return units


@lru_cache(maxsize=4096)
def _pinyin_forms(text: str) -> tuple[str, str, tuple[str, ...]]:
    """(full pinyin, initials, other readings) of ``text`` (already normalised).

    The other readings swap one polyphonic character at a time (长 chang/zhang, 乐 le/yue), so a
    wrong guess by pypinyin — or by the resident — still matches exactly.
    """
    units = _syllables(text, with_others=len(text) <= MAX_VARIANT_CHARS)
    readings = [u[0] for u in units]
    full = "".join(readings)
    initials = "".join(r[:1] if is_han else r for r, _, is_han in units)
    variants: list[str] = []
    for i, (_, others, _) in enumerate(units):
        for other in others:
            if len(variants) < MAX_VARIANTS:
                variants.append("".join(readings[:i] + [other] + readings[i + 1:]))
    return full, initials, tuple(variants)


def _strip_parens(text: str) -> str:
    """'乌海站(新站,2025)' → '乌海站'; 'Wuhai Airport (WUA/ZBUH)' → 'Wuhai Airport'."""
    return re.sub(r"\s+", " ", _PARENS.sub("", text)).strip()


def _stems(name: str, suffixes: Iterable[str]) -> list[str]:
    """Successively shorter forms: '长青社区居委会' → ['长青社区', '长青'] (at least 2 characters)."""
    out: list[str] = []
    current = name
    changed = True
    while changed:
        changed = False
        for suffix in sorted(suffixes, key=len, reverse=True):
            if current.endswith(suffix) and len(current) - len(suffix) >= 2:
                current = current[: -len(suffix)]
                out.append(current)
                changed = True
                break
    return out


# --- gazetteer -------------------------------------------------------------------------------

def _make_keys(primary_zh: Iterable[str], alias_zh: Iterable[str],
               primary_en: Iterable[str], alias_en: Iterable[str]) -> tuple[tuple[str, str, bool], ...]:
    """All search keys of one entry; a text seen as a primary name is not repeated as an alias."""
    keys: dict[tuple[str, str], bool] = {}

    def add(text: str, kind: str, primary: bool) -> None:
        if text:
            keys[(text, kind)] = keys.get((text, kind), False) or primary

    for names, primary in ((primary_zh, True), (alias_zh, False)):
        for name in names:
            norm = normalise(name)
            add(norm, "zh", primary)
            full, initials, variants = _pinyin_forms(norm)
            add(full, "pinyin", primary)
            add(initials, "initials", primary)
            for variant in variants:
                add(variant, "pinyin", False)
    for names, primary in ((primary_en, True), (alias_en, False)):
        for name in names:
            add(normalise(name), "english", primary)
    return tuple((text, kind, primary) for (text, kind), primary in keys.items())


def _district_entries() -> list[_Entry]:
    entries = []
    for feature in read_geojson(DISTRICTS)["features"]:
        props = feature["properties"]
        name = props["name"]
        lng, lat = props["seat_wgs84"]
        entries.append(_Entry(
            id=f"district:{props['adcode']}", kind="district", name_zh=name, name_en=english_name(name),
            district_zh=name, street_zh="", lat=float(lat), lng=float(lng), location_quality="located",
            keys=_make_keys([name], _stems(name, DISTRICT_SUFFIXES), [english_name(name)], []),
        ))
    return sorted(entries, key=lambda e: e.id)


def _district_names() -> dict[str, str]:
    return {str(f["properties"]["adcode"]): f["properties"]["name"] for f in read_geojson(DISTRICTS)["features"]}


def _street_entries() -> list[_Entry]:
    districts = _district_names()
    table = read_csv(STREETS_CSV, dtype={"code": str, "district_code": str})
    return [
        _Entry(
            id=f"street:{row.code}", kind="street", name_zh=row.name, name_en=english_name(row.name),
            district_zh=districts[row.district_code], street_zh=row.name, lat=float(row.lat),
            lng=float(row.lng), location_quality=row.location_quality,
            keys=_make_keys([row.name], _stems(row.name, ADMIN_SUFFIXES), [english_name(row.name)], []),
        )
        for row in table.itertuples(index=False)
    ]


def _community_entries() -> list[_Entry]:
    districts = _district_names()
    table = read_csv(COMMUNITIES_CSV, dtype={"code": str, "street_code": str, "district_code": str})
    entries = []
    for row in table.itertuples(index=False):
        name_en = english_name(row.short_name)
        entries.append(_Entry(
            id=f"community:{row.code}", kind="community", name_zh=row.short_name, name_en=name_en,
            district_zh=districts[row.district_code], street_zh=row.street_name, lat=float(row.lat),
            lng=float(row.lng), location_quality=row.location_quality,
            keys=_make_keys([row.name, row.short_name], _stems(row.name, ADMIN_SUFFIXES), [name_en], []),
        ))
    return entries


def _district_of_point(lat: float, lng: float) -> str:
    """Name of the district containing (or, for a point on the river boundary, nearest to) a point."""
    from shapely.geometry import Point, shape

    point = Point(lng, lat)
    shapes = [(f["properties"]["name"], shape(f["geometry"])) for f in read_geojson(DISTRICTS)["features"]]
    for name, geometry in shapes:
        if geometry.contains(point):
            return name
    return min(shapes, key=lambda item: item[1].distance(point))[0]


def _landmark_aliases(name_zh: str) -> list[str]:
    """'乌海站(新站,2025)' → ['乌海站']; '乌海市人民政府' → ['乌海市政府']."""
    aliases = [_strip_parens(name_zh)]
    aliases += [a.replace("人民政府", "政府") for a in aliases if "人民政府" in a]
    return [a for a in aliases if a and a != name_zh]


def _landmark_entries(taken: set[str]) -> list[_Entry]:
    """Landmarks from places.csv, skipping rows whose name (without brackets) is already taken."""
    table = read_csv(PLACES)
    entries = []
    for n, row in enumerate(table.itertuples(index=False)):
        if row.kind not in LANDMARK_KINDS:
            continue
        base = normalise(_strip_parens(row.name_zh))
        if not base or base in taken:
            continue
        taken.add(base)
        en_alias = _strip_parens(row.name_en)
        entries.append(_Entry(
            id=f"place:{n}", kind="landmark", name_zh=row.name_zh, name_en=row.name_en,
            district_zh=_district_of_point(float(row.lat), float(row.lon)), street_zh="",
            lat=float(row.lat), lng=float(row.lon),
            location_quality="estimate" if row.kind.endswith("_estimate") else "located",
            keys=_make_keys([row.name_zh], _landmark_aliases(row.name_zh), [row.name_en],
                            [en_alias] if en_alias != row.name_en else []),
        ))
    return entries


@lru_cache(maxsize=1)
def _entries() -> tuple[_Entry, ...]:
    entries = _district_entries() + _street_entries() + _community_entries()
    taken = {text for e in entries for text, kind, primary in e.keys if kind == "zh" and primary}
    return tuple(entries + _landmark_entries(taken))


@lru_cache(maxsize=1)
def _gazetteer_frame() -> pd.DataFrame:
    rows = []
    for e in _entries():
        row = {f: getattr(e, f) for f in ("id", "kind", "name_zh", "name_en", "district_zh", "street_zh",
                                          "lat", "lng", "location_quality")}
        for kind in ("zh", "pinyin", "initials", "english"):
            row[f"keys_{kind}"] = tuple(text for text, k, _ in e.keys if k == kind)
        rows.append(row)
    return pd.DataFrame(rows)


def gazetteer() -> pd.DataFrame:
    """Every searchable place, one row each (a copy; the cached original is never handed out).

    Columns: id, kind (community|street|district|landmark), name_zh, name_en, district_zh,
    street_zh, lat, lng (WGS-84), location_quality, and the normalised search keys as tuples:
    keys_zh, keys_pinyin, keys_initials, keys_english.
    """
    return _gazetteer_frame().copy()


# --- index -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Index:
    entries: tuple[_Entry, ...]
    by_id: dict[str, int]
    exact: dict[str, tuple[tuple[int, str, bool], ...]]     # text -> (entry, key type, primary)
    zh: tuple[tuple[str, int], ...]                          # Chinese keys, for prefix/substring
    latin: tuple[tuple[str, int, str], ...]                  # primary-reading pinyin/English/initials
    fuzzy_zh: tuple[list[str], list[int]]
    fuzzy_latin: tuple[list[str], list[int]]


@lru_cache(maxsize=1)
def _index() -> _Index:
    entries = _entries()
    exact: dict[str, list[tuple[int, str, bool]]] = {}
    zh, latin = [], []
    for i, entry in enumerate(entries):
        primary_readings = set()
        for text, kind, primary in entry.keys:
            exact.setdefault(text, []).append((i, kind, primary))
            if kind == "zh":
                zh.append((text, i))
                primary_readings.add(_pinyin_forms(text)[0])
        for text, kind, _ in entry.keys:
            if kind == "english" or kind == "initials" or (kind == "pinyin" and text in primary_readings):
                latin.append((text, i, kind))
    fuzzy_latin = [(t, i) for t, i, k in latin if k != "initials"]
    return _Index(
        entries=entries,
        by_id={e.id: i for i, e in enumerate(entries)},
        exact={k: tuple(v) for k, v in exact.items()},
        zh=tuple(zh),
        latin=tuple(latin),
        fuzzy_zh=([t for t, _ in zh], [i for _, i in zh]),
        fuzzy_latin=([t for t, _ in fuzzy_latin], [i for _, i in fuzzy_latin]),
    )


# --- matching --------------------------------------------------------------------------------

Offer = Callable[[int, float, str], None]


def _coverage_score(query: str, key: str, base: float, span: float, cap: float) -> float:
    """base + span × (share of the key the query covers), kept below ``cap``."""
    return min(base + span * len(query) / len(key), cap)


def _match_chinese(q: str, index: _Index, offer: Offer) -> None:
    """Exact, prefix and substring matches of a query containing characters."""
    for i, kind, primary in index.exact.get(q, ()):
        if kind == "zh":
            offer(i, 100.0 if primary else 98.0, "exact")
    for text, i in index.zh:
        if text != q and text.startswith(q):
            offer(i, _coverage_score(q, text, 55, 35, 95), "prefix")
        elif text != q and q in text:
            offer(i, _coverage_score(q, text, 55, 30, 85), "prefix")


_EXACT_LATIN = {"pinyin": (90.0, 88.0, "pinyin"), "english": (90.0, 88.0, "english"),
                "initials": (82.0, 80.0, "initials")}


def _match_latin(q: str, index: _Index, offer: Offer, penalty: float = 0.0, pinyin_only: bool = False) -> None:
    """Exact, prefix and substring matches against pinyin, initials and English keys.

    ``penalty``/``pinyin_only`` are used for the pinyin of a query typed in characters
    (homophones: 长清社区 → changqingshequ → 长青社区).
    """
    for i, kind, primary in index.exact.get(q, ()):
        if kind == "zh" or (pinyin_only and kind != "pinyin") or (kind == "initials" and len(q) < 2):
            continue
        top, alias, how = _EXACT_LATIN[kind]
        offer(i, (top if primary else alias) - penalty, how)
    if len(q) < 2:
        return
    for text, i, kind in index.latin:
        if text == q or (pinyin_only and kind != "pinyin"):
            continue
        if text.startswith(q):
            base, span = (50, 20) if kind == "initials" else (55, 25)
            offer(i, _coverage_score(q, text, base, span, 80) - penalty, kind)
        elif len(q) >= 3 and kind != "initials" and q in text:
            offer(i, _coverage_score(q, text, 45, 25, 70) - penalty, kind)


def _match_fuzzy(q: str, keys: tuple[list[str], list[int]], offer: Offer) -> None:
    """Typo-tolerant matches (rapidfuzz ratio ≥ FUZZY_CUTOFF), scored below every exact kind."""
    texts, owners = keys
    for _, ratio, pos in process.extract(q, texts, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=None):
        offer(owners[pos], ratio * FUZZY_WEIGHT, "fuzzy")


def _valid_query(query: object) -> str:
    """The normalised query, or '' if there is nothing searchable (or it is too long)."""
    if not isinstance(query, str):
        return ""
    stripped = query.strip()
    if not stripped or len(stripped) > MAX_QUERY_LEN:
        return ""
    return normalise(stripped)


def _score_all(q: str, index: _Index) -> dict[int, tuple[float, str]]:
    best: dict[int, tuple[float, str]] = {}

    def offer(i: int, score: float, how: str) -> None:
        if i not in best or score > best[i][0]:
            best[i] = (score, how)

    if has_chinese(q):
        _match_chinese(q, index, offer)
        full, _, variants = _pinyin_forms(q)
        for reading in [full, *variants]:
            _match_latin(reading, index, offer, penalty=6.0, pinyin_only=True)
        if len(q) >= 2:
            _match_fuzzy(q, index.fuzzy_zh, offer)
        if len(full) >= 3:
            _match_fuzzy(full, index.fuzzy_latin, offer)
    else:
        _match_latin(q, index, offer)
        if len(q) >= 3:
            _match_fuzzy(q, index.fuzzy_latin, offer)
    return best


def _hit(entry: _Entry, score: float, how: str) -> SearchHit:
    return SearchHit(id=entry.id, kind=entry.kind, name_zh=entry.name_zh, name_en=entry.name_en,
                     district_zh=entry.district_zh, street_zh=entry.street_zh, lat=entry.lat, lng=entry.lng,
                     location_quality=entry.location_quality, score=round(score, 1), matched_on=how)


def search(query: str, limit: int = 8) -> list[SearchHit]:
    """Ranked places matching ``query`` (characters, pinyin, initials, English; typos tolerated).

    Returns at most ``limit`` hits, best first (ties: district, street, community, landmark, then
    name). Empty, blank, over-long (> MAX_QUERY_LEN) or unsearchable queries give ``[]``; no string
    makes it raise.
    """
    if not isinstance(limit, int) or limit <= 0:
        return []
    q = _valid_query(query)
    if not q:
        return []
    index = _index()
    best = _score_all(q, index)
    order = sorted(best.items(), key=lambda item: (-round(item[1][0], 1), KIND_ORDER[index.entries[item[0]].kind],
                                                  index.entries[item[0]].name_zh, index.entries[item[0]].id))
    return [_hit(index.entries[i], score, how) for i, (score, how) in order[:limit]]


@lru_cache(maxsize=1024)  # shared links: many readers open the same ?place= at once
def resolve(query: str) -> SearchHit | None:
    """The one place ``query`` confidently names (for ``?place=`` URLs), else ``None``.

    Accepts a gazetteer id ('community:150302001004') or a name. A name resolves when the best hit
    scores ≥ CONFIDENT and no *other* place ties it: '幸福社区' (two communities) gives ``None``.
    """
    if isinstance(query, str) and query.strip() in _index().by_id:
        return _hit(_index().entries[_index().by_id[query.strip()]], 100.0, "exact")
    hits = search(query, limit=2)
    if not hits or hits[0].score < CONFIDENT:
        return None
    if len(hits) > 1 and hits[1].score == hits[0].score:
        return None
    return hits[0]
