"""Where the project's data lives, and reading it with its provenance.

Every dataset sits in a folder of ``data/`` with a ``SOURCES.md`` beside it. This module is the one
place that knows those paths, so nothing else hard-codes them.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
REFERENCE_DIR = DATA_DIR / "reference"
TAXONOMY_DIR = DATA_DIR / "taxonomy"
SAMPLE_DIR = DATA_DIR / "sample"
OFFICIAL_DIR = DATA_DIR / "official"
CACHE_DIR = PROJECT_ROOT / ".cache"

CITY_OUTLINE = REFERENCE_DIR / "wuhai_city_outline_wgs84.geojson"
DISTRICTS = REFERENCE_DIR / "wuhai_districts_wgs84.geojson"
RIVER = REFERENCE_DIR / "yellow_river_approx_wgs84.geojson"
PLACES = REFERENCE_DIR / "places.csv"
STREETS = REFERENCE_DIR / "wuhai_streets_nbs2023.csv"
COMMUNITIES = REFERENCE_DIR / "wuhai_communities_nbs2023.csv"
POPULATION = REFERENCE_DIR / "wuhai_district_population.csv"
URBAN_EXTENTS = REFERENCE_DIR / "urban_extents.csv"
BRIDGES = REFERENCE_DIR / "bridges.csv"


@lru_cache(maxsize=None)
def read_geojson(path: Path) -> dict:
    """Read a GeoJSON file (cached: reference files never change while the process runs)."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_csv(path: Path, **kwargs) -> pd.DataFrame:
    """Read a UTF-8 CSV from ``data/`` (a fresh copy each call, so callers may mutate it)."""
    return pd.read_csv(path, encoding="utf-8", **kwargs)


def district_population() -> dict[str, int]:
    """Resident population by district name, end of 2021 (乌海市统计局 bulletin, 2022-03-18)."""
    table = read_csv(POPULATION, dtype={"adcode": str})
    table = table[table["adcode"] != "150300"]
    return {row.name: int(round(row.resident_pop_2021_end_10k * 10_000)) for row in table.itertuples()}
