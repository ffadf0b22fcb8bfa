"""Importing facilities: CSV, XLSX, GeoJSON, OSM Overpass JSON and Amap POI exports.

Two steps, so the app can show the columns before anything is decided:

1. :func:`read_file` / :func:`read_bytes` parse a file into a :class:`RawTable` (every cell a string,
   columns as in the file) and say which encoding and format they found. Limits are checked first:
   at most :data:`MAX_FILE_MB` MB and :data:`MAX_ROWS` rows; an XLSX is opened read-only, after its
   zip directory has been checked (a "zip bomb" is refused before openpyxl touches it).
2. :func:`validate` maps the columns (``guess_mapping`` proposes a mapping from common Chinese and
   English headers), converts coordinates to WGS-84 (declared, or detected with a warning), gives
   each row a facility type of the taxonomy, and returns an :class:`ImportResult`: the normalised
   facilities and an :class:`ImportReport` (rows read, accepted, rejected per reason, warnings).

A row's type comes from, in order: the user's own value → type table (``type_aliases``); a type
column holding a taxonomy id or a Chinese or English type name; an Amap type code
(``amap_typecodes``); OSM tags (``osm_tags``, e.g. ``amenity=school&isced:level=1``); keywords in the
name (``name_keywords_zh``). Rows are rejected for missing or invalid coordinates, lying outside
Wuhai, an unknown type, or being a duplicate (the same id, or the same name and type within 10 m).

Bad input raises :class:`ImportInputError` with one message in Chinese and English; nothing is
written anywhere by this module (see :mod:`circle.workspace`).
"""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from circle import geo
from circle import grid as gridmod
from circle.i18n import t
from circle.sources import CITY_OUTLINE, DISTRICTS, URBAN_EXTENTS, read_csv, read_geojson
from circle.taxonomy import FacilityType, facility_types

MAX_FILE_MB = 20                      # = server.maxUploadSize in .streamlit/config.toml
MAX_FILE_BYTES = MAX_FILE_MB * 1024 * 1024
MAX_ROWS = 200_000
MAX_XLSX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024   # what the zip directory may claim, all members
MAX_XLSX_RATIO = 100                  # claimed / compressed size beyond which a big .xlsx is refused
MAX_ZIP_MEMBERS = 2_000
MAX_COLUMNS = 1_000
MAX_JSON_OBJECTS = 4 * MAX_ROWS       # "{" in a JSON file, counted before it is parsed
MAX_JSON_ARRAYS = 8 * MAX_ROWS        # "[" likewise (polygon vertices are arrays)
MAX_NAME_CHARS = 200                  # longer names are shortened (with a warning)
DUPLICATE_RADIUS_M = 10.0

ROLES = ("id", "name", "type", "typecode", "lng", "lat", "location", "address")
CRS_CHOICES = ("auto", "wgs84", "gcj02", "bd09")
REASONS = ("missing_coords", "invalid_coords", "outside_wuhai", "unknown_type", "duplicate")
STATUS = "imported"


class ImportInputError(ValueError):
    """Input the user can fix; ``str()`` is one line, Chinese first, then English."""

    def __init__(self, zh: str, en: str):
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en

    def message(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


# --- step 1: reading a file --------------------------------------------------------------------

@dataclass
class RawTable:
    """A parsed file: one row per record, every cell a string, columns as the file names them."""

    frame: pd.DataFrame
    source_name: str
    container: str                    # csv | xlsx | json
    format: str                       # table | amap | geojson | overpass
    encoding: str | None = None       # how the text was decoded (None for xlsx)
    row_offset: int = 2               # add to the 0-based record number to get the row users see
    tags: list[dict] | None = None    # OSM-style key=value tags per row (Overpass, GeoJSON properties)
    crs_hint: str | None = None       # what the format implies: OSM → wgs84, Amap → gcj02
    default_mapping: dict[str, str | None] | None = None
    warnings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    @property
    def format_label(self) -> str:
        container = {"csv": "CSV", "xlsx": "XLSX", "json": "JSON"}.get(self.container, self.container.upper())
        return {"table": container, "amap": f"Amap POI ({container})", "geojson": "GeoJSON",
                "overpass": "OSM Overpass JSON"}.get(self.format, self.format)


ENCODING_NAMES = {"utf-8": ("UTF-8", "UTF-8"), "utf-8-sig": ("UTF-8（带 BOM）", "UTF-8 with BOM"),
                  "gb18030": ("GB18030/GBK", "GB18030/GBK"), "utf-16": ("UTF-16", "UTF-16")}
# Control characters (C0 but tab/newlines, DEL, C1) and bidirectional overrides are removed from
# every cell: they can hide or reorder text on screen and in terminals. Tabs and newlines → space.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BREAKS = re.compile(r"[\t\r\n]+")


def safe_name(name: str | None) -> str:
    """A file name fit to show and store: no folders, no control characters, at most 80 characters."""
    text = Path(str(name or "upload")).name
    text = "".join(ch for ch in text if ch.isprintable() and ch not in "\\/")
    return (text.strip() or "upload")[:80]


def check_size(size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise ImportInputError(
            f"文件太大（{size / 1024 / 1024:.1f} MB），上限为 {MAX_FILE_MB} MB",
            f"file too large ({size / 1024 / 1024:.1f} MB); the limit is {MAX_FILE_MB} MB")
    if size == 0:
        raise ImportInputError("文件是空的", "the file is empty")


def _too_many_rows(n: int) -> ImportInputError:
    return ImportInputError(f"行数太多（{n:,} 行以上），上限为 {MAX_ROWS:,} 行",
                            f"too many rows (more than {n:,}); the limit is {MAX_ROWS:,} rows")


def check_rows(n: int) -> None:
    if n > MAX_ROWS:
        raise _too_many_rows(n)


def check_columns(n: int) -> None:
    if n > MAX_COLUMNS:
        raise ImportInputError(f"列数太多（{n:,} 列），上限为 {MAX_COLUMNS:,} 列",
                               f"too many columns ({n:,}); the limit is {MAX_COLUMNS:,}")


def _binary_error() -> ImportInputError:
    return ImportInputError("文件含有二进制内容（空字节），不是文本表格；如为 UTF-16/UTF-32 文本，请另存为 UTF-8",
                            "the file holds binary content (NUL bytes), not a text table; if it is UTF-16 or "
                            "UTF-32 text, save it as UTF-8")


def decode(data: bytes) -> tuple[str, str]:
    """Text and the encoding used: UTF-8 (with or without BOM), UTF-16 with a BOM, else GB18030 (a
    superset of GBK). Binary content (NUL bytes) and a file mixing UTF-8 with another encoding are
    refused with a message saying so."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise _binary_error()  # UTF-32
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportInputError("UTF-16 文件已损坏（无法解码）", "the UTF-16 file is damaged (cannot decode it)") from None
        if "\x00" in text:
            raise _binary_error()
        return text, "utf-16"
    if b"\x00" in data:
        raise _binary_error()
    try:
        text = data.decode("utf-8-sig")
        return text, "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError as error:
        _check_mixed_utf8(data, error.start)
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise ImportInputError("无法识别文件编码（请另存为 UTF-8 或 GBK）",
                               "cannot decode the file (save it as UTF-8 or GBK)") from None


def _check_mixed_utf8(data: bytes, bad_at: int) -> None:
    """A file whose first lines are UTF-8 with Chinese (or other non-ASCII) text and whose later
    bytes are not UTF-8 mixes encodings (e.g. a UTF-8 header pasted onto GBK rows): reading it all
    as GBK would garble the first part, so it is refused. A GBK file essentially never holds
    several valid multi-byte UTF-8 characters before its first invalid byte."""
    head = data[:bad_at]
    head = head[: head.rfind(b"\n") + 1]
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        return
    if sum(1 for ch in text if ord(ch) > 0x7F) >= 4:
        line = text.count("\n") + 1
        raise ImportInputError(f"文件混用了多种文本编码（前 {line - 1} 行是 UTF-8，第 {line} 行起不是）；请把整个文件另存为 UTF-8",
                               f"the file mixes text encodings (the first {line - 1} lines are UTF-8, line {line} "
                               f"is not); save the whole file as UTF-8")


def read_file(path: str | Path, name: str | None = None) -> RawTable:
    """Parse a file on disk (the size is checked before it is read)."""
    path = Path(path)
    if not path.is_file():
        raise ImportInputError(f"找不到文件：{path}", f"file not found: {path}")
    check_size(path.stat().st_size)
    return read_bytes(path.read_bytes(), name or path.name)


def read_bytes(data: bytes, name: str) -> RawTable:
    """Parse an uploaded file. The container is chosen from the name, else from the content."""
    check_size(len(data))
    name = safe_name(name)
    suffix = Path(name).suffix.lower()
    if suffix == ".xls":
        raise ImportInputError("不支持旧版 Excel（.xls），请另存为 .xlsx 或 CSV",
                               "old Excel files (.xls) are not supported; save as .xlsx or CSV")
    if suffix in (".xlsx", ".xlsm") or (suffix not in (".csv", ".txt", ".tsv", ".json", ".geojson")
                                        and data[:4] == b"PK\x03\x04"):
        return _read_xlsx(data, name)
    if suffix in (".json", ".geojson") or (suffix not in (".csv", ".txt", ".tsv") and data.lstrip()[:1] in (b"{", b"[")):
        return _read_json(data, name)
    return _read_csv(data, name)


def _count_lines(data: bytes) -> int:
    """Records end a line: "\\n", "\\r\\n" or (old Macs) "\\r" alone — counted before anything is parsed."""
    breaks = max(data.count(b"\n"), data.count(b"\r"))
    return breaks + (0 if data.endswith((b"\n", b"\r")) else 1)


def _read_csv(data: bytes, name: str) -> RawTable:
    # Row limit before parsing (UTF-16 is counted on its text: its bytes hold 0x0A inside characters).
    if not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        check_rows(_count_lines(data) - 1)
    text, encoding = decode(data)
    if encoding == "utf-16":
        check_rows(_count_lines(text.encode("utf-8")) - 1)
    first = text.lstrip("\ufeff").lstrip("\r\n").split("\n", 1)[0]
    delimiter = max(",\t;|", key=first.count) if any(d in first for d in ",\t;|") else ","
    check_columns(first.count(delimiter) + 1)
    try:
        # header=None: a row with more fields than the header is an error (pandas would otherwise
        # turn the extra leading fields into an index and shift every value).
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, header=None,
                            skipinitialspace=True, skip_blank_lines=True, on_bad_lines="error",
                            quoting=csv.QUOTE_MINIMAL)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        detail = _CONTROL.sub("", str(error).splitlines()[0][:120]) if str(error) else ""
        raise ImportInputError(f"无法读取 CSV：{detail}", f"cannot read the CSV: {detail}") from None
    check_columns(frame.shape[1])
    header = frame.iloc[0].tolist() if len(frame) else []
    frame = frame.iloc[1:].reset_index(drop=True)
    frame.columns = _unique_headers(["" if h is None or h != h else str(h) for h in header])
    raw = RawTable(_clean_frame(frame), name, "csv", "table", encoding)
    _detect_amap_table(raw)
    return raw


def _unique_headers(values) -> list[str]:
    out, seen = [], {}
    for j, value in enumerate(values):
        name = "" if value is None else str(value).strip()
        name = name or f"column {j + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def _clean_text(value: str) -> str:
    return _CONTROL.sub("", _BREAKS.sub(" ", value)).strip()


def _clean_frame(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.columns = _unique_headers([_clean_text(str(c).lstrip("\ufeff")) if not str(c).startswith("Unnamed:") else ""
                                     for c in frame.columns])
    frame = frame.fillna("").astype(str)
    for col in frame.columns:
        values = frame[col]
        if values.str.contains(_CONTROL.pattern + r"|[\t\r\n]", regex=True).any():
            values = values.str.replace(_BREAKS.pattern, " ", regex=True).str.replace(_CONTROL.pattern, "", regex=True)
        frame[col] = values.str.strip()
    keep = (frame != "").any(axis=1)
    return frame[keep].reset_index(drop=True)


def check_zip(data: bytes) -> None:
    """Refuse a zip whose directory claims too much (a zip bomb) before anything decompresses it.

    zipfile never returns more bytes for a member than its directory entry claims, so bounding the
    claimed sizes bounds what openpyxl can make us decompress."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ImportInputError("不是有效的 .xlsx 文件", "not a valid .xlsx file") from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise ImportInputError(f".xlsx 文件内部条目过多（{len(infos):,}）",
                               f"the .xlsx holds too many parts ({len(infos):,})")
    claimed = sum(max(0, i.file_size) for i in infos)
    # A real workbook compresses 5–30 times; far more, and big, is a zip bomb under the hard limit.
    if claimed > MAX_XLSX_UNCOMPRESSED_BYTES or (claimed > 32 * 1024 * 1024 and claimed > MAX_XLSX_RATIO * len(data)):
        limit = MAX_XLSX_UNCOMPRESSED_BYTES // (1024 * 1024)
        raise ImportInputError(
            f".xlsx 解压后过大（{claimed / 1024 / 1024:,.0f} MB，上限 {limit} MB），疑似压缩炸弹，已拒绝",
            f"the .xlsx would unpack to {claimed / 1024 / 1024:,.0f} MB (limit {limit} MB); "
            f"refused as a possible zip bomb")


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if value == value else ""
    return str(value).strip()


def _read_xlsx(data: bytes, name: str) -> RawTable:
    check_zip(data)
    import openpyxl  # only now: the archive has been checked

    warnings = []
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise ImportInputError("无法打开 .xlsx 文件（文件损坏或不是 Excel 表格）",
                               f"cannot open the .xlsx (damaged, or not an Excel workbook): {type(error).__name__}") from None
    try:
        sheet = book.worksheets[0]
        if len(book.worksheets) > 1:
            warnings.append((f"工作簿有 {len(book.worksheets)} 张表，只读取了第一张“{sheet.title}”",
                             f"the workbook has {len(book.worksheets)} sheets; only the first, “{sheet.title}”, was read"))
        if sheet.max_row is not None:  # from the sheet's declared dimension, before reading rows
            check_rows(sheet.max_row - 1)
        header, rows = None, []
        for values in sheet.iter_rows(values_only=True):
            cells = [_cell_text(v) for v in values]
            if header is None:
                if any(cells):
                    header = cells
                continue
            if not any(cells):
                continue
            rows.append(cells)
            if len(rows) > MAX_ROWS:
                raise _too_many_rows(MAX_ROWS)
    except ImportInputError:
        raise
    except Exception as error:
        raise ImportInputError("读取 .xlsx 时出错（文件可能已损坏）",
                               f"error reading the .xlsx (the file may be damaged): {type(error).__name__}") from None
    finally:
        book.close()
    if header is None:
        raise ImportInputError("表格是空的", "the sheet is empty")
    width = max([len(header)] + [len(r) for r in rows])
    header = header + [""] * (width - len(header))
    frame = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], columns=_unique_headers(header), dtype=str)
    raw = RawTable(_clean_frame(frame), name, "xlsx", "table", None, warnings=warnings)
    _detect_amap_table(raw)
    return raw


def _flat(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return repr(value) if value == value else ""
    return str(value).strip()


def _read_json(data: bytes, name: str) -> RawTable:
    # Bound what parsing can build: every record is at least one object, every GeoJSON feature
    # says "Feature".
    check_rows(data.count(b'"Feature"'))
    objects, arrays = data.count(b"{"), data.count(b"[")
    if objects > MAX_JSON_OBJECTS or arrays > MAX_JSON_ARRAYS:
        raise ImportInputError(f"JSON 结构过于庞大（{objects:,} 个对象、{arrays:,} 个数组），上限为 {MAX_ROWS:,} 条记录",
                               f"the JSON is too large ({objects:,} objects, {arrays:,} arrays); the limit is "
                               f"{MAX_ROWS:,} records")
    text, encoding = decode(data)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportInputError(f"JSON 格式错误（第 {error.lineno} 行）",
                               f"invalid JSON (line {error.lineno})") from None
    except RecursionError:
        raise ImportInputError("JSON 嵌套层数过深", "the JSON is nested too deeply") from None
    if isinstance(doc, dict) and isinstance(doc.get("elements"), list):
        return _overpass(doc["elements"], name, encoding)
    if isinstance(doc, dict) and doc.get("type") in ("FeatureCollection", "Feature"):
        return _geojson(doc, name, encoding)
    if isinstance(doc, dict) and isinstance(doc.get("pois"), list):
        records = doc["pois"]
    elif isinstance(doc, list) and all(isinstance(r, dict) for r in doc):
        records = doc
    else:
        raise ImportInputError("无法识别的 JSON：需要 GeoJSON、Overpass JSON、高德 POI（pois）或对象列表",
                               "unrecognised JSON: expected GeoJSON, Overpass JSON, Amap POIs (pois) or a list of objects")
    check_rows(len(records))
    columns = list(dict.fromkeys(k for r in records for k in r))
    check_columns(len(columns))
    frame = pd.DataFrame([{k: _flat(r.get(k)) for k in columns} for r in records], columns=columns, dtype=str)
    raw = RawTable(_clean_frame(frame), name, "json", "table", encoding, row_offset=1)
    _detect_amap_table(raw)
    return raw


def _overpass(elements: list, name: str, encoding: str) -> RawTable:
    check_rows(len(elements))
    rows, tags, untagged = [], [], 0
    for el in elements:
        if not isinstance(el, dict):
            continue
        el_tags = el.get("tags") if isinstance(el.get("tags"), dict) else {}
        if not el_tags:
            untagged += 1  # geometry-only nodes of ways ("out skel"), not facilities
            continue
        lat, lon = el.get("lat"), el.get("lon")
        if lat is None and isinstance(el.get("center"), dict):
            lat, lon = el["center"].get("lat"), el["center"].get("lon")
        if lat is None and isinstance(el.get("bounds"), dict):
            b = el["bounds"]
            try:
                lat, lon = (float(b["minlat"]) + float(b["maxlat"])) / 2, (float(b["minlon"]) + float(b["maxlon"])) / 2
            except (KeyError, TypeError, ValueError):
                lat = lon = None
        rows.append({"id": f"osm-{el.get('type', 'node')}-{el.get('id', len(rows) + 1)}",
                     "name": _flat(el_tags.get("name:zh") or el_tags.get("name") or el_tags.get("name:en")),
                     "name_en": _flat(el_tags.get("name:en")),
                     "lng": _flat(lon), "lat": _flat(lat),
                     "address": _flat(el_tags.get("addr:full") or el_tags.get("addr:street"))})
        tags.append({str(k): _flat(v) for k, v in el_tags.items()})
    frame = pd.DataFrame(rows, columns=["id", "name", "name_en", "lng", "lat", "address"], dtype=str).fillna("")
    warnings = []
    if untagged:
        warnings.append((f"跳过了 {untagged} 个没有标签的元素（路径的几何节点）",
                         f"{untagged} untagged elements (geometry nodes of ways) were skipped"))
    mapping = {"id": "id", "name": "name", "lng": "lng", "lat": "lat", "address": "address"}
    return RawTable(frame, name, "json", "overpass", encoding, row_offset=1, tags=tags, crs_hint="wgs84",
                    default_mapping=mapping, warnings=warnings)


def _geojson(doc: dict, name: str, encoding: str) -> RawTable:
    features = doc.get("features") if doc.get("type") == "FeatureCollection" else [doc]
    if not isinstance(features, list):
        raise ImportInputError("GeoJSON 中没有 features", "the GeoJSON has no features")
    check_rows(len(features))
    rows, tags, not_points = [], [], 0
    for feature in features:
        feature = feature if isinstance(feature, dict) else {}
        props = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
        lng = lat = ""
        geometry = feature.get("geometry") if isinstance(feature.get("geometry"), dict) else None
        if geometry is not None:
            coords = geometry.get("coordinates")
            if geometry.get("type") == "Point" and isinstance(coords, list) and len(coords) >= 2:
                lng, lat = _flat(coords[0]), _flat(coords[1])
            elif geometry.get("type") == "MultiPoint" and isinstance(coords, list) and coords \
                    and isinstance(coords[0], list) and len(coords[0]) >= 2:
                lng, lat = _flat(coords[0][0]), _flat(coords[0][1])
            else:
                point = _representative_point(geometry)
                if point is not None:
                    not_points += 1
                    lng, lat = repr(point[0]), repr(point[1])
        row = {str(k): _flat(v) for k, v in props.items()}
        if feature.get("id") is not None and "id" not in row:
            row["id"] = _flat(feature.get("id"))
        row["geometry_lng"], row["geometry_lat"] = lng, lat
        rows.append(row)
        inner = props.get("tags") if isinstance(props.get("tags"), dict) else props
        tags.append({str(k): _flat(v) for k, v in inner.items()})
    columns = list(dict.fromkeys(k for r in rows for k in r)) or ["geometry_lng", "geometry_lat"]
    check_columns(len(columns))
    frame = pd.DataFrame([{k: r.get(k, "") for k in columns} for r in rows], columns=columns, dtype=str).fillna("")
    warnings = []
    if not_points:
        warnings.append((f"{not_points} 个要素不是点，已取其内部代表点",
                         f"{not_points} features are not points; a point inside each was used"))
    mapping = guess_mapping(frame.columns)
    mapping.update({"lng": "geometry_lng", "lat": "geometry_lat", "location": None})
    return RawTable(frame, name, "json", "geojson", encoding, row_offset=1, tags=tags,
                    default_mapping=mapping, warnings=warnings)


def _representative_point(geometry: dict) -> tuple[float, float] | None:
    try:
        from shapely.geometry import shape

        point = shape(geometry).representative_point()
        return float(point.x), float(point.y)
    except Exception:  # malformed geometry: the row is rejected for missing coordinates
        return None


def _detect_amap_table(raw: RawTable) -> None:
    cols = {_norm(c) for c in raw.columns}
    if "typecode" in cols and ("location" in cols or {"lng", "lat"} <= cols):
        raw.format = "amap"
        raw.crs_hint = "gcj02"


# --- column mapping ----------------------------------------------------------------------------

def _norm(text) -> str:
    return re.sub(r"[\s_\-:：()（）\[\]]+", "", str(text).casefold())


# Exact header names (normalised) per role, best first.
EXACT_HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "编号", "poiid", "uid", "osmid", "设施编号", "编码", "序号", "fid", "objectid"),
    "typecode": ("typecode", "类型编码", "分类编码", "类型代码", "poi类型编码", "amaptypecode", "高德类型编码"),
    "location": ("location", "经纬度", "坐标", "lnglat", "lonlat", "coordinates", "位置", "经纬度坐标"),
    "lng": ("经度", "lng", "lon", "long", "longitude", "x", "wgs84lng", "gcj02lng", "bd09lng", "经度x", "point_x", "pointx"),
    "lat": ("纬度", "lat", "latitude", "y", "wgs84lat", "gcj02lat", "bd09lat", "纬度y", "point_y", "pointy"),
    "name": ("名称", "name", "title", "设施名称", "poi名称", "namezh", "名字", "店名", "机构名称", "单位名称", "场所名称"),
    "type": ("typeid", "设施类型", "类型", "type", "category", "小类", "中类", "大类", "类别", "分类", "kind", "设施类别"),
    "address": ("地址", "address", "addr", "详细地址", "所在地址"),
}
# Substrings (normalised) that suggest a role when no exact header matched, best first.
CONTAINS_HEADERS: dict[str, tuple[str, ...]] = {
    "typecode": ("typecode", "类型编码", "分类编码"),
    "location": ("经纬度", "location"),
    "lng": ("经度", "longitude"),
    "lat": ("纬度", "latitude"),
    "name": ("名称", "name"),
    "type": ("类型", "类别", "分类", "type", "category"),
    "address": ("地址", "address"),
}


def guess_mapping(columns) -> dict[str, str | None]:
    """Role → column (or None) from common Chinese and English headers."""
    columns = [str(c) for c in columns]
    normed = {c: _norm(c) for c in columns}
    out: dict[str, str | None] = {role: None for role in ROLES}
    used: set[str] = set()
    for role, names in EXACT_HEADERS.items():
        for name in names:
            hit = next((c for c in columns if normed[c] == name and c not in used), None)
            if hit:
                out[role] = hit
                used.add(hit)
                break
    for role, parts in CONTAINS_HEADERS.items():
        if out[role]:
            continue
        for part in parts:
            hit = next((c for c in columns if part in normed[c] and c not in used), None)
            if hit:
                out[role] = hit
                used.add(hit)
                break
    if out["lng"] and out["lat"]:
        out["location"] = None  # two columns beat one combined column
    return out


def mapping_for(raw: RawTable) -> dict[str, str | None]:
    """The mapping to preselect for a file: the format's own, else the guess from its headers."""
    base = {role: None for role in ROLES}
    base.update(raw.default_mapping or guess_mapping(raw.columns))
    return base


# --- facility types ----------------------------------------------------------------------------

_SPLIT = re.compile(r"[;；|/>，,、]+")


@lru_cache(maxsize=1)
def _type_names() -> dict[str, str]:
    """Normalised id / Chinese / English name (and their parenthesised variants) → type id."""
    out: dict[str, str] = {}

    def add(text: str, type_id: str) -> None:
        key = _norm(text)
        if key and key not in out:
            out[key] = type_id

    for ftype in facility_types():
        add(ftype.id, ftype.id)
        add(ftype.id.replace("_", " "), ftype.id)
        for name in (ftype.name_zh, ftype.name_en):
            add(name, ftype.id)
    for ftype in facility_types():  # variants second, so a full name always wins
        for name in (ftype.name_zh, ftype.name_en):
            m = re.match(r"^(.*?)[（(](.*)[）)]\s*$", name)
            if m:
                add(m.group(1), ftype.id)
                for part in re.split(r"[、,，]|\bor\b", m.group(2)):
                    add(part, ftype.id)
    return out


@lru_cache(maxsize=1)
def _typecodes() -> dict[str, tuple[str, ...]]:
    """Amap type code → candidate type ids, in taxonomy order."""
    out: dict[str, list[str]] = {}
    for ftype in facility_types():
        for code in ftype.amap_typecodes:
            out.setdefault(code, []).append(ftype.id)
    return {k: tuple(v) for k, v in out.items()}


@lru_cache(maxsize=1)
def _osm_rules() -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """(type id, ((key, value), ...)) for every OSM tag combination, most conditions first."""
    rules = []
    for order, ftype in enumerate(facility_types()):
        for combo in ftype.osm_tags:
            pairs = tuple(tuple(p.split("=", 1)) for p in combo.split("&") if "=" in p)
            if pairs:
                rules.append((-len(pairs), order, ftype.id, pairs))
    rules.sort()
    return tuple((type_id, pairs) for _, _, type_id, pairs in rules)


def _zh_name_variants(name: str) -> tuple[str, ...]:
    """'菜市场（早市、夜市、社区市场）' → ('菜市场（早市、夜市、社区市场）', '菜市场', '早市', '夜市', '社区市场')."""
    out = [name]
    m = re.match(r"^(.*?)[（(](.*)[）)]\s*$", name)
    if m:
        out += [m.group(1)] + [p for p in re.split(r"[、,，]", m.group(2))]
    return tuple(p.strip() for p in out if p.strip())


@lru_cache(maxsize=None)
def _keywords(type_id: str) -> tuple[str, ...]:
    """A type's name keywords (name_keywords_zh) plus its own Chinese name and its variants."""
    ftype = _type_by_id()[type_id]
    return tuple(dict.fromkeys(ftype.name_keywords_zh + _zh_name_variants(ftype.name_zh)))


@lru_cache(maxsize=1)
def _keyword_pattern() -> tuple[re.Pattern | None, dict[str, str]]:
    owner: dict[str, str] = {}
    for ftype in facility_types():
        for kw in _keywords(ftype.id):
            owner.setdefault(kw, ftype.id)
    words = sorted(owner, key=len, reverse=True)
    return (re.compile("|".join(map(re.escape, words))) if words else None), owner


def type_from_keywords(text: str, among: tuple[str, ...] | None = None) -> str | None:
    """The type whose name keyword is the longest found in ``text`` (optionally only ``among``)."""
    if not text:
        return None
    if among is not None:
        best = None
        for type_id in among:
            for kw in _keywords(type_id):
                if kw in text and (best is None or len(kw) > best[0]):
                    best = (len(kw), type_id)
        return best[1] if best else None
    pattern, owner = _keyword_pattern()
    if pattern is None:
        return None
    hits = pattern.findall(text)
    return owner[max(hits, key=len)] if hits else None


@lru_cache(maxsize=1)
def _type_by_id() -> dict[str, FacilityType]:
    return {t.id: t for t in facility_types()}


_CODE = re.compile(r"^\d{6}$")


def type_from_typecodes(text: str, name: str = "") -> str | None:
    """An Amap type code (or several, ``|``-separated) → type: exact code first, then its
    middle-level class (``0604xx`` → ``060400``). A code shared by several types is settled by
    name keywords, else the first in taxonomy order."""
    codes = [c.strip() for c in re.split(r"[|;,，\s]+", text or "") if _CODE.match(c.strip())]
    table = _typecodes()
    for exact in (True, False):
        for code in codes:
            key = code if exact else code[:4] + "00"
            candidates = table.get(key)
            if candidates:
                if len(candidates) == 1:
                    return candidates[0]
                return type_from_keywords(name, candidates) or candidates[0]
    return None


def type_from_tags(tags: dict | None) -> str | None:
    if not tags:
        return None
    for type_id, pairs in _osm_rules():
        if all(k in tags and v in [part.strip() for part in str(tags[k]).split(";")] for k, v in pairs):
            return type_id
    return None


def type_from_text(text: str, aliases: dict[str, str] | None = None) -> str | None:
    """A type cell: the user's own table first, then a taxonomy id or name; a hierarchical value
    ("购物服务;便民商店/便利店;便利店") is tried whole, then part by part from the most specific."""
    if not text:
        return None
    names = _type_names()
    if aliases:
        hit = aliases.get(text) or aliases.get(_norm(text))
        if hit:
            return hit
    hit = names.get(_norm(text))
    if hit:
        return hit
    for part in reversed([p for p in _SPLIT.split(text) if p.strip()]):
        hit = names.get(_norm(part))
        if hit:
            return hit
    return None


# --- step 2: validation ------------------------------------------------------------------------

@dataclass
class ImportReport:
    """What happened to every row: counts, the rejected rows with their reason, and warnings."""

    source_name: str
    format: str
    encoding: str | None
    crs_declared: str
    crs_used: str
    crs_detected: bool
    rows_read: int
    accepted: int
    rejected: pd.DataFrame                    # row, reason, detail, name, type, lng, lat
    warnings: list[tuple[str, str]]
    type_counts: dict[str, int]
    mapping: dict[str, str | None]
    row_note: tuple[str, str] = ("表格行号（表头为第 1 行）", "spreadsheet row (the header is row 1)")

    @property
    def rejected_count(self) -> int:
        return len(self.rejected)

    def reason_counts(self) -> dict[str, int]:
        counts = self.rejected["reason"].value_counts() if len(self.rejected) else {}
        return {r: int(counts.get(r, 0)) for r in REASONS if int(counts.get(r, 0))}

    @property
    def types_present(self) -> tuple[str, ...]:
        return tuple(t.id for t in facility_types() if self.type_counts.get(t.id, 0) > 0)

    @property
    def types_absent(self) -> tuple[str, ...]:
        return tuple(t.id for t in facility_types() if self.type_counts.get(t.id, 0) == 0)

    def to_frame(self, lang: str | None = None) -> pd.DataFrame:
        """The rejected rows, one per row, with the reason as a code and in words
        (``reason_zh`` and ``reason_en``; with ``lang``, one ``reason_text`` column)."""
        frame = self.rejected.copy()
        if lang is None:
            frame.insert(2, "reason_zh", [t(f"imp_reason_{r}", "zh") for r in frame["reason"]])
            frame.insert(3, "reason_en", [t(f"imp_reason_{r}", "en") for r in frame["reason"]])
        else:
            frame.insert(2, "reason_text", [t(f"imp_reason_{r}", lang) for r in frame["reason"]])
        return frame

    def counts_frame(self, lang: str = "zh") -> pd.DataFrame:
        rows = [{"reason": r, "reason_text": t(f"imp_reason_{r}", lang), "rows": n}
                for r, n in self.reason_counts().items()]
        return pd.DataFrame(rows, columns=["reason", "reason_text", "rows"])

    def types_frame(self, lang: str = "zh") -> pd.DataFrame:
        """One row per taxonomy type: its name and how many facilities the import has (0 = no data)."""
        return pd.DataFrame([{"type": ft.id, "type_text": ft.name(lang), "count": self.type_counts.get(ft.id, 0)}
                             for ft in facility_types()], columns=["type", "type_text", "count"])

    def summary(self, lang: str = "zh") -> str:
        """The report in one language, a few lines (the CLI prints both, Chinese first)."""
        zh = lang != "en"
        lines = [t("imp_summary_head", lang, source=self.source_name, format=self.format),
                 t("imp_summary_counts", lang, read=f"{self.rows_read:,}", accepted=f"{self.accepted:,}",
                   rejected=f"{self.rejected_count:,}")]
        for reason, n in self.reason_counts().items():
            lines.append(t("imp_summary_reason", lang, reason=t(f"imp_reason_{reason}", lang), n=f"{n:,}"))
        lines.append(t("imp_summary_crs", lang, crs=self.crs_used + ("（自动识别）" if zh else " (detected)")
                       * self.crs_detected))
        lines.append(t("imp_summary_types", lang, n=len(self.types_present), absent=len(self.types_absent)))
        for w_zh, w_en in self.warnings:
            lines.append(t("imp_summary_warning", lang, text=w_zh if zh else w_en))
        lines.append(t("imp_summary_residents", lang))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"source_file": self.source_name, "format": self.format, "encoding": self.encoding,
                "crs_declared": self.crs_declared, "crs_used": self.crs_used, "crs_detected": self.crs_detected,
                "rows_read": self.rows_read, "accepted": self.accepted, "rejected": self.rejected_count,
                "rejected_by_reason": self.reason_counts(), "type_counts": self.type_counts,
                "types_absent": list(self.types_absent), "mapping": self.mapping,
                "warnings": [{"zh": zh, "en": en} for zh, en in self.warnings],
                "row_numbers": {"zh": self.row_note[0], "en": self.row_note[1]}}


@dataclass
class ImportResult:
    facilities: pd.DataFrame      # id,type,name_zh,name_en,lat,lng,district_code,status,source_file
    report: ImportReport


FACILITY_COLUMNS = ["id", "type", "name_zh", "name_en", "lat", "lng", "district_code", "status", "source_file"]


def _numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Floats (NaN where empty or not a number) and which cells were empty."""
    text = values.astype(str).str.strip().str.replace("，", ",", regex=False).str.replace("°", "", regex=False)
    empty = text.isin(["", "nan", "NaN", "None", "null", "NULL"]).to_numpy()
    num = pd.to_numeric(text.where(~empty, None), errors="coerce").to_numpy(dtype=np.float64)
    return num, empty


@lru_cache(maxsize=1)
def _city_outline():
    from shapely.geometry import shape
    from shapely.ops import unary_union

    return unary_union([shape(f["geometry"]) for f in read_geojson(CITY_OUTLINE)["features"]])


@lru_cache(maxsize=1)
def _district_shapes():
    from shapely.geometry import shape

    return [(str(f["properties"]["adcode"]), shape(f["geometry"])) for f in read_geojson(DISTRICTS)["features"]]


@lru_cache(maxsize=1)
def urban_cores():
    """The three urban cores (WGS-84 boxes around located points): the reference for CRS detection."""
    from shapely.geometry import box
    from shapely.ops import unary_union

    table = read_csv(URBAN_EXTENTS)
    return unary_union([box(r.lon_min, r.lat_min, r.lon_max, r.lat_max) for r in table.itertuples()])


def inside_wuhai(lat: np.ndarray, lng: np.ndarray) -> np.ndarray:
    import shapely

    return shapely.contains_xy(_city_outline(), np.asarray(lng, float), np.asarray(lat, float))


def district_codes(lat: np.ndarray, lng: np.ndarray) -> np.ndarray:
    import shapely

    out = np.full(len(lat), "", dtype=object)
    for code, shp in _district_shapes():
        out[(out == "") & shapely.contains_xy(shp, np.asarray(lng, float), np.asarray(lat, float))] = code
    return out


def detect_crs(lat: np.ndarray, lng: np.ndarray, hint: str | None = None) -> tuple[str, tuple[str, str]]:
    """Guess the CRS of points from which candidate puts most of them inside the urban cores
    (``geo.guess_crs``). The offsets are a few hundred metres, so the answer is only as clear as
    the points near the cores' edges make it; a format's own CRS (``hint``: Amap → GCJ-02) wins
    unless another candidate is clearly better. Returns (crs, (warning zh, warning en))."""
    import shapely

    crs, note = geo.guess_crs(lat, lng, urban_cores())
    shares = {}
    for cand in geo.SUPPORTED_CRS:
        wlat, wlng = geo.to_wgs84(lat, lng, cand)
        shares[cand] = float(np.mean(shapely.contains_xy(urban_cores(), wlng, wlat))) if len(lat) else 0.0
    ranked = sorted(shares.values(), reverse=True)
    margin = ranked[0] - ranked[1]
    note_zh, _, note_en = note.partition("/ ")
    note_zh = note_zh.strip()
    if hint and (margin < 0.05 or shares[hint] >= shares[crs]) and hint != crs:
        return hint, (f"未声明坐标系：按文件格式采用 {hint}（自动识别结果不明确：{note_zh}）；如不对请声明坐标系",
                      f"no coordinate system declared: used {hint}, as the file format implies (detection was "
                      f"unclear: {note_en}); declare it if this is wrong")
    return crs, (f"未声明坐标系，自动识别为 {crs}：{note_zh}；如不对请声明坐标系",
                 f"no coordinate system declared; detected {crs}: {note_en}; declare it if this is wrong")


def validate(raw: RawTable, mapping: dict[str, str | None] | None = None, crs: str = "auto",
             type_aliases: dict[str, str] | None = None) -> ImportResult:
    """Map, convert, type and check every row; see the module docstring. Raises ImportInputError
    when the mapping or CRS cannot work at all (no coordinate column, unknown CRS, unknown column)."""
    mapping = {**mapping_for(raw), **(mapping or {})}
    mapping = {role: (col if col else None) for role, col in mapping.items() if role in ROLES}
    for role, col in mapping.items():
        if col is not None and col not in raw.frame.columns:
            raise ImportInputError(f"没有名为“{col}”的列", f"there is no column named “{col}”")
    if not ((mapping.get("lng") and mapping.get("lat")) or mapping.get("location")):
        raise ImportInputError("请指定坐标列（经度和纬度，或一列“经度,纬度”）",
                               "choose the coordinate columns (longitude and latitude, or one “lng,lat” column)")
    crs_text = str(crs or "auto").strip().lower()
    if crs_text != "auto":
        try:
            crs_text = geo.normalize_crs(crs_text)
        except ValueError:
            raise ImportInputError(f"未知坐标系“{crs}”（可选 auto、wgs84、gcj02、bd09）",
                                   f"unknown coordinate system “{crs}” (choose auto, wgs84, gcj02 or bd09)") from None
    if type_aliases:
        known = _type_by_id()
        bad = sorted({v for v in type_aliases.values() if v not in known})
        if bad:
            raise ImportInputError(f"未知设施类型：{', '.join(bad)}", f"unknown facility type: {', '.join(bad)}")
        type_aliases = {**type_aliases, **{_norm(k): v for k, v in type_aliases.items()}}

    frame = raw.frame
    n = len(frame)
    check_rows(n)
    col = lambda role: frame[mapping[role]] if mapping.get(role) else pd.Series([""] * n, index=frame.index, dtype=str)  # noqa: E731
    names, types_text, codes, ids = col("name"), col("type"), col("typecode"), col("id")
    warnings = list(raw.warnings)
    long_names = names.str.len() > MAX_NAME_CHARS
    if long_names.any():  # a name is a label: 10,000 characters would swamp every table and map
        names = names.where(~long_names, names.str.slice(0, MAX_NAME_CHARS - 1) + "…")
        warnings.append((f"{int(long_names.sum())} 个名称超过 {MAX_NAME_CHARS} 个字符，已截短",
                         f"{int(long_names.sum())} names were longer than {MAX_NAME_CHARS} characters and were shortened"))
    if raw.encoding:
        zh, en = ENCODING_NAMES.get(raw.encoding, (raw.encoding, raw.encoding))
        warnings.insert(0, (f"文本编码：{zh}", f"text encoding: {en}"))

    # Coordinates.
    if mapping.get("lng") and mapping.get("lat"):
        lng, lng_empty = _numbers(col("lng"))
        lat, lat_empty = _numbers(col("lat"))
        empty = lng_empty | lat_empty
    else:
        parts = col("location").str.replace("，", ",", regex=False).str.split(r"[,\s]+", n=1, expand=True, regex=True)
        parts = parts.reindex(columns=[0, 1]).astype(object).fillna("")  # (all-empty: float NaN columns)
        lng, lng_empty = _numbers(parts[0])
        lat, lat_empty = _numbers(parts[1])
        empty = lng_empty | lat_empty
    finite = ~empty & np.isfinite(lat) & np.isfinite(lng)
    if finite.any():  # longitude and latitude columns swapped? (Wuhai is at 39.5° N, 106.8° E)
        straight = inside_wuhai(lat[finite], lng[finite]).mean()
        swapped = inside_wuhai(lng[finite], lat[finite]).mean()
        if swapped > 0.5 and straight < 0.1:
            lat, lng = lng.copy(), lat.copy()
            warnings.append(("经度和纬度两列似乎对调了，已按对调处理", "longitude and latitude looked swapped; they were swapped back"))
    invalid = ~empty & (~finite | (np.abs(lat) > 90) | (np.abs(lng) > 180) | ((lat == 0) & (lng == 0)))
    ok = ~empty & ~invalid
    crs_detected = False
    if crs_text == "auto":
        if raw.crs_hint == "wgs84":
            crs_used = "wgs84"
            warnings.append(("OpenStreetMap 数据按 WGS-84 处理", "OpenStreetMap data taken as WGS-84"))
        else:
            # Detect from the rows that could be in or near Wuhai at all.
            near = ok & (np.abs(lat - 39.55) < 1.0) & (np.abs(lng - 106.8) < 1.0)
            crs_used, warning = detect_crs(lat[near], lng[near], raw.crs_hint)
            crs_detected = True
            warnings.append(warning)
    else:
        crs_used = crs_text
    wlat, wlng = np.full(n, np.nan), np.full(n, np.nan)
    if ok.any():
        wlat[ok], wlng[ok] = geo.to_wgs84(lat[ok], lng[ok], crs_used)
    outside = np.zeros(n, bool)
    outside[ok] = ~inside_wuhai(wlat[ok], wlng[ok])

    # Types.
    type_ids = np.full(n, None, dtype=object)
    how = np.full(n, "", dtype=object)
    memo: dict[tuple, tuple[str | None, str]] = {}
    names_l, types_l, codes_l = names.tolist(), types_text.tolist(), codes.tolist()
    tags = raw.tags
    for i in range(n):
        if not ok[i] or outside[i]:
            continue
        key = (types_l[i], codes_l[i], names_l[i] if not tags else (names_l[i], json.dumps(tags[i], sort_keys=True)))
        hit = memo.get(key)
        if hit is None:
            hit = _resolve_type(types_l[i], codes_l[i], names_l[i], tags[i] if tags else None, type_aliases)
            memo[key] = hit
        type_ids[i], how[i] = hit
    unknown = ok & ~outside & pd.isna(pd.Series(type_ids)).to_numpy()

    # Duplicates among the rows still standing: the same id, or the same name and type within 10 m.
    standing = ok & ~outside & ~unknown
    duplicate = np.zeros(n, bool)
    dup_detail = np.full(n, "", dtype=object)
    id_text = ids.astype(str).str.strip()
    first_row: dict[str, int] = {}
    for i in np.flatnonzero(standing & (id_text != "").to_numpy()):
        key = id_text.iat[i]
        if key in first_row:
            duplicate[i] = True
            dup_detail[i] = f"id {key} = row {first_row[key] + raw.row_offset}"
        else:
            first_row[key] = i
    still = standing & ~duplicate
    named = still & (names.str.strip() != "").to_numpy()
    if named.any():
        from scipy.spatial import cKDTree

        rows = np.flatnonzero(named)
        x, y = gridmod.to_local_xy(wlat[rows], wlng[rows])
        pairs = cKDTree(np.column_stack([x, y])).query_pairs(DUPLICATE_RADIUS_M, output_type="ndarray")
        if len(pairs):
            pairs = np.sort(rows[pairs], axis=1)
            pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
            for a, b in pairs.tolist():
                if duplicate[a] or duplicate[b]:
                    continue
                if names_l[a].strip() == names_l[b].strip() and type_ids[a] == type_ids[b]:
                    duplicate[b] = True
                    metres = geo.haversine_m(wlat[a], wlng[a], wlat[b], wlng[b])
                    dup_detail[b] = f"≈ row {a + raw.row_offset} ({metres:.1f} m)"

    # The report.
    reason = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)
    reason[empty] = "missing_coords"
    reason[invalid] = "invalid_coords"
    reason[outside] = "outside_wuhai"
    reason[unknown] = "unknown_type"
    reason[duplicate] = "duplicate"
    detail[duplicate] = dup_detail[duplicate]
    for i in np.flatnonzero(outside):
        detail[i] = f"WGS-84 {wlat[i]:.5f}, {wlng[i]:.5f}"
    for i in np.flatnonzero(invalid):
        detail[i] = f"{_raw_coords(frame, mapping, i)}"
    rejected_rows = np.flatnonzero(reason != "")
    raw_type = [(types_l[i] or codes_l[i]) for i in rejected_rows]
    rejected = pd.DataFrame({
        "row": rejected_rows + raw.row_offset, "reason": reason[rejected_rows], "detail": detail[rejected_rows],
        "name": [names_l[i] for i in rejected_rows], "type": raw_type,
        "coordinates": [_raw_coords(frame, mapping, i) for i in rejected_rows],
    })
    accepted = np.flatnonzero(reason == "")
    given_ids = id_text.to_numpy()[accepted]
    generated = np.array([f"import-{i + raw.row_offset}" for i in accepted], dtype=object)
    fac_ids = np.where(given_ids != "", given_ids, generated)
    if len(set(fac_ids.tolist())) != len(fac_ids):  # a given id equal to a generated one
        fac_ids = np.array([f"{v}#{k}" for k, v in enumerate(fac_ids.tolist())], dtype=object)
    acc_types = type_ids[accepted]
    name_zh, name_en = [], []
    en_cols = [c for c in frame.columns if _norm(c) in ("nameen", "英文名称", "englishname", "名称英文")]
    name_en_col = frame[en_cols[0]].tolist() if en_cols and en_cols[0] not in mapping.values() else None
    by_id = _type_by_id()
    for k, i in enumerate(accepted.tolist()):
        nm = names_l[i].strip()
        ftype = by_id[acc_types[k]]
        if nm:
            name_zh.append(nm)
            name_en.append((name_en_col[i].strip()[:MAX_NAME_CHARS] if name_en_col else "") or nm)
        else:
            name_zh.append(f"{ftype.name_zh}（未命名）")
            name_en.append(f"{ftype.name_en} (unnamed)")
    facilities = pd.DataFrame({
        "id": fac_ids, "type": acc_types, "name_zh": name_zh, "name_en": name_en,
        "lat": np.round(wlat[accepted], 7), "lng": np.round(wlng[accepted], 7),
        "district_code": district_codes(wlat[accepted], wlng[accepted]), "status": STATUS,
        "source_file": raw.source_name,
    }, columns=FACILITY_COLUMNS)
    type_counts = {k: int(v) for k, v in pd.Series(acc_types, dtype=object).value_counts().items()}
    by_how = pd.Series(how[accepted], dtype=object).value_counts()
    if by_how.get("keywords", 0):
        warnings.append((f"{int(by_how['keywords'])} 行的类型由名称关键词推断，请抽查",
                         f"the type of {int(by_how['keywords'])} rows was inferred from name keywords; spot-check them"))
    absent = [by_id[t_].name_zh for t_ in by_id if t_ not in type_counts]
    if absent and len(accepted):
        warnings.append((f"{len(absent)} 类设施没有数据，将显示为“无数据”",
                         f"{len(absent)} facility types have no data and will show as “no data”"))
    row_note = (("表格行号（表头为第 1 行）", "spreadsheet row (the header is row 1)") if raw.row_offset == 2
                else ("记录序号（从 1 起）", "record number (from 1)"))
    report = ImportReport(raw.source_name, raw.format_label, raw.encoding, crs_text, crs_used, crs_detected, n,
                          len(accepted), rejected, warnings, type_counts, mapping, row_note)
    return ImportResult(facilities, report)


def _raw_coords(frame: pd.DataFrame, mapping: dict, i: int) -> str:
    if mapping.get("lng") and mapping.get("lat"):
        return f"{frame[mapping['lng']].iat[i]}, {frame[mapping['lat']].iat[i]}"[:60]
    return str(frame[mapping["location"]].iat[i])[:60]


def _resolve_type(type_text: str, typecode: str, name: str, tags: dict | None,
                  aliases: dict[str, str] | None) -> tuple[str | None, str]:
    """(type id or None, how it was found)."""
    hit = type_from_text(type_text, aliases)
    if hit:
        return hit, "type"
    hit = type_from_typecodes(typecode, name) or type_from_typecodes(type_text, name)
    if hit:
        return hit, "typecode"
    hit = type_from_tags(tags)
    if hit:
        return hit, "osm"
    hit = type_from_keywords(name) or type_from_keywords(type_text)
    if hit:
        return hit, "keywords"
    return None, ""


def import_file(path: str | Path, crs: str = "auto", mapping: dict | None = None,
                type_aliases: dict[str, str] | None = None, name: str | None = None) -> ImportResult:
    """Read and validate a file in one call (the CLI's path)."""
    return validate(read_file(path, name), mapping, crs, type_aliases)
