"""Size and row limits: set on purpose in three places that agree, said in the messages, and enforced
before anything big is parsed (a million-row file is refused in well under a second)."""
from __future__ import annotations

import io
import time
import tomllib
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from circle import importers
from circle.importers import ImportInputError
from tests.hardening.conftest import APP, ROOT, assert_bilingual
from tests.hardening.corpus import POINTS, million_rows_csv

QUICK_S = 5.0   # generous for a loaded machine; measured ≈ 0.05–0.3 s


def _config() -> dict:
    with open(ROOT / ".streamlit" / "config.toml", "rb") as f:
        return tomllib.load(f)


def test_upload_limit_agrees_in_config_code_and_widget():
    config = _config()
    assert config["server"]["maxUploadSize"] == importers.MAX_FILE_MB  # MB in both
    assert importers.MAX_FILE_BYTES == importers.MAX_FILE_MB * 1024 * 1024  # Streamlit's MB, too
    assert config["server"].get("maxMessageSize", 200) >= importers.MAX_FILE_MB
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/load_data.py")
    at.run()
    assert not at.exception
    uploader = at.get("file_uploader")[0].proto
    assert uploader.max_upload_size_mb == importers.MAX_FILE_MB
    assert f"{importers.MAX_FILE_MB} MB" in uploader.help
    assert f"{importers.MAX_FILE_MB} MB" in at.markdown[0].value  # the page says the limit up front


def test_limit_messages_say_the_limit():
    with pytest.raises(ImportInputError) as error:
        importers.check_size(importers.MAX_FILE_BYTES + 1)
    assert_bilingual(error.value.zh, error.value.en)
    assert f"上限为 {importers.MAX_FILE_MB} MB" in error.value.zh and f"limit is {importers.MAX_FILE_MB} MB" in error.value.en
    with pytest.raises(ImportInputError) as error:
        importers.check_rows(importers.MAX_ROWS + 1)
    assert f"{importers.MAX_ROWS:,}" in error.value.zh and f"{importers.MAX_ROWS:,}" in error.value.en
    with pytest.raises(ImportInputError) as error:
        importers.check_columns(importers.MAX_COLUMNS + 1)
    assert f"{importers.MAX_COLUMNS:,}" in error.value.en
    importers.check_size(importers.MAX_FILE_BYTES)  # exactly the limit is fine
    importers.check_rows(importers.MAX_ROWS)


@pytest.fixture()
def no_parsing(monkeypatch):
    """Fail the test if anything tries to parse the file."""
    def fail(*args, **kwargs):
        raise AssertionError("the file was parsed before the limit check")

    monkeypatch.setattr(importers.pd, "read_csv", fail)
    monkeypatch.setattr(importers.json, "loads", fail)
    return monkeypatch


def _refused_quickly(path: Path, expect: str) -> ImportInputError:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ImportInputError) as error:
            importers.read_file(path)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < QUICK_S, f"{path.name}: {elapsed:.2f} s"
    # At most the file's bytes (and a copy) in memory: never a parsed table.
    assert peak < 2 * path.stat().st_size + 32 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"
    assert expect in error.value.en, error.value.en
    assert_bilingual(error.value.zh, error.value.en)
    return error.value


def test_million_row_csv_refused_by_the_row_limit(tmp_path, no_parsing, guard):
    path = million_rows_csv(tmp_path / "million.csv")
    assert path.stat().st_size < importers.MAX_FILE_BYTES  # so it is the row limit that catches it
    error = _refused_quickly(path, f"the limit is {importers.MAX_ROWS:,} rows")
    assert "1,000,000" in error.en
    # the app's path: the bytes of an upload
    with pytest.raises(ImportInputError, match="rows"):
        importers.read_bytes(path.read_bytes(), "million.csv")


def test_million_row_csv_refused_by_the_size_limit(tmp_path, no_parsing, guard):
    path = million_rows_csv(tmp_path / "million_wide.csv", wide=True)
    assert path.stat().st_size > importers.MAX_FILE_BYTES
    no_parsing.setattr(Path, "read_bytes", lambda self: pytest.fail("read before the size check"))
    _refused_quickly(path, f"the limit is {importers.MAX_FILE_MB} MB")


def test_million_rows_with_old_mac_line_ends(tmp_path, no_parsing, guard):
    path = tmp_path / "million_cr.csv"
    path.write_bytes(b"n,x,y\r" + b"a,1,2\r" * 1_000_000)
    _refused_quickly(path, "rows")


def test_million_rows_utf16(tmp_path, no_parsing, guard):
    path = tmp_path / "million16.csv"
    path.write_bytes(b"\xff\xfe" + ("n\tx\ty\n" + "a\t1\t2\n" * 1_000_000).encode("utf-16-le"))
    assert path.stat().st_size < importers.MAX_FILE_BYTES
    _refused_quickly(path, "rows")


def _features(path: Path, n: int) -> Path:
    feature = b'{"type":"Feature","geometry":null,"properties":null},'
    with open(path, "wb") as f:
        f.write(b'{"type":"FeatureCollection","features":[')
        for _ in range(n // 10_000):
            f.write(feature * 10_000)
        f.write(b'{"type":"Feature","geometry":null,"properties":null}]}')
    return path


def test_million_feature_geojson(tmp_path, no_parsing, guard):
    path = _features(tmp_path / "million.geojson", 1_000_000)
    assert path.stat().st_size > importers.MAX_FILE_BYTES
    _refused_quickly(path, f"the limit is {importers.MAX_FILE_MB} MB")
    path = _features(tmp_path / "many.geojson", 300_000)  # under the size limit: counted, not parsed
    assert path.stat().st_size < importers.MAX_FILE_BYTES
    _refused_quickly(path, f"the limit is {importers.MAX_ROWS:,} rows")
    path = tmp_path / "million.json"
    path.write_bytes(b"[" + b"{}," * 1_000_000 + b"{}]")
    _refused_quickly(path, "too large")


def test_million_row_xlsx_refused_from_its_dimension(tmp_path, guard):
    """A sheet that declares a million rows is refused before its rows are read (the rows here are
    few: the declaration is what is checked first)."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["名称", "经度", "纬度", "类型"])
    lat, lng = POINTS[0]
    book.active.append(["店", lng, lat, "便利店"])
    buffer = io.BytesIO()
    book.save(buffer)
    src = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:D2"/>', b'<dimension ref="A1:D1000001"/>')
                assert b"D1000001" in data
            dst.writestr(info, data)
    path = tmp_path / "million.xlsx"
    path.write_bytes(out.getvalue())
    start = time.perf_counter()
    with pytest.raises(ImportInputError, match="1,000,000"):
        importers.read_file(path)
    assert time.perf_counter() - start < QUICK_S


def test_million_row_xlsx_streamed_is_a_zip_bomb(tmp_path, guard):
    """A real sheet of a million rows compresses ~100×: refused from its zip directory."""
    path = tmp_path / "rows.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            member.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            row = b'<row><c t="inlineStr"><is><t>a</t></is></c><c><v>106.8</v></c><c><v>39.6</v></c></row>'
            for _ in range(100):
                member.write(row * 10_000)
            member.write(b"</sheetData></worksheet>")
    start = time.perf_counter()
    with pytest.raises(ImportInputError, match="zip bomb"):
        importers.read_file(path)
    assert time.perf_counter() - start < QUICK_S


def test_page_says_the_row_limit(tmp_path, monkeypatch, guard):
    import streamlit
    from streamlit.testing.v1 import AppTest

    from tests.hardening.test_corpus import FakeUpload

    data = million_rows_csv(tmp_path / "m.csv").read_bytes()
    monkeypatch.setattr(streamlit, "file_uploader", lambda *a, **k: FakeUpload("m.csv", data))
    monkeypatch.setattr(importers.pd, "read_csv", lambda *a, **k: pytest.fail("parsed"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/load_data.py")
    at.run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "200,000" in errors and "行" in errors and "rows" in errors


def test_config_is_deliberate():
    """The other server settings that bound what a visitor can do or learn."""
    config = _config()
    assert config["client"]["showErrorDetails"] in ("none", False)  # no tracebacks for visitors
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["enableStaticServing"] is False
