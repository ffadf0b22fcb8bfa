"""circle.exports: CSV and GeoJSON downloads with metadata, equal to the engine's numbers."""
from __future__ import annotations

import json
import math

import h3
import numpy as np
import pandas as pd
import pytest

import circle
from circle import exports, metrics


@pytest.fixture(scope="module")
def index():
    return circle.load_index()


@pytest.fixture(scope="module")
def cells(index):
    return exports.read_csv_bytes(exports.cells_csv(index))


@pytest.fixture(scope="module")
def geojson_bytes(index):
    return exports.cells_geojson(index)


@pytest.fixture(scope="module")
def geojson(geojson_bytes):
    return json.loads(geojson_bytes.decode("utf-8"))


def test_csv_starts_with_header(index):
    data = exports.cells_csv(index)
    text = data.decode(exports.CSV_ENCODING)
    assert text.startswith("hex,lat,lng,district_code,district,")
    assert not text.startswith("#")


def test_cells_cover_every_resident(index, cells):
    assert cells["population"].sum() == pytest.approx(index.population.sum(), abs=1.0)
    assert cells["hex"].is_unique
    assert (cells["hex"].str.len() == 15).all()
    assert len(cells) < 10_000


def test_csv_numbers_equal_the_engine(index, cells):
    rng = np.random.default_rng(3)
    sample = cells[cells["population"] > 0].sample(5, random_state=1)
    sample = pd.concat([sample, cells.iloc[rng.choice(len(cells), 5, replace=False)]])
    for row in sample.itertuples():
        pos = int(index.grid.position_of(np.array([h3.str_to_int(row.hex)], dtype=np.uint64))[0])
        profile = index.profile_of_cell(pos)
        assert row.district == profile.district and row.street == profile.street
        assert row.circles_covered == profile.circles_covered
        assert row.pt_minutes == pytest.approx(profile.pt_minutes, abs=0.06)
        for type_id, access in profile.types.items():
            value = getattr(row, f"minutes_{type_id}")
            if access.minutes is None:
                assert math.isnan(value)
            else:
                assert value == pytest.approx(access.minutes, abs=0.051), type_id


def test_geojson_is_valid_and_matches_the_csv(cells, geojson):
    assert geojson["type"] == "FeatureCollection"
    features = geojson["features"]
    assert len(features) == len(cells)
    assert [f["properties"]["hex"] for f in features] == cells["hex"].tolist()
    for f in features[:200]:
        ring = f["geometry"]["coordinates"][0]
        assert f["geometry"]["type"] == "Polygon" and len(ring) == 7 and ring[0] == ring[-1]
        lng, lat = ring[0]
        assert 106.3 < lng < 107.3 and 39.0 < lat < 40.0  # [lng, lat] order
        clat, clng = h3.cell_to_latlng(f["properties"]["hex"])
        assert abs(np.mean([p[1] for p in ring[:-1]]) - clat) < 0.001
    # NaN is not JSON: beyond-reach minutes are null
    props = [f["properties"] for f in features]
    assert any(v is None for p in props for v in p.values())


def test_geojson_size(geojson_bytes):
    assert len(geojson_bytes) < 10_000_000


def test_summary_csv_equals_metrics(index):
    for by in ("district", "street"):
        table = exports.read_csv_bytes(exports.summary_csv(index, by))
        want = metrics.summary(index, by)
        assert table["population"].tolist() == want["population"].tolist()
        assert np.allclose(table["share_all_circles"], want["share_all_circles"], atol=5e-5)
        assert list(table.columns) == exports.SUMMARY_COLUMNS


@pytest.mark.parametrize("export_id", list(exports.EXPORTS))
def test_every_export_has_metadata(index, export_id):
    data, meta_bytes = exports.build(export_id, index)
    assert len(data) > 100
    meta = json.loads(meta_bytes)
    for key in ("file", "source", "method", "simulated", "generated_at", "app_version"):
        assert key in meta
    assert meta["simulated"] is True
    assert meta["app_version"] == circle.__version__
    assert meta["file"] == exports.EXPORTS[export_id].file_name
    assert exports.EXPORTS[export_id].metadata_name.endswith("_metadata.json")
    if "rows" in meta and exports.EXPORTS[export_id].mime == "text/csv":
        assert len(exports.read_csv_bytes(data)) == meta["rows"]


def test_progress_table(index):
    table = exports.progress_table(index, "street", None, "en")
    assert list(table.columns[:3]) == ["name", "district", "population"]
    assert table["share_all_circles"].between(0, 1).all()
    assert table["name"].str.contains("Subdistrict|Town").any()


def test_parse_table_params():
    assert exports.parse_table_params({}) == ("district", None, [])
    assert exports.parse_table_params({"by": "street", "speed": "3.6"}) == ("street", 3.6, [])
    assert exports.parse_table_params({"by": "planet", "speed": "abc"}) == ("district", None, ["by=planet", "speed=abc"])
