"""Determinism and safety of outputs.

* The same inputs and parameters give a byte-identical index file (built twice, into two fresh cache
  folders, once in another process with another hash seed) and identical exports.
* A failed build or import leaves the previous index and workspace in place (write then rename).
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from circle import chart_export, charts, exports, importers, workspace
from circle import index as index_mod
from circle.index import DEFAULT_DATASET, Params, build_index
from tests.hardening.conftest import ROOT, hash_tree, sha256
from tests.hardening.corpus import POINTS

FIXED = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def _npz(folder: Path) -> dict[str, str]:
    return {p.name: sha256(p) for p in sorted(folder.glob("*.npz"))}


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory):
    """The default data set built from scratch twice: here, and in a subprocess with another
    PYTHONHASHSEED (set and dict order must not leak into the file)."""
    a, b = tmp_path_factory.mktemp("build_a"), tmp_path_factory.mktemp("build_b")
    index_a = build_index(DEFAULT_DATASET, Params(), cache_dir=a, force=True)
    code = ("import sys; from pathlib import Path; from circle.index import DEFAULT_DATASET, Params, build_index; "
            "build_index(DEFAULT_DATASET, Params(), cache_dir=Path(sys.argv[1]), force=True)")
    run = subprocess.run([sys.executable, "-c", code, str(b)], cwd=ROOT, capture_output=True, text=True,
                         timeout=600, env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert run.returncode == 0, run.stderr
    index_b = build_index(DEFAULT_DATASET, Params(), cache_dir=b)  # loaded from b's file
    assert "load_cache_s" in index_b.timings
    return a, b, index_a, index_b


def test_index_file_is_byte_identical(two_builds):
    a, b, index_a, index_b = two_builds
    files_a, files_b = _npz(a), _npz(b)
    assert len(files_a) == 2 and {n.split("-")[0] for n in files_a} == {"grid", "index"}
    assert files_a == files_b, "the same inputs gave different index files"
    assert index_a.key == index_b.key
    # and what is in them is equal, array by array
    assert np.array_equal(index_a.dist_m, index_b.dist_m)
    assert np.array_equal(index_a.nearest, index_b.nearest)


def test_workspace_index_is_byte_identical(tmp_path, previous_workspace):
    """Another data set (an import): built twice, the same bytes."""
    dataset = previous_workspace.dataset()
    for name in ("x", "y"):
        build_index(dataset, Params(speed_kmh=3.6), cache_dir=tmp_path / name, force=True)
    assert _npz(tmp_path / "x") == _npz(tmp_path / "y")
    assert [n for n in _npz(tmp_path / "x") if n.startswith("index-")]


@pytest.mark.parametrize("export_id", list(exports.EXPORTS))
def test_exports_are_identical(two_builds, export_id):
    _, _, index_a, index_b = two_builds
    assert exports.file_bytes(export_id, index_a) == exports.file_bytes(export_id, index_b)
    meta_a = json.loads(exports.metadata_bytes(export_id, index_a))
    meta_b = json.loads(exports.metadata_bytes(export_id, index_b))
    meta_a.pop("generated_at"), meta_b.pop("generated_at")
    assert meta_a == meta_b


@pytest.mark.parametrize("chart_id", ["district-coverage", "type-coverage", "residents-served"])
def test_chart_exports_are_identical(two_builds, chart_id):
    """Chart CSV, metadata (but its generated time) and SVG (with a fixed date) are the same."""
    _, _, index_a, index_b = two_builds
    a = charts.build_chart(chart_id, index_a, "zh")
    b = charts.build_chart(chart_id, index_b, "zh")
    assert chart_export.export(a, "csv") == chart_export.export(b, "csv")
    meta_a = json.loads(chart_export.export(a, "json"))
    meta_b = json.loads(chart_export.export(b, "json"))
    meta_a.pop("generated_utc"), meta_b.pop("generated_utc")
    assert meta_a == meta_b
    assert chart_export.export(a, "json", generated=FIXED) == chart_export.export(b, "json", generated=FIXED)
    assert chart_export.export(a, "svg", generated=FIXED) == chart_export.export(b, "svg", generated=FIXED)


def test_same_import_gives_the_same_workspace(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("名称,经度,纬度,类型\n" + "".join(f"店{i},{lng},{lat},便利店\n" for i, (lat, lng) in enumerate(POINTS[:8])),
                    encoding="utf-8")
    hashes = []
    for name in ("one", "two"):
        ws, _ = workspace.save_import(importers.import_file(path, crs="wgs84"), tmp_path / name)
        tree = hash_tree(ws.folder)
        info = ws.info()
        assert info.pop("created")
        tree["dataset.json"] = hashlib.sha256(json.dumps(info, sort_keys=True).encode()).hexdigest()
        hashes.append(tree)
    assert hashes[0] == hashes[1]


# --- a failed build or import leaves the previous one in place -------------------------------------

def _boom(*args, **kwargs):
    raise RuntimeError("simulated failure in the middle of the build")


def test_failed_build_keeps_the_previous_index(tmp_path, monkeypatch):
    build_index(DEFAULT_DATASET, Params(), cache_dir=tmp_path)
    before = _npz(tmp_path)
    index_file = next(tmp_path.glob("index-*.npz"))
    monkeypatch.setattr(index_mod, "compute_access", _boom)
    with pytest.raises(RuntimeError, match="simulated"):
        build_index(DEFAULT_DATASET, Params(), cache_dir=tmp_path, force=True)
    assert _npz(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(before)  # no partial or temporary file
    monkeypatch.undo()
    again = build_index(DEFAULT_DATASET, Params(), cache_dir=tmp_path)
    assert "load_cache_s" in again.timings and index_file.exists()  # the old file loads
    assert again.lookup(39.6743, 106.8161).inside


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    """The disk fills up half way through writing the new index: the old one stays, whole."""
    build_index(DEFAULT_DATASET, Params(), cache_dir=tmp_path)
    before = _npz(tmp_path)
    real_savez = np.savez

    def half_then_fail(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(index_mod.np, "savez", half_then_fail)
    with pytest.raises(OSError):
        build_index(DEFAULT_DATASET, Params(), cache_dir=tmp_path, force=True)
    monkeypatch.setattr(index_mod.np, "savez", real_savez)
    assert _npz(tmp_path) == before
    assert not list(tmp_path.glob("*.tmp"))
    assert "load_cache_s" in build_index(DEFAULT_DATASET, Params(), cache_dir=tmp_path).timings


def test_failed_import_keeps_the_previous_workspace(tmp_path, monkeypatch):
    folder = tmp_path / "ws"
    first = tmp_path / "first.csv"
    first.write_text("名称,经度,纬度,类型\n" + "".join(f"店{i},{lng},{lat},便利店\n" for i, (lat, lng) in enumerate(POINTS[:6])),
                     encoding="utf-8")
    ws, _ = workspace.save_import(importers.import_file(first, crs="wgs84"), folder)
    before = hash_tree(folder)
    second = tmp_path / "second.csv"
    second.write_text("名称,经度,纬度,类型\n" + "".join(f"药{i},{lng},{lat},药店\n" for i, (lat, lng) in enumerate(POINTS[6:14])),
                      encoding="utf-8")
    monkeypatch.setattr(index_mod, "compute_access", _boom)  # fails inside build_index, mid-import
    with pytest.raises(RuntimeError, match="simulated"):
        workspace.save_import(importers.import_file(second, crs="wgs84"), folder)
    assert hash_tree(folder) == before
    assert not [p for p in folder.iterdir() if p.name.startswith(".staging-")]
    monkeypatch.undo()
    index = workspace.open_workspace(folder).load_index()
    assert "load_cache_s" in index.timings and len(index.facilities) == 6
