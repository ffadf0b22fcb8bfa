"""The command line, run as a user would: ``python -m circle ...`` in a subprocess."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from circle import geo
from circle.taxonomy import circles, facility_types

ROOT = Path(__file__).resolve().parent.parent
OFFICE = ("39.674319", "106.816083")
GCJ = tuple(f"{v:.7f}" for v in geo.wgs84_to_gcj02(float(OFFICE[0]), float(OFFICE[1])))
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{4,}")
PROFILE_KEYS = {"inside", "lat", "lng", "cell", "district", "street", "speed_kmh", "types", "circles",
                "circles_covered", "pt_minutes"}
TYPE_KEYS = {"minutes", "nearest_id", "nearest_name", "nearest_lat", "nearest_lng", "count_15min"}

COMMANDS = {
    "json": ["lookup", *OFFICE, "--json"],
    "gcj": ["lookup", *GCJ, "--crs", "gcj02", "--json"],
    "slow": ["lookup", *OFFICE, "--speed", "3.6", "--json"],
    "outside": ["lookup", "40.5", "106.8", "--json"],
    "text": ["lookup", *OFFICE],
    "stats_csv": ["stats", "--by", "district", "--format", "csv"],
    "build": ["build"],
    "bad_number": ["lookup", "abc", "1"],
    "bad_lat": ["lookup", "95", "106"],
    "bad_crs": ["lookup", "39", "106", "--crs", "foo"],
    "bad_speed": ["lookup", "39", "106", "--speed", "0"],
    "bad_speed_text": ["lookup", "39", "106", "--speed", "fast"],
    "no_command": [],
    "bad_grouping": ["stats", "--by", "planet"],
    "unknown_command": ["frobnicate"],
}
BAD = ["bad_number", "bad_lat", "bad_crs", "bad_speed", "bad_speed_text", "no_command", "bad_grouping",
       "unknown_command"]


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "circle", *args], cwd=ROOT, capture_output=True,
                          text=True, encoding="utf-8", timeout=300)


@pytest.fixture(scope="module")
def runs():
    """Every command once, a few at a time (each loads the cached index in its own process)."""
    from circle.index import build_index

    build_index()  # make sure the on-disk cache is fresh before the processes start (no rebuilds)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(zip(COMMANDS, pool.map(_run, COMMANDS.values())))
    return results


def _profile(run) -> dict:
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, "--json prints exactly one line"
    return json.loads(lines[0])


def test_lookup_json(runs):
    data = _profile(runs["json"])
    assert PROFILE_KEYS <= set(data)
    assert data["inside"] is True and data["speed_kmh"] == 4.0
    assert data["district"] == "海勃湾区" and data["street"] == "凤凰岭街道"
    assert data["lat"] == pytest.approx(39.674319) and data["lng"] == pytest.approx(106.816083)
    assert set(data["types"]) == {t.id for t in facility_types()}
    for entry in data["types"].values():
        assert TYPE_KEYS <= set(entry)
    assert set(data["circles"]) == {c.id for c in circles()}
    assert data["circles_covered"] == sum(data["circles"].values())
    assert isinstance(data["pt_minutes"], float)


def test_lookup_json_equals_the_python_api(runs):
    import circle

    data = _profile(runs["json"])
    expected = json.loads(json.dumps(circle.load_index().lookup(39.674319, 106.816083).to_dict()))
    assert data == expected


def test_lookup_gcj02(runs):
    wgs, gcj = _profile(runs["json"]), _profile(runs["gcj"])
    assert gcj["cell"] == wgs["cell"]
    assert gcj["lat"] == pytest.approx(wgs["lat"], abs=1e-6) and gcj["lng"] == pytest.approx(wgs["lng"], abs=1e-6)
    assert gcj["types"] == wgs["types"]


def test_lookup_speed(runs):
    fast, slow = _profile(runs["json"]), _profile(runs["slow"])
    assert slow["speed_kmh"] == 3.6 and slow["cell"] == fast["cell"]
    m4 = fast["types"]["convenience_store"]["minutes"]
    assert slow["types"]["convenience_store"]["minutes"] == pytest.approx(m4 * 4.0 / 3.6, abs=0.02)


def test_lookup_outside_is_not_an_error(runs):
    data = _profile(runs["outside"])
    assert data["inside"] is False and data["cell"] is None
    assert runs["outside"].stderr.strip() == ""


def test_lookup_text(runs):
    run = runs["text"]
    assert run.returncode == 0, run.stderr
    assert "海勃湾区" in run.stdout and "凤凰岭街道" in run.stdout
    assert "convenience_store" in run.stdout


def test_stats_csv(runs):
    run = runs["stats_csv"]
    assert run.returncode == 0, run.stderr
    table = pd.read_csv(io.StringIO(run.stdout))
    assert len(table) == 3
    assert set(table["name_zh"]) == {"海勃湾区", "乌达区", "海南区"}
    assert table["population"].sum() == 558_100
    assert ((table["share_all_circles"] >= 0) & (table["share_all_circles"] <= 1)).all()


def test_build_prints_timings(runs):
    run = runs["build"]
    assert run.returncode == 0, run.stderr
    assert re.search(r"\d[\d,]* cells", run.stdout)
    timings = re.findall(r"^\s+(\w+)\s+([\d.]+) s$", run.stdout, flags=re.M)
    assert timings, run.stdout
    names = {name for name, _ in timings}
    assert "hash_inputs_s" in names and ({"load_cache_s", "total_s"} & names)


@pytest.mark.parametrize("name", BAD)
def test_bad_arguments(runs, name):
    run = runs[name]
    assert run.returncode == 2, (run.returncode, run.stdout, run.stderr)
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    assert CJK.search(lines[0]) and LATIN.search(lines[0]), lines[0]
    assert run.stdout.strip() == ""
