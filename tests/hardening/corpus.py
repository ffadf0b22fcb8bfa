"""A corpus of bad inputs for the importers, generated here (nothing big is committed).

Every case is a file name, a function that makes its bytes (deterministically: seeded random where
random) and what the importer must do with it:

* ``error``  — raise :class:`circle.importers.ImportInputError` (a Chinese and an English message);
* ``report`` — read and validate, and say what happened in the report (rejections, warnings);
* ``either`` — one of the two (e.g. garbage that may or may not decode), never anything else.

``checks`` refine a ``report``: rejection reasons that must be present, a warning that must be
there, how many rows are accepted. The million-row and zip-bomb files are made on demand by
``make()`` (the big ones stream to a path, see :func:`million_rows_csv`).
"""
from __future__ import annotations

import io
import json
import random
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from circle.sources import SAMPLE_DIR

# --- payloads ----------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
JS_LINK = "[click](javascript:alert(1))"
MD_IMAGE = "![x](http://evil.example/x.png)"
MD_LINK = "[evil](http://evil.example)"
SVG = "<svg onload=alert(1)>"
IFRAME = '<iframe src="javascript:alert(1)"></iframe>'
FORMULAS = ('=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0", "=1+1")
HTML_PAYLOADS = (SCRIPT, IMG, JS_LINK, MD_IMAGE, MD_LINK, SVG, IFRAME, "javascript:alert(1)",
                 "**bold** _it_ `code` # head", "&lt;script&gt; &amp; \\<b\\>", "{label} {{x}} %s %(x)s")
UNICODE_JUNK = ("\u202eevil\u202c", "a\u200bb\u200dc\ufeffd", "𝕳𝖊𝖑𝖑𝖔 🏪🧨", "\U0010ffff\ue000", "Ω≈ç√∫",
                "\u0301\u0301\u0301", "\\x00 \\n", "ﷺ" * 20)
LONG_NAME = "长" * 5000 + "N" * 5000          # 10,000 characters


def _points(n: int = 24) -> list[tuple[float, float]]:
    """WGS-84 points inside Wuhai, well apart (from the shipped sample's locations, read only)."""
    table = pd.read_csv(SAMPLE_DIR / "facilities.csv", usecols=["lat", "lng"])
    picked = table.iloc[:: max(1, len(table) // n)].head(n)
    return list(zip(picked["lat"].round(6), picked["lng"].round(6)))


POINTS = _points()


def _csv(rows: list[list], header=("名称", "经度", "纬度", "类型"), sep: str = ",", encoding: str = "utf-8",
         newline: str = "\n") -> bytes:
    buffer = io.StringIO()
    frame = pd.DataFrame(rows, columns=list(header))
    frame.to_csv(buffer, index=False, sep=sep, lineterminator=newline)
    return buffer.getvalue().encode(encoding)


def good_rows(n: int = 6, names=None, type_zh: str = "便利店") -> list[list]:
    """Valid rows: name, lng, lat, type."""
    names = names or [f"好店{i + 1}号" for i in range(n)]
    return [[names[i % len(names)], f"{lng:.6f}", f"{lat:.6f}", type_zh] for i, (lat, lng) in enumerate(POINTS[:n])]


def _xlsx(rows: list[list], header=("名称", "经度", "纬度", "类型"), sheets: int = 1, empty_first: bool = False) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    if not empty_first:
        sheet.append(list(header))
        for row in rows:
            sheet.append(list(row))
    for k in range(1, sheets):
        extra = book.create_sheet(f"S{k}")
        extra.append(list(header))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _garbage(seed: int, size: int = 4096) -> bytes:
    return random.Random(seed).randbytes(size)


def _feature(lng, lat, **props) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lng, lat]}, "properties": props}


def _geojson(features) -> bytes:
    return _json({"type": "FeatureCollection", "features": features})


def _overpass(elements) -> bytes:
    return _json({"version": 0.6, "elements": elements})


def _node(i, lat, lon, **tags) -> dict:
    return {"type": "node", "id": 1000 + i, "lat": lat, "lon": lon, "tags": tags}


def zip_claiming(size: int) -> bytes:
    """A tiny .xlsx-looking zip whose directory claims ``size`` uncompressed bytes per member."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    data = bytearray(buffer.getvalue())
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        data[pos + 24:pos + 28] = struct.pack("<I", size)
        pos = data.find(b"PK\x01\x02", pos + 4)
    return bytes(data)


def real_zip_bomb(megabytes: int = 300) -> bytes:
    """An honest zip bomb named like a workbook: one member of ``megabytes`` MB of zeros, deflated to
    a few hundred kB (streamed, so making it costs no memory)."""
    buffer = io.BytesIO()
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(chunk)
    return buffer.getvalue()


def lying_zip_bomb() -> bytes:
    """A zip whose directory says a member is small while its data inflates to 64 MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        archive.writestr("xl/workbook.xml", b"<" + bytes(64 * 1024 * 1024))
    data = bytearray(buffer.getvalue())
    for sig, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):  # central and local headers
        pos = data.find(sig)
        while pos >= 0:
            data[pos + offset:pos + offset + 4] = struct.pack("<I", 100)
            pos = data.find(sig, pos + 4)
    return bytes(data)


def many_members_zip(n: int = 3000) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for i in range(n):
            archive.writestr(f"xl/m{i}.xml", b"")
    return buffer.getvalue()


def truncated_xlsx(keep: float) -> bytes:
    data = _xlsx(good_rows())
    return data[: int(len(data) * keep)]


def corrupted_xlsx() -> bytes:
    """A workbook whose zip directory is intact but whose sheet data are damaged."""
    data = bytearray(_xlsx(good_rows(12)))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 5, start + min(info.compress_size, 200) - 5):
        data[k] ^= 0x5A
    return bytes(data)


def docx_like() -> bytes:
    """A valid zip that is not a workbook (a Word document's skeleton)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def million_rows_csv(path: Path, rows: int = 1_000_000, wide: bool = False) -> Path:
    """A CSV of ``rows`` data rows, streamed to ``path``. Short rows (``wide=False``) stay under the
    size limit, so the row limit must catch them; wide rows exceed the size limit."""
    lat, lng = POINTS[0]
    line = (f"模拟便利店名称比较长的一家店铺,{lng:.6f},{lat:.6f},便利店,乌海市海勃湾区某某街道某某路123号\n" if wide
            else "a,1,2\n").encode("utf-8")
    block = line * 10_000
    with open(path, "wb") as f:
        f.write(("名称,经度,纬度,类型,地址\n" if wide else "n,x,y\n").encode("utf-8"))
        for _ in range(rows // 10_000):
            f.write(block)
    return path


# --- the cases ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    id: str
    name: str
    make: Callable[[], bytes]
    expect: str                                   # error | report | either
    reasons: tuple[str, ...] = ()                 # rejection reasons that must appear (report)
    warning: str | None = None                    # a substring of some English warning (report)
    accepted: int | None = None                   # exact number of accepted rows (report)
    crs: str = "auto"
    names: tuple[str, ...] = field(default=())    # names that must come through literally (report)


def _case(id, name, make, expect, **kw) -> Case:
    return Case(id, name, make, expect, **kw)


def _coords_rows(values: list[tuple[str, str]]) -> list[list]:
    return [[f"点{i}", lng, lat, "便利店"] for i, (lng, lat) in enumerate(values)]


def cases() -> list[Case]:
    lat0, lng0 = POINTS[0]
    good = good_rows()
    out: list[Case] = [
        # empty and nearly empty
        _case("empty-csv", "empty.csv", lambda: b"", "error"),
        _case("empty-xlsx", "empty.xlsx", lambda: b"", "error"),
        _case("empty-json", "empty.json", lambda: b"", "error"),
        _case("empty-geojson", "empty.geojson", lambda: b"", "error"),
        _case("whitespace-csv", "blank.csv", lambda: b"  \n\n \t \n\r\n", "error"),
        _case("bom-only-csv", "bom.csv", lambda: b"\xef\xbb\xbf", "error"),
        _case("bom-only-json", "bom.json", lambda: b"\xef\xbb\xbf", "error"),
        _case("headers-only-csv", "headers.csv", lambda: "名称,经度,纬度,类型\n".encode(), "either", accepted=0),
        _case("headers-only-en-csv", "headers_en.csv", lambda: b"name,lng,lat,type", "either", accepted=0),
        _case("headers-only-xlsx", "headers.xlsx", lambda: _xlsx([]), "either", accepted=0),
        _case("empty-sheet-xlsx", "nothing.xlsx", lambda: _xlsx([], empty_first=True), "error"),
        _case("no-coordinate-columns", "nocoords.csv", lambda: "名称,类型\n店,便利店\n".encode(), "error"),
        _case("preamble-lines", "preamble.csv",
              lambda: ("乌海市设施清单\n导出时间：2024年\n\n" + _csv(good).decode()).encode(), "either"),
        # delimiters
        _case("semicolon", "semi.csv", lambda: _csv(good, sep=";"), "report", accepted=len(good)),
        _case("tab", "tab.tsv", lambda: _csv(good, sep="\t"), "report", accepted=len(good)),
        _case("pipe", "pipe.csv", lambda: _csv(good, sep="|"), "report", accepted=len(good)),
        _case("header-comma-rows-semicolon", "mixed_sep.csv",
              lambda: ("名称,经度,纬度,类型\n" + "".join(f"店{i};{lng};{lat};便利店\n" for i, (lat, lng) in enumerate(POINTS[:5]))).encode(),
              "either", accepted=0),
        _case("header-tab-rows-comma", "mixed_sep2.csv",
              lambda: ("名称\t经度\t纬度\t类型\n" + "".join(f"店{i},{lng},{lat},便利店\n" for i, (lat, lng) in enumerate(POINTS[:5]))).encode(),
              "either", accepted=0),
        _case("ragged-rows", "ragged.csv", lambda: ("名称,经度,纬度,类型\n" + f"a,{lng0},{lat0},便利店,extra,more\n").encode(), "error"),
        _case("unbalanced-quote", "quote.csv", lambda: f'名称,经度,纬度,类型\n"unclosed,{lng0},{lat0},便利店\n'.encode(), "error"),
        _case("excel-sep-line", "sep.csv", lambda: b"sep=;\n" + _csv(good, sep=";"), "either"),
        _case("cr-only-newlines", "mac.csv", lambda: _csv(good, newline="\r"), "report", accepted=len(good)),
        _case("crlf-newlines", "dos.csv", lambda: _csv(good, newline="\r\n"), "report", accepted=len(good)),
        # encodings
        _case("gbk", "gbk.csv", lambda: _csv(good, encoding="gbk"), "report", accepted=len(good), warning="GB18030"),
        _case("gbk-read-as-utf8", "gbk_names.csv",
              lambda: _csv(good_rows(names=["乌海市海勃湾区便利店", "滨河区早餐"]), encoding="gbk"), "report",
              warning="GB18030", names=("乌海市海勃湾区便利店",)),
        _case("utf8-bom", "bom_good.csv", lambda: b"\xef\xbb\xbf" + _csv(good), "report", accepted=len(good), warning="BOM"),
        _case("mixed-utf8-header-gbk-rows", "mixed_enc.csv",
              lambda: "名称,经度,纬度,类型\n".encode() + "".join(f"店{i},{lng},{lat},便利店\n" for i, (lat, lng) in enumerate(POINTS[:4])).encode("gbk"),
              "either"),
        _case("mixed-gbk-header-utf8-rows", "mixed_enc2.csv",
              lambda: "名称,经度,纬度,类型\n".encode("gbk") + "".join(f"店{i},{lng},{lat},便利店\n" for i, (lat, lng) in enumerate(POINTS[:4])).encode(),
              "either"),
        _case("latin1", "latin1.csv", lambda: "name,lng,lat,type\nCafé Zoë,106.81,39.67,便利店\n".encode("utf-8").replace("é".encode(), b"\xe9"), "either"),
        _case("utf16-le-bom", "utf16.csv", lambda: b"\xff\xfe" + _csv(good, sep="\t").decode().encode("utf-16-le"),
              "report", accepted=len(good), warning="UTF-16"),
        _case("utf16-be-bom", "utf16be.csv", lambda: b"\xfe\xff" + _csv(good).decode().encode("utf-16-be"),
              "report", accepted=len(good), warning="UTF-16"),
        _case("utf16-no-bom", "utf16nobom.csv", lambda: _csv(good).decode().encode("utf-16-le"), "error"),
        _case("utf32", "utf32.csv", lambda: _csv(good).decode().encode("utf-32"), "error"),
        _case("nul-in-text", "nul.csv", lambda: _csv(good).replace("好店1号".encode(), "好\x00店".encode()), "error"),
        # binary garbage and wrong containers
        _case("garbage-csv", "garbage.csv", lambda: _garbage(1), "error"),
        _case("garbage-xlsx", "garbage.xlsx", lambda: _garbage(2), "error"),
        _case("garbage-json", "garbage.json", lambda: _garbage(3), "error"),
        _case("garbage-noext", "garbage", lambda: _garbage(4), "error"),
        _case("garbage-high-bytes", "high.csv", lambda: bytes(random.Random(5).randrange(0x80, 0x100) for _ in range(4096)), "either"),
        _case("png-as-csv", "picture.csv", lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + _garbage(6, 512), "error"),
        _case("pdf-as-xlsx", "report.xlsx", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + _garbage(7, 512), "error"),
        _case("old-xls", "old.xls", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "error"),
        _case("zip-named-csv", "archive.csv", lambda: docx_like(), "error"),
        # xlsx
        _case("truncated-xlsx-half", "half.xlsx", lambda: truncated_xlsx(0.5), "error"),
        _case("truncated-xlsx-90", "ninety.xlsx", lambda: truncated_xlsx(0.9), "error"),
        _case("truncated-xlsx-header", "head.xlsx", lambda: truncated_xlsx(0.02), "error"),
        _case("corrupted-xlsx", "corrupt.xlsx", corrupted_xlsx, "error"),
        _case("docx-as-xlsx", "letter.xlsx", docx_like, "error"),
        _case("zip-bomb-claimed", "bomb.xlsx", lambda: zip_claiming(0xFFFFFFF0), "error"),
        _case("zip-bomb-real", "bomb_real.xlsx", real_zip_bomb, "error"),
        _case("zip-bomb-lying", "bomb_lying.xlsx", lying_zip_bomb, "error"),
        _case("zip-bomb-under-limit", "bomb_small.xlsx", lambda: real_zip_bomb(200), "error"),
        _case("zip-too-many-members", "members.xlsx", many_members_zip, "error"),
        _case("xlsx-multi-sheet", "sheets.xlsx", lambda: _xlsx(good, sheets=3), "report", accepted=len(good), warning="sheets"),
        _case("xlsx-formula-names", "formula.xlsx",
              lambda: _xlsx(good_rows(len(FORMULAS), names=list(FORMULAS))), "report", accepted=len(FORMULAS)),
        # JSON, GeoJSON, Overpass
        _case("json-invalid", "broken.json", lambda: b'{"type": "FeatureCollection", "features": [', "error"),
        _case("json-numbers", "numbers.json", lambda: b"[1, 2, 3]", "error"),
        _case("json-string", "string.json", lambda: b'"hello"', "error"),
        _case("json-null", "null.json", lambda: b"null", "error"),
        _case("json-deep-nesting", "deep.json", lambda: b"[" * 100_000 + b"]" * 100_000, "error"),
        _case("json-deep-objects", "deep2.json", lambda: b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "error"),
        _case("json-many-empty-objects", "objects.json", lambda: b"[" + b"{}," * 1_500_000 + b"{}]", "error"),
        _case("json-too-many-objects", "objects2.json", lambda: b"[" + b"{}," * 2_000_000 + b"{}]", "error"),
        _case("json-too-many-arrays", "arrays.json", lambda: b"[" + b"[]," * 3_500_000 + b"[]]", "error"),
        _case("json-mixed-list", "mixed.json", lambda: b'[{"name": "a"}, 1, "x"]', "error"),
        _case("json-list-of-records", "records.json",
              lambda: _json([{"name": n, "lng": lng, "lat": lat, "type": "便利店", "extra": {"nested": [1, {"x": None}]}}
                             for n, lng, lat, _ in good]), "report", accepted=len(good)),
        _case("geojson-features-not-list", "nofeat.geojson", lambda: b'{"type": "FeatureCollection", "features": {"a": 1}}', "error"),
        _case("geojson-no-features", "zero.geojson", lambda: _geojson([]), "either", accepted=0),
        _case("geojson-bad-geometries", "badgeom.geojson", lambda: _geojson([
            {"type": "Feature", "geometry": None, "properties": {"name": "无几何", "type": "便利店"}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": "106.8,39.6"}, "properties": {"name": "字符串", "type": "便利店"}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.8]}, "properties": {"name": "一个数", "type": "便利店"}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [None, None]}, "properties": {"name": "空", "type": "便利店"}},
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[106.8, 39.6], [106.9, 39.7]]]}, "properties": {"name": "坏多边形", "type": "便利店"}},
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": "nope"}, "properties": {"name": "坏多边形2", "type": "便利店"}},
            {"type": "Feature", "geometry": {"type": "Banana", "coordinates": [1, 2]}, "properties": {"name": "香蕉", "type": "便利店"}},
            {"type": "Feature", "geometry": {"type": "GeometryCollection", "geometries": "x"}, "properties": ["not", "a", "dict"]},
            7, "feature", None, [1, 2],
        ]), "report", reasons=("missing_coords",), accepted=0),
        _case("geojson-nan-inf", "naninf.geojson",
              lambda: (b'{"type": "FeatureCollection", "features": ['
                       b'{"type": "Feature", "geometry": {"type": "Point", "coordinates": [NaN, 39.6]}, "properties": {"name": "a", "type": "\xe4\xbe\xbf\xe5\x88\xa9\xe5\xba\x97"}},'
                       b'{"type": "Feature", "geometry": {"type": "Point", "coordinates": [Infinity, -Infinity]}, "properties": {"name": "b", "type": "\xe4\xbe\xbf\xe5\x88\xa9\xe5\xba\x97"}},'
                       b'{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1e400, 39.6]}, "properties": {"name": "c", "type": "\xe4\xbe\xbf\xe5\x88\xa9\xe5\xba\x97"}}]}'),
              "report", reasons=("invalid_coords",), accepted=0),
        _case("geojson-swapped", "swapped.geojson", lambda: _geojson([_feature(lat, lng, name=f"s{i}", type="便利店")
                                                                      for i, (lat, lng) in enumerate(POINTS[:8])]),
              "report", accepted=8, warning="swapped"),
        _case("geojson-projected-metres", "metres.geojson",
              lambda: _geojson([_feature(11_890_000.0 + i * 100, 4_800_000.0, name=f"m{i}", type="便利店") for i in range(5)]),
              "report", reasons=("invalid_coords",), accepted=0),
        _case("overpass-malformed", "overpass.json", lambda: _overpass([
            {"type": "node", "id": 1, "lat": "abc", "lon": "def", "tags": {"amenity": "pharmacy", "name": "坏坐标"}},
            {"type": "node", "id": 2, "lat": None, "lon": None, "tags": {"shop": "convenience"}},
            {"type": "way", "id": 3, "center": "oops", "tags": {"shop": "convenience", "name": {"zh": "dict"}}},
            {"type": "way", "id": 4, "bounds": {"minlat": "x"}, "tags": {"shop": "convenience"}},
            {"type": "node", "id": 5, "lat": lat0, "lon": lng0, "tags": {"shop": ["convenience"], "name": [1, 2]}},
            {"type": {"weird": True}, "id": [1], "lat": lat0, "lon": lng0, "tags": {"amenity": "pharmacy", "name": SCRIPT}},
            {"type": "node", "id": 7, "lat": lat0, "lon": lng0},
            "string element", 42, None,
        ]), "report", reasons=("missing_coords",), warning="untagged", names=(SCRIPT,)),
        _case("overpass-elements-not-list", "overpass2.json", lambda: b'{"elements": {"type": "node"}}', "error"),
        _case("overpass-all-untagged", "skel.json",
              lambda: _overpass([{"type": "node", "id": i, "lat": lat, "lon": lng} for i, (lat, lng) in enumerate(POINTS[:5])]),
              "either", accepted=0),
        _case("amap-pois-bad", "amap.json", lambda: _json({"status": "1", "pois": [
            {"name": "高德店", "location": "abc", "typecode": "060200"},
            {"name": "高德店2", "location": "", "typecode": "999999|abc"},
            {"name": "高德店3", "location": [1, 2], "typecode": None},
            {"name": SCRIPT, "location": f"{lng0},{lat0}", "typecode": "060200"}]}), "report", names=(SCRIPT,)),
        _case("amap-pois-not-list", "amap2.json", lambda: b'{"pois": {"a": 1}}', "error"),
        # coordinates
        _case("nan-inf-coordinates", "naninf.csv", lambda: _csv(_coords_rows([
            ("nan", "39.6"), ("NaN", "NaN"), ("inf", "39.6"), ("-inf", "inf"), ("Infinity", "39.6"),
            ("1e999", "39.6"), ("1" + "0" * 400, "39.6"), ("0x1A", "39.6"), ("106.8.1", "39.6")])),
              "report", reasons=("invalid_coords",), accepted=0),
        _case("out-of-range", "range.csv", lambda: _csv(_coords_rows([
            ("200", "39.6"), ("106.8", "95"), ("-181", "-91"), ("0", "0"), ("106.8", "-39.6")])),
              "report", reasons=("invalid_coords", "outside_wuhai"), accepted=0),
        _case("swapped-columns", "swap.csv", lambda: _csv([[n, lat, lng, t_] for n, lng, lat, t_ in good]),
              "report", accepted=len(good), warning="swapped"),
        _case("far-outside-wuhai", "far.csv", lambda: _csv(_coords_rows([
            ("116.397", "39.909"), ("-74.0", "40.7"), ("179.999", "-89.999"), ("-179.999", "89.999"),
            ("106.8", "-39.6"), ("0.0001", "0.0001"), ("121.47", "31.23")])),
              "report", reasons=("outside_wuhai",), accepted=0),
        _case("missing-coordinates", "missing.csv", lambda: _csv(_coords_rows([("", ""), ("", "39.6"), ("106.8", ""), ("null", "None")])),
              "report", reasons=("missing_coords",), accepted=0),
        _case("dms-coordinates", "dms.csv", lambda: _csv(_coords_rows([("106°49'E", "39°40'N"), ("东经106.8", "北纬39.6")])),
              "report", reasons=("invalid_coords",), accepted=0),
        _case("projected-metres", "metres.csv", lambda: _csv(_coords_rows([("11890000", "4800000"), ("500000", "4390000")])),
              "report", reasons=("invalid_coords",), accepted=0),
        _case("location-column-garbage", "loc.csv",
              lambda: _csv([["店", "abc", "便利店"], ["店2", f"{lng0}", "便利店"], ["店3", f"{lng0},{lat0},9", "便利店"], ["店4", ",,,", "便利店"]],
                           header=("名称", "经纬度", "类型")), "report"),
        _case("declared-crs-junk", "crs.csv", lambda: _csv(good), "error", crs="<script>"),
        _case("declared-crs-long", "crs2.csv", lambda: _csv(good), "error", crs="x" * 10_000),
        # ids, types, names
        _case("duplicate-ids", "dupid.csv", lambda: _csv([[f"d{i}", n, lng, lat, t_] for i, (n, lng, lat, t_) in
                                                            enumerate(good)] + [["d0", "另一家", good[1][1], good[1][2], "便利店"]],
                                                           header=("编号", "名称", "经度", "纬度", "类型")),
              "report", reasons=("duplicate",), accepted=len(good)),
        _case("duplicate-name-place", "dupname.csv", lambda: _csv(good + [good[0]] * 3), "report", reasons=("duplicate",), accepted=len(good)),
        _case("unknown-types", "types.csv", lambda: _csv([[f"x{i}", lng, lat, t_] for i, ((_, lng, lat, _), t_) in enumerate(zip(good, [
            "火箭发射场", "UNKNOWN", SCRIPT, "999999", "", "🚀"]))]), "report", reasons=("unknown_type",)),
        _case("long-names", "long.csv", lambda: _csv(good_rows(3, names=[LONG_NAME, "a" * 10_000, "<" * 10_000])),
              "report", accepted=3, warning="characters"),
        _case("html-js-names", "xss.csv", lambda: _csv(good_rows(len(HTML_PAYLOADS), names=list(HTML_PAYLOADS))),
              "report", accepted=len(HTML_PAYLOADS), names=HTML_PAYLOADS),
        _case("unicode-junk-names", "junk.csv", lambda: _csv(good_rows(len(UNICODE_JUNK), names=list(UNICODE_JUNK))),
              "report", accepted=len(UNICODE_JUNK)),
        _case("control-characters", "ctrl.csv",
              lambda: _csv(good_rows(3, names=["\x1b[31mred\x1b[0m", "bell\x07", "del\x7f\x85"])), "report", accepted=3),
        _case("formula-injection", "formula.csv", lambda: _csv(good_rows(len(FORMULAS), names=list(FORMULAS))),
              "report", accepted=len(FORMULAS), names=FORMULAS),
        _case("duplicate-headers", "duphead.csv", lambda: _csv(good, header=("名称", "名称", "经度", "经度")), "either"),
        _case("ten-thousand-columns", "wide.csv",
              lambda: (",".join(["名称", "经度", "纬度", "类型"] + [f"c{i}" for i in range(10_000)]) + "\n"
                       + ",".join(good[0] + [""] * 10_000) + "\n").encode(), "error"),
        _case("many-columns", "wide2.csv",
              lambda: (",".join(["名称", "经度", "纬度", "类型"] + [f"c{i}" for i in range(900)]) + "\n"
                       + ",".join(good[0] + ["x"] * 900) + "\n").encode(), "report", accepted=1),
        _case("json-ten-thousand-keys", "keys.json",
              lambda: _json([{"name": "店", "lng": lng0, "lat": lat0, "type": "便利店", **{f"k{i}": i for i in range(10_000)}}]),
              "error"),
        _case("huge-field", "field.csv", lambda: _csv([["店", lng0, lat0, "便利店" + "x" * 1_000_000]]), "either"),
        _case("html-headers", "headhtml.csv", lambda: _csv(good, header=(SCRIPT, IMG, MD_IMAGE, "类型")), "error"),
        _case("path-in-name", "../../etc/<script>passwd.csv", lambda: _csv(good), "report", accepted=len(good)),
        _case("control-in-file-name", "a\nb\x1b[2J\u202e.csv", lambda: _csv(good), "report", accepted=len(good)),
    ]
    ids = [c.id for c in out]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    return out


CASES = cases()
