"""Shared fixtures: a previously loaded workspace, and the guard that hashes the shipped data and that
workspace before and after a test (nothing a hostile input does may change a byte of either)."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest

from circle import importers, workspace
from circle.sources import CACHE_DIR, DATA_DIR
from tests.hardening.corpus import POINTS

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{3,}")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_tree(folder: Path, deep: bool = True) -> dict[str, str]:
    """File → sha256 for every file under ``folder``. With ``deep=False`` the big index files
    (``*.npz``) are fingerprinted by size, mtime and inode instead (they are hashed in full once per
    session): a rewrite or a replacement changes those."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        rel = str(p.relative_to(folder))
        if not deep and p.suffix == ".npz":
            st = p.stat()
            out[rel] = f"stat:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"
        else:
            out[rel] = sha256(p)
    return out


def assert_bilingual(zh: str, en: str) -> None:
    """One message in Chinese and one in English, neither a traceback."""
    assert CJK.search(zh), f"no Chinese in {zh!r}"
    assert LATIN.search(en), f"no English in {en!r}"
    for text in (zh, en):
        assert "Traceback" not in text and 'File "' not in text


@pytest.fixture(scope="session")
def previous_workspace(tmp_path_factory):
    """A workspace loaded before the hostile inputs arrive (with its own index), read only after."""
    folder = tmp_path_factory.mktemp("previous") / "ws"
    rows = [{"名称": f"之前的店{i + 1}", "经度": lng, "纬度": lat, "类型": "便利店" if i % 2 else "药店"}
            for i, (lat, lng) in enumerate(POINTS[:12])]
    path = folder.parent / "previous.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    ws, _ = workspace.save_import(importers.import_file(path, crs="wgs84"), folder)
    deep = hash_tree(ws.folder)
    yield ws
    assert hash_tree(ws.folder) == deep, "the previously loaded workspace changed"


@pytest.fixture(scope="session")
def shipped_hashes():
    """data/** and the shipped cache, hashed in full once; compared in full at the end."""
    data = hash_tree(DATA_DIR)
    cache = hash_tree(CACHE_DIR) if CACHE_DIR.is_dir() else {}
    yield data
    assert hash_tree(DATA_DIR) == data
    after = hash_tree(CACHE_DIR) if CACHE_DIR.is_dir() else {}
    assert {k: after.get(k) for k in cache} == cache, "a shipped index file was rewritten"


@pytest.fixture()
def guard(shipped_hashes, previous_workspace):
    """Hash data/** (in full) and the previous workspace before and after the test."""
    ws_before = hash_tree(previous_workspace.folder, deep=False)
    yield previous_workspace
    assert hash_tree(DATA_DIR) == shipped_hashes, "the shipped data changed"
    assert hash_tree(previous_workspace.folder, deep=False) == ws_before, "the previous workspace changed"
