"""Importing facilities: every format, encoding and CRS; the rejection reasons; limits; workspaces;
the CLI; the load-data page. Fixtures are small files written by the tests themselves."""
from __future__ import annotations

import hashlib
import io
import json
import math
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from circle import geo, importers, metrics, workspace
from circle.importers import ImportInputError
from circle.index import DEFAULT_DATASET
from circle.sources import CACHE_DIR, DATA_DIR, SAMPLE_DIR, URBAN_EXTENTS
from circle.taxonomy import facility_type, facility_types

ROOT = Path(__file__).resolve().parent.parent
TYPES = ("convenience_store", "primary_school", "park", "health_station", "breakfast_shop")
ABSENT = "pharmacy"  # never in the fixtures: must come out as "no data"


def _hash_tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module", autouse=True)
def shipped_untouched():
    """Every test here runs between two hashes of data/ and the shipped cache: nothing they do may
    change a byte of either (other test modules may add new cache files; none may be rewritten)."""
    data_before = _hash_tree(DATA_DIR)
    cache_before = _hash_tree(CACHE_DIR) if CACHE_DIR.is_dir() else {}
    yield
    assert _hash_tree(DATA_DIR) == data_before
    cache_after = _hash_tree(CACHE_DIR) if CACHE_DIR.is_dir() else {}
    assert {k: cache_after.get(k) for k in cache_before} == cache_before


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    """Known WGS-84 points inside Wuhai with types: 8 of each of TYPES, from the shipped sample's
    locations (read only), renamed so the names are the import's own."""
    table = pd.read_csv(SAMPLE_DIR / "facilities.csv", dtype=str)
    rows = []
    for type_id in TYPES:
        picked = table[table["type"] == type_id].head(8)
        for k, row in enumerate(picked.itertuples()):
            rows.append({"id": f"T-{type_id}-{k}", "name": f"测试{facility_type(type_id).name_zh}{k + 1}号",
                         "type_id": type_id, "type_zh": facility_type(type_id).name_zh,
                         "lat": float(row.lat), "lng": float(row.lng)})
    return pd.DataFrame(rows)


def _close(result: importers.ImportResult, truth: pd.DataFrame, key: str = "name") -> None:
    """Every truth row came back, with its type and within 1 m of where it is."""
    got = result.facilities.set_index("name_zh" if key == "name" else "id")
    assert len(result.facilities) == len(truth)
    for row in truth.itertuples():
        hit = got.loc[row.name if key == "name" else row.id]
        assert hit["type"] == row.type_id
        assert geo.haversine_m(row.lat, row.lng, float(hit["lat"]), float(hit["lng"])) < 1.0


def _csv(truth: pd.DataFrame, crs: str = "wgs84") -> pd.DataFrame:
    lat, lng = geo.from_wgs84(truth["lat"].to_numpy(), truth["lng"].to_numpy(), crs)
    return pd.DataFrame({"名称": truth["name"], "经度": [f"{v:.8f}" for v in lng], "纬度": [f"{v:.8f}" for v in lat],
                         "类型": truth["type_zh"], "地址": "乌海市"})


# --- formats -------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding, reported", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"),
                                                ("gbk", "gb18030"), ("gb18030", "gb18030")])
def test_csv_every_encoding(tmp_path, truth, encoding, reported):
    path = tmp_path / "设施.csv"
    path.write_bytes(_csv(truth).to_csv(index=False).encode(encoding))
    result = importers.import_file(path, crs="wgs84")
    assert result.report.encoding == reported
    assert result.report.rows_read == len(truth) and result.report.rejected_count == 0
    _close(result, truth)
    assert any("GB18030" in w[1] if reported == "gb18030" else "UTF-8" in w[1] for w in result.report.warnings)


def test_header_guesses():
    guess = importers.guess_mapping(["名称", "经度", "纬度", "类型", "地址", "编号"])
    assert guess == {"id": "编号", "name": "名称", "type": "类型", "typecode": None, "lng": "经度",
                     "lat": "纬度", "location": None, "address": "地址"}
    guess = importers.guess_mapping(["Title", "Longitude", "Latitude", "Category", "Address"])
    assert (guess["name"], guess["lng"], guess["lat"], guess["type"], guess["address"]) == \
        ("Title", "Longitude", "Latitude", "Category", "Address")
    guess = importers.guess_mapping(["x", "y", "name", "大类", "小类", "typecode"])
    assert (guess["lng"], guess["lat"], guess["type"], guess["typecode"]) == ("x", "y", "小类", "typecode")
    guess = importers.guess_mapping(["设施名称", "经度(GCJ02)", "纬度(GCJ02)", "设施类型"])
    assert (guess["name"], guess["lng"], guess["lat"], guess["type"]) == \
        ("设施名称", "经度(GCJ02)", "纬度(GCJ02)", "设施类型")


def test_xlsx_round_trip_with_user_mapping(tmp_path, truth):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "设施"
    sheet.append(["编号", "what", "east", "north", "kind"])
    for row in truth.itertuples():
        sheet.append([row.id, row.name, row.lng, row.lat, facility_type(row.type_id).name_en])
    book.create_sheet("notes").append(["ignored"])
    path = tmp_path / "facilities.xlsx"
    book.save(path)
    raw = importers.read_file(path)
    assert raw.container == "xlsx" and raw.columns == ["编号", "what", "east", "north", "kind"]
    guess = importers.mapping_for(raw)
    assert guess["id"] == "编号" and guess["lng"] is None  # "east" is not a header anyone can guess
    result = importers.validate(raw, {"name": "what", "lng": "east", "lat": "north", "type": "kind"}, crs="wgs84")
    _close(result, truth)
    assert set(result.facilities["id"]) == set(truth["id"])
    assert any("notes" not in w[0] and "设施" in w[0] for w in result.report.warnings)  # only the first sheet


def test_geojson_round_trip(tmp_path, truth):
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r.lng, r.lat]},
                 "properties": {"name": r.name, "type": r.type_id}} for r in truth.itertuples()]
    lat0, lng0 = 39.6743, 106.8161
    features.append({"type": "Feature", "properties": {"name": "广场", "type": "park"},
                     "geometry": {"type": "Polygon", "coordinates": [[[lng0, lat0], [lng0 + .001, lat0],
                                                                      [lng0 + .001, lat0 + .001], [lng0, lat0]]]}})
    features.append({"type": "Feature", "properties": {"name": "没有几何", "type": "park"}, "geometry": None})
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), encoding="utf-8")
    result = importers.import_file(path, crs="wgs84")
    assert result.report.format == "GeoJSON"
    assert result.report.reason_counts() == {"missing_coords": 1}
    assert result.report.rejected["row"].tolist() == [len(truth) + 2]  # record numbers count from 1
    polygon = result.facilities[result.facilities["name_zh"] == "广场"]
    assert len(polygon) == 1 and polygon["type"].iat[0] == "park"
    _close(importers.ImportResult(result.facilities[result.facilities["name_zh"] != "广场"], result.report), truth)


def test_overpass_json(tmp_path):
    elements = [
        {"type": "node", "id": 1, "lat": 39.6743, "lon": 106.8161,
         "tags": {"amenity": "school", "isced:level": "1", "name": "海勃湾第一小学", "name:en": "No. 1 Primary"}},
        {"type": "node", "id": 2, "lat": 39.6700, "lon": 106.8100, "tags": {"amenity": "school", "isced:level": "2;3"}},
        {"type": "way", "id": 3, "center": {"lat": 39.6650, "lon": 106.8200},
         "tags": {"amenity": "pharmacy", "name": "大药房"}},
        {"type": "node", "id": 4, "lat": 39.6651, "lon": 106.8201, "tags": {"amenity": "bench"}},
        {"type": "node", "id": 5, "lat": 39.6652, "lon": 106.8202},  # a way's geometry node: skipped
        {"type": "relation", "id": 6, "bounds": {"minlat": 39.660, "minlon": 106.800, "maxlat": 39.662, "maxlon": 106.802},
         "tags": {"leisure": "park", "name": "人民公园"}},
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"version": 0.6, "elements": elements}), encoding="utf-8")
    result = importers.import_file(path)  # auto: OSM is WGS-84, no detection
    report = result.report
    assert report.format == "OSM Overpass JSON" and report.crs_used == "wgs84" and not report.crs_detected
    assert report.rows_read == 5 and report.reason_counts() == {"unknown_type": 1}
    got = result.facilities.set_index("id")
    assert got.loc["osm-node-1", "type"] == "primary_school"
    assert got.loc["osm-node-1", "name_en"] == "No. 1 Primary"
    assert got.loc["osm-node-2", "type"] == "junior_middle_school"  # isced:level "2;3" has 2
    assert got.loc["osm-node-2", "name_zh"] == "初中（未命名）"
    assert got.loc["osm-way-3", "type"] == "pharmacy"
    assert got.loc["osm-relation-6", "type"] in ("park", "pocket_park")
    assert float(got.loc["osm-node-1", "lat"]) == pytest.approx(39.6743, abs=1e-7)
    assert any("skipped" in w[1] for w in report.warnings)


AMAP_ROWS = [  # name, type, typecode, expected type
    ("美宜佳便利店", "购物服务;便民商店/便利店;便民商店/便利店", "060200", "convenience_store"),
    ("华联超市", "购物服务;超级市场;超市", "060401", "supermarket"),
    ("绿源生鲜超市", "购物服务;超级市场;超市", "060400", "fresh_food_store"),
    ("乌海市第二小学", "科教文化服务;学校;小学", "141203", "primary_school"),
    ("仁和大药房", "医疗保健服务;医药保健销售店;药房", "999999", "pharmacy"),  # code unknown → keywords
    ("无名小店", "其他", "999999", None),
]


def _amap_frame(crs: str = "gcj02") -> pd.DataFrame:
    points = [(39.6743, 106.8161), (39.6700, 106.8100), (39.6650, 106.8200), (39.6600, 106.8050),
              (39.6680, 106.8180), (39.6620, 106.8120)]
    lat, lng = geo.from_wgs84(np.array([p[0] for p in points]), np.array([p[1] for p in points]), crs)
    return pd.DataFrame({"id": [f"B0{i}" for i in range(len(points))], "name": [r[0] for r in AMAP_ROWS],
                         "type": [r[1] for r in AMAP_ROWS], "typecode": [r[2] for r in AMAP_ROWS],
                         "address": "海勃湾区", "location": [f"{a:.6f},{b:.6f}" for a, b in zip(lng, lat)],
                         "pname": "内蒙古自治区", "cityname": "乌海市"}), points


def test_amap_export_csv_typecodes_and_gcj02(tmp_path):
    frame, points = _amap_frame()
    path = tmp_path / "amap.csv"
    path.write_bytes(frame.to_csv(index=False).encode("gbk"))
    raw = importers.read_file(path)
    assert raw.format == "amap" and raw.crs_hint == "gcj02"
    assert importers.mapping_for(raw)["location"] == "location"
    result = importers.validate(raw)  # auto: Amap exports are GCJ-02
    assert result.report.crs_used == "gcj02" and result.report.crs_detected
    assert any("gcj02" in w[1] for w in result.report.warnings)
    got = result.facilities.set_index("id")
    for i, (_, _, _, expected) in enumerate(AMAP_ROWS):
        if expected is None:
            assert f"B0{i}" not in got.index
            continue
        assert got.loc[f"B0{i}", "type"] == expected
        assert geo.haversine_m(points[i][0], points[i][1], got.loc[f"B0{i}", "lat"], got.loc[f"B0{i}", "lng"]) < 1.0
    assert result.report.reason_counts() == {"unknown_type": 1}


def test_amap_api_json(tmp_path):
    frame, points = _amap_frame()
    path = tmp_path / "pois.json"
    path.write_text(json.dumps({"status": "1", "pois": frame.to_dict("records")}, ensure_ascii=False), encoding="utf-8")
    result = importers.import_file(path, crs="gcj02")
    assert result.report.format == "Amap POI (JSON)" and result.report.accepted == 5
    first = result.facilities.set_index("id").loc["B00"]
    assert geo.haversine_m(points[0][0], points[0][1], first["lat"], first["lng"]) < 1.0


# --- coordinate systems --------------------------------------------------------------------------

@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09"])
def test_declared_crs_round_trip(tmp_path, truth, crs):
    path = tmp_path / f"{crs}.csv"
    _csv(truth, crs).to_csv(path, index=False)
    result = importers.import_file(path, crs=crs)
    assert result.report.crs_used == crs and not result.report.crs_detected
    _close(result, truth)


def _core_points(n: int = 400, seed: int = 5) -> pd.DataFrame:
    """Points spread evenly over the three urban cores (the detection's reference area)."""
    cores = pd.read_csv(URBAN_EXTENTS)
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n):
        c = cores.iloc[k % len(cores)]
        lat = rng.uniform(c.lat_min + 0.0005, c.lat_max - 0.0005)
        lng = rng.uniform(c.lon_min + 0.0005, c.lon_max - 0.0005)
        type_id = TYPES[k % len(TYPES)]
        rows.append({"id": f"C{k}", "name": f"点{k}", "type_id": type_id, "type_zh": facility_type(type_id).name_zh,
                     "lat": lat, "lng": lng})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09"])
def test_detected_crs_with_a_warning(tmp_path, crs):
    truth = _core_points()
    path = tmp_path / "undeclared.csv"
    _csv(truth, crs).to_csv(path, index=False)
    result = importers.import_file(path)  # crs="auto"
    assert result.report.crs_detected and result.report.crs_used == crs
    warning = [w for w in result.report.warnings if "detected" in w[1]]
    assert warning and "declare" in warning[0][1] and "自动识别" in warning[0][0]
    outside = set(result.report.rejected.loc[result.report.rejected["reason"] == "outside_wuhai", "row"])
    kept = truth[~(truth.index + 2).isin(outside)]
    _close(importers.ImportResult(result.facilities, result.report), kept)


def test_swapped_coordinate_columns_are_noticed(tmp_path, truth):
    frame = _csv(truth).rename(columns={"经度": "纬度", "纬度": "经度"})
    path = tmp_path / "swapped.csv"
    frame.to_csv(path, index=False)
    result = importers.import_file(path, crs="wgs84")
    assert any("swapped" in w[1] for w in result.report.warnings)
    _close(result, truth)


# --- rejections ----------------------------------------------------------------------------------

def test_every_rejection_reason(tmp_path):
    rows = [
        ("A1", "长青便利店", "106.8161", "39.6743", "便利店"),           # accepted
        ("A2", "没有坐标", "", "", "便利店"),                           # missing_coords
        ("A3", "半个坐标", "106.81", "", "便利店"),                      # missing_coords
        ("A4", "文字坐标", "东经106度", "39.6", "便利店"),                # invalid_coords
        ("A5", "超出范围", "206.8", "39.6", "便利店"),                   # invalid_coords
        ("A6", "北京的店", "116.40", "39.90", "便利店"),                  # outside_wuhai
        ("A7", "神秘设施", "106.8100", "39.6700", "宇宙飞船"),             # unknown_type
        ("A1", "同编号", "106.8000", "39.6600", "小学"),                  # duplicate (same id)
        ("A9", "长青便利店", "106.81605", "39.67432", "convenience_store"),  # duplicate (≈ 5 m, same name+type)
        ("A10", "长青便利店", "106.8165", "39.6743", "便利店"),             # 34 m away: kept
        ("A11", "长青便利店", "106.81601", "39.67431", "早餐店"),           # same place, other type: kept
    ]
    path = tmp_path / "bad.csv"
    pd.DataFrame(rows, columns=["id", "name", "lng", "lat", "type"]).to_csv(path, index=False)
    report = importers.import_file(path, crs="wgs84").report
    assert report.rows_read == 11 and report.accepted == 3
    assert report.reason_counts() == {"missing_coords": 2, "invalid_coords": 2, "outside_wuhai": 1,
                                      "unknown_type": 1, "duplicate": 2}
    frame = report.to_frame()
    assert list(frame.columns[:4]) == ["row", "reason", "reason_zh", "reason_en"]
    by_row = dict(zip(frame["row"], frame["reason"]))
    assert by_row == {3: "missing_coords", 4: "missing_coords", 5: "invalid_coords", 6: "invalid_coords",
                      7: "outside_wuhai", 8: "unknown_type", 9: "duplicate", 10: "duplicate"}
    assert "row 2" in frame.loc[frame["row"] == 10, "detail"].iat[0]
    zh, en = report.summary("zh"), report.summary("en")
    for reason in importers.REASONS:
        assert importers.t(f"imp_reason_{reason}", "zh") in zh and importers.t(f"imp_reason_{reason}", "en") in en
    assert "模拟" in zh and "simulated" in en
    json.dumps(report.to_dict(), ensure_ascii=False)  # serialisable


def test_type_resolution_order():
    assert importers.type_from_text("primary_school") == "primary_school"
    assert importers.type_from_text("Pharmacy") == "pharmacy"
    assert importers.type_from_text("菜市场") == "wet_market"  # the name without its parenthesis
    assert importers.type_from_text("购物服务;便民商店/便利店;便利店") == "convenience_store"
    assert importers.type_from_typecodes("060200|999999") == "convenience_store"
    assert importers.type_from_typecodes("110101", "滨河口袋公园") == "pocket_park"
    assert importers.type_from_typecodes("110101", "人民公园") == "park"
    assert importers.type_from_tags({"amenity": "school", "isced:level": "1"}) == "primary_school"
    assert importers.type_from_tags({"amenity": "school"}) is None
    assert importers.type_from_keywords("幸福社区卫生服务站") == "health_station"
    assert importers.type_from_keywords("XX便民超市") == "convenience_store"
    assert importers.type_from_keywords("XX超市") == "supermarket"
    raw = importers.RawTable(pd.DataFrame({"n": ["a", "b"], "lng": ["106.8161"] * 2, "lat": ["39.6743", "39.6843"],
                                           "t": ["XX长者食堂", "我们的说法"]}), "x.csv", "csv", "table")
    result = importers.validate(raw, {"name": "n", "type": "t"}, "wgs84", type_aliases={"我们的说法": "police"})
    assert result.facilities["type"].tolist() == ["meal_point", "police"]  # keywords in the type text; user table
    with pytest.raises(ImportInputError):
        importers.validate(raw, {"name": "n", "type": "t"}, "wgs84", type_aliases={"x": "no_such_type"})


def test_bad_mapping_and_crs_are_clear():
    raw = importers.RawTable(pd.DataFrame({"a": ["1"], "b": ["2"]}), "x.csv", "csv", "table")
    with pytest.raises(ImportInputError, match="经度.*longitude"):
        importers.validate(raw)
    with pytest.raises(ImportInputError, match="no column named"):
        importers.validate(raw, {"lng": "a", "lat": "zzz"})
    with pytest.raises(ImportInputError, match="unknown coordinate system"):
        importers.validate(raw, {"lng": "a", "lat": "b"}, crs="mars")


# --- limits --------------------------------------------------------------------------------------

def test_file_size_limit_checked_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as f:
        f.truncate(importers.MAX_FILE_BYTES + 1)  # sparse: nothing to read
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read before the size check"))
    with pytest.raises(ImportInputError) as error:
        importers.read_file(path)
    assert "20 MB" in error.value.zh and "20 MB" in error.value.en
    with pytest.raises(ImportInputError, match="20 MB"):
        importers.read_bytes(b"x" * (importers.MAX_FILE_BYTES + 1), "big.csv")


def test_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(importers, "MAX_ROWS", 10)
    monkeypatch.setattr(pd, "read_csv", lambda *a, **k: pytest.fail("parsed before the row check"))
    body = "name,lng,lat\n" + "".join(f"p{i},106.81,39.67\n" for i in range(11))
    with pytest.raises(ImportInputError) as error:
        importers.read_bytes(body.encode(), "rows.csv")
    assert "10" in error.value.zh and "limit is 10 rows" in error.value.en
    monkeypatch.undo()
    monkeypatch.setattr(importers, "MAX_ROWS", 10)
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["name", "lng", "lat"])
    for i in range(11):
        book.active.append([f"p{i}", 106.81, 39.67])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(ImportInputError, match="limit is 10 rows"):
        importers.read_bytes(buffer.getvalue(), "rows.xlsx")
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.81, 39.67]}, "properties": {}}] * 11
    with pytest.raises(ImportInputError, match="limit is 10 rows"):
        importers.read_bytes(json.dumps({"type": "FeatureCollection", "features": features}).encode(), "rows.geojson")


def _zip_claiming(size: int) -> bytes:
    """A tiny valid-looking .xlsx whose zip directory claims ``size`` uncompressed bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    data = bytearray(buffer.getvalue())
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:  # central directory entries: uncompressed size at offset 24
        data[pos + 24:pos + 28] = struct.pack("<I", size)
        pos = data.find(b"PK\x01\x02", pos + 4)
    return bytes(data)


def test_zip_bomb_refused_before_openpyxl(monkeypatch):
    import openpyxl

    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("openpyxl opened a zip bomb"))
    bomb = _zip_claiming(0xFFFFFFF0)
    assert len(bomb) < 1000
    with pytest.raises(ImportInputError) as error:
        importers.read_bytes(bomb, "bomb.xlsx")
    assert "zip bomb" in error.value.en and "压缩炸弹" in error.value.zh
    with pytest.raises(ImportInputError, match="not a valid .xlsx"):
        importers.read_bytes(b"PK\x03\x04 not really a zip", "broken.xlsx")
    with pytest.raises(ImportInputError, match=r"\.xls"):
        importers.read_bytes(b"\xd0\xcf\x11\xe0", "old.xls")


def test_unreadable_inputs_are_clear(tmp_path):
    with pytest.raises(ImportInputError, match="file not found"):
        importers.read_file(tmp_path / "nope.csv")
    with pytest.raises(ImportInputError, match="empty"):
        importers.read_bytes(b"", "empty.csv")
    with pytest.raises(ImportInputError, match="invalid JSON"):
        importers.read_bytes(b"{not json", "x.json")
    with pytest.raises(ImportInputError, match="unrecognised JSON"):
        importers.read_bytes(b'{"hello": 1}', "x.json")


# --- workspaces, the index, no data --------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory, truth):
    """One imported workspace with its index (TYPES present, everything else absent)."""
    folder = tmp_path_factory.mktemp("ws") / "mine"
    path = folder.parent / "mine.csv"
    _csv(truth).to_csv(path, index=False)
    ws, timings = workspace.save_import(importers.import_file(path, crs="wgs84"), folder)
    return ws, ws.load_index()


def test_workspace_files_and_dataset(built, truth):
    ws, idx = built
    names = {p.name for p in ws.folder.iterdir()}
    assert names == {"facilities.csv", "import_report.csv", "import_report.json", "dataset.json", ".cache"}
    facilities = pd.read_csv(ws.facilities_path, dtype=str)
    assert list(facilities.columns) == importers.FACILITY_COLUMNS
    assert (facilities["status"] == "imported").all() and (facilities["source_file"] == "mine.csv").all()
    assert len(facilities) == len(truth)  # the import alone: nothing simulated mixed in
    info = ws.info()
    assert info["label_zh"] == "导入：mine.csv（居民分布为模拟）"
    assert info["label_en"] == "imported: mine.csv (residents simulated)"
    assert set(info["types_present"]) == set(TYPES) and info["created"]
    dataset = ws.dataset()
    assert dataset.simulated is False and "模拟" in dataset.label_zh and "simulated" in dataset.label_en
    assert set(dataset.types_without_data) == {t.id for t in facility_types()} - set(TYPES)
    assert list(ws.cache_dir.glob("index-*.npz")) and idx.key in ws.cache_dir.glob("index-*.npz").__next__().name
    assert not (CACHE_DIR / f"index-{idx.key}.npz").exists()
    assert workspace.cache_dir_for(dataset) == ws.cache_dir
    assert workspace.cache_dir_for(DEFAULT_DATASET) == CACHE_DIR


def test_absent_types_are_no_data_not_uncovered(built):
    ws, idx = built
    assert idx.no_data[idx.type_pos[ABSENT]] and not idx.no_data[idx.type_pos["convenience_store"]]
    profile = idx.lookup(39.6743, 106.8161)
    assert profile.types[ABSENT].within_threshold is None and profile.types[ABSENT].minutes is None
    assert ABSENT not in profile.missing
    assert profile.types["convenience_store"].within_threshold in (True, False)
    coverage = metrics.type_coverage(idx, "city").set_index("type")
    assert math.isnan(coverage.loc[ABSENT, "share_within"]) and coverage.loc[ABSENT, "no_data"]
    assert 0.0 <= coverage.loc["convenience_store", "share_within"] <= 1.0
    assert idx.describe("zh") == ws.dataset().label_zh


def test_report_csv_is_safe_to_open_in_a_spreadsheet(tmp_path):
    path = tmp_path / "evil.csv"
    path.write_text("名称,经度,纬度,类型\n=HYPERLINK(\"http://x\"),116.4,39.9,便利店\n好店,106.8161,39.6743,便利店\n",
                    encoding="utf-8")
    ws, _ = workspace.save_import(importers.import_file(path, crs="wgs84"), tmp_path / "ws", build=False)
    report = pd.read_csv(ws.folder / "import_report.csv", dtype=str, encoding="utf-8-sig")
    assert report["name"].tolist() == ["'=HYPERLINK(\"http://x\")"]


def test_folder_rules(tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    for bad in (tmp_path / "other", DATA_DIR, DATA_DIR / "sample", CACHE_DIR, ROOT, tmp_path / "file.txt"):
        if bad.name == "file.txt":
            bad.write_text("x")
        with pytest.raises(workspace.WorkspaceError):
            workspace.check_folder(bad)
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"
    with pytest.raises(workspace.WorkspaceError, match="not a workspace"):
        workspace.open_workspace(tmp_path / "other")
    with pytest.raises(workspace.WorkspaceError, match="not found"):
        workspace.open_workspace(tmp_path / "missing")


def test_failed_import_leaves_the_previous_workspace_unchanged(tmp_path, truth, monkeypatch):
    folder = tmp_path / "ws"
    first = tmp_path / "first.csv"
    _csv(truth.head(10)).to_csv(first, index=False)
    workspace.save_import(importers.import_file(first, crs="wgs84"), folder, build=False)
    before = _hash_tree(folder)
    # 1. nothing valid in the new file
    bad = tmp_path / "bad.csv"
    bad.write_text("名称,经度,纬度,类型\n北京,116.4,39.9,便利店\n", encoding="utf-8")
    assert workspace.import_and_build(bad, folder, out=io.StringIO(), err=io.StringIO()) == 2
    # 2. an unreadable file, and a bad CRS
    assert workspace.import_and_build(tmp_path / "missing.csv", folder, out=io.StringIO(), err=io.StringIO()) == 2
    assert workspace.import_and_build(first, folder, crs="mars", out=io.StringIO(), err=io.StringIO()) == 2
    # 3. the index build fails half way
    second = tmp_path / "second.csv"
    _csv(truth).to_csv(second, index=False)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(workspace, "build_index", boom)
    with pytest.raises(RuntimeError):
        workspace.save_import(importers.import_file(second, crs="wgs84"), folder)
    assert _hash_tree(folder) == before
    assert not [p for p in folder.iterdir() if p.name.startswith(".staging-")]
    # 4. a failed first import into a new folder leaves no folder behind
    with pytest.raises(RuntimeError):
        workspace.save_import(importers.import_file(second, crs="wgs84"), tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()


def test_session_workspaces_live_in_the_temp_folder():
    folder = workspace.session_workspace()
    try:
        assert folder.parent == workspace.SESSION_ROOT and folder.is_dir() and not any(folder.iterdir())
        assert ROOT not in folder.parents
    finally:
        folder.rmdir()


# --- the CLI -------------------------------------------------------------------------------------

def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "circle", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONIOENCODING": "utf-8"})


@pytest.mark.slow
def test_cli_build_lookup_stats(tmp_path, truth):
    pois = tmp_path / "pois.csv"
    _csv(truth, "gcj02").to_csv(pois, index=False, encoding="gbk")
    ws = tmp_path / "d"
    run = _cli("build", "--pois", str(pois), "--crs", "gcj02", "--workspace", str(ws))
    assert run.returncode == 0, run.stderr
    assert "导入报告" in run.stdout and "Import report" in run.stdout and "GB18030" in run.stdout
    assert f"接受 {len(truth)} 行" in run.stdout and "index_build_s" in run.stdout
    run = _cli("lookup", str(truth.lat[0]), str(truth.lng[0]), "--workspace", str(ws), "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["types"][ABSENT]["within_threshold"] is None
    assert data["types"]["convenience_store"]["within_threshold"] is True
    assert data["types"]["convenience_store"]["nearest_name"] == truth.name[0]
    run = _cli("stats", "--workspace", str(ws))
    assert run.returncode == 0, run.stderr
    assert "导入：pois.csv（居民分布为模拟）" in run.stdout and "residents simulated" in run.stdout
    # bad input: one bilingual line, exit 2, no traceback
    for args in (("build", "--pois", str(tmp_path / "nope.csv"), "--workspace", str(tmp_path / "e")),
                 ("build", "--pois", str(pois), "--crs", "mars", "--workspace", str(tmp_path / "e")),
                 ("lookup", "39.67", "106.81", "--workspace", str(tmp_path / "nowhere")),
                 ("build", "--pois", str(pois), "--workspace", str(DATA_DIR))):
        run = _cli(*args)
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        line = run.stderr.strip()
        assert "\n" not in line and "Traceback" not in line and " / " in line
        assert any("\u4e00" <= ch <= "\u9fff" for ch in line.split(" / ")[0])
    assert not (tmp_path / "e").exists()


# --- the app -------------------------------------------------------------------------------------

def _page(path: str, lang: str = "zh"):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / path), default_timeout=300)
    at.session_state["lang"] = lang
    return at


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_load_data_page_renders(lang):
    at = _page("pages/load_data.py", lang)
    at.run()
    assert not at.exception
    assert at.title[0].value == ("导入数据" if lang == "zh" else "Load data")
    assert "20 MB" in at.markdown[0].value and "200,000" in at.markdown[0].value
    assert not at.button  # no way "back" while the sample is shown


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_imported_dataset_is_shown_as_imported(built, lang):
    ws, _ = built
    label = ws.dataset().label_en if lang == "en" else ws.dataset().label_zh
    at = _page("streamlit_app.py", lang)  # opens on the story page
    at.session_state["dataset"] = ws.dataset()
    at.run()
    assert not at.exception
    assert any(label in i.value.replace("\\", "") for i in at.info)
    assert any(label in c.value.replace("\\", "") for c in at.sidebar.caption)
    assert not any("**" in w.value and ("模拟数据" in w.value) for w in at.warning)  # not the sample's banner
    at = _page("pages/load_data.py", lang)
    at.session_state["dataset"] = ws.dataset()
    at.run()
    assert not at.exception
    assert any(label in i.value.replace("\\", "") for i in at.info)
    back = [b for b in at.button if b.key == "ld_back"]
    assert back
    back[0].click().run()
    assert "dataset" not in at.session_state


def test_load_data_is_in_the_navigation():
    at = _page("streamlit_app.py")
    at.run()
    at.switch_page("pages/load_data.py")
    at.run()
    assert not at.exception
    assert at.title[0].value == "导入数据"


class _FakeUpload:
    """What st.file_uploader returns (AppTest cannot upload files)."""

    def __init__(self, name: str, data: bytes):
        self.name, self._data, self.size, self.file_id = name, data, len(data), f"fake-{name}-{len(data)}"

    def getvalue(self) -> bytes:
        return self._data


@pytest.mark.slow
def test_load_data_flow_with_an_upload(monkeypatch, truth):
    """Upload (faked), mapping guesses, the report with rejected rows, then “Use this data”."""
    import shutil

    import streamlit

    frame = _csv(truth, "gcj02")
    frame.loc[len(frame)] = ["<b>北京</b>的店", "116.40", "39.90", "便利店", ""]  # outside, and not HTML
    upload = _FakeUpload("上传.csv", frame.to_csv(index=False).encode("gbk"))
    monkeypatch.setattr(streamlit, "file_uploader", lambda *a, **k: upload)
    at = _page("pages/load_data.py", "en")
    at.run()
    assert not at.exception
    assert [s.value for s in at.selectbox if s.key.startswith("ld_map_lng")] == ["经度"]
    at.selectbox(key=f"ld_crs_{upload.file_id}").set_value("gcj02").run()
    assert not at.exception
    metrics_ = {m.label: m.value for m in at.metric}
    assert metrics_ == {"Rows read": f"{len(truth) + 1}", "Accepted": f"{len(truth)}", "Rejected": "1"}
    rejected = [d.value for d in at.dataframe if "name" in d.value.columns]
    assert rejected and rejected[0]["name"].tolist() == ["<b>北京</b>的店"]
    at.button(key="ld_use").click().run()
    try:
        assert not at.exception
        dataset = at.session_state["dataset"]
        assert dataset.simulated is False and dataset.label_en == "imported: 上传.csv (residents simulated)"
        folder = dataset.facilities_path.parent
        assert folder.parent == workspace.SESSION_ROOT
        assert len(pd.read_csv(dataset.facilities_path)) == len(truth)
        assert any("Imported data in use" in s.value for s in at.success)
        assert ABSENT in dataset.types_without_data
    finally:
        if "dataset" in at.session_state:
            shutil.rmtree(at.session_state["dataset"].facilities_path.parent, ignore_errors=True)
