"""The corpus of bad inputs through the importers and through the Load data page.

Each case: a clear message in Chinese and English (the importer's own ImportInputError, or a report
whose rejections and warnings say what happened), never another exception, and the shipped data
and the previously loaded workspace unchanged (the ``guard`` fixture hashes them)."""
from __future__ import annotations

import time

import numpy as np
import pytest

from circle import importers, workspace
from circle.importers import ImportInputError
from tests.hardening.conftest import APP, CJK, LATIN, ROOT, assert_bilingual
from tests.hardening.corpus import CASES

SECONDS_PER_CASE = 15.0   # generous (a loaded CI machine); the slowest case takes well under a second


def run_importer(data: bytes, name: str, crs: str = "auto"):
    """What the app does with an upload: read, then validate with the guessed mapping."""
    raw = importers.read_bytes(data, name)
    return importers.validate(raw, None, crs)


def test_corpus_is_big_enough():
    assert len(CASES) >= 60
    assert {"error", "report", "either"} >= {c.expect for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_importer(case, guard):
    data = case.make()
    start = time.perf_counter()
    try:
        outcome = run_importer(data, case.name, case.crs)
    except ImportInputError as error:
        outcome = error
    elapsed = time.perf_counter() - start
    assert elapsed < SECONDS_PER_CASE, f"{case.id} took {elapsed:.1f} s"

    if isinstance(outcome, ImportInputError):
        assert case.expect in ("error", "either"), f"{case.id}: refused, but should be read: {outcome}"
        assert_bilingual(outcome.zh, outcome.en)
        assert str(outcome) == f"{outcome.zh} / {outcome.en}"
        assert outcome.message("zh") == outcome.zh and outcome.message("en") == outcome.en
        return

    assert case.expect in ("report", "either"), f"{case.id}: should be refused, got a report"
    report = outcome.report
    assert report.rows_read == report.accepted + report.rejected_count
    assert report.accepted == len(outcome.facilities)
    assert_bilingual(report.summary("zh"), report.summary("en"))
    assert "导入报告" in report.summary("zh") and "Import report" in report.summary("en")
    for zh, en in report.warnings:
        assert_bilingual(zh, en)
    frame = report.to_frame()
    assert all(CJK.search(r) for r in frame["reason_zh"]) and all(LATIN.search(r) for r in frame["reason_en"])
    for reason in case.reasons:
        assert report.reason_counts().get(reason, 0) > 0, (case.id, reason, report.reason_counts())
    if case.accepted is not None:
        assert report.accepted == case.accepted, (case.id, report.reason_counts())
    if case.warning:
        assert any(case.warning in en for _, en in report.warnings), [en for _, en in report.warnings]
    fac = outcome.facilities
    if len(fac):
        lat, lng = fac["lat"].to_numpy(float), fac["lng"].to_numpy(float)
        assert np.isfinite(lat).all() and np.isfinite(lng).all()
        assert importers.inside_wuhai(lat, lng).all()
        assert fac["type"].isin([t for t in importers._type_by_id()]).all()
        assert fac["id"].is_unique
        for name in list(fac["name_zh"]) + list(fac["name_en"]):
            assert len(name) <= importers.MAX_NAME_CHARS
            assert not importers._CONTROL.search(name) and "\n" not in name
    for name in case.names:  # payloads come through as literal text, not stripped or escaped
        assert name in set(fac["name_zh"]) | set(report.rejected["name"]), (case.id, name)


def test_report_numbers_are_plain(guard):
    """NaN and infinity never reach the numbers of a report (JSON-safe)."""
    import json

    for case in CASES:
        if case.id not in ("nan-inf-coordinates", "geojson-nan-inf", "out-of-range"):
            continue
        result = run_importer(case.make(), case.name)
        json.dumps(result.report.to_dict(), allow_nan=False)
        assert all(isinstance(v, str) for v in result.report.rejected["detail"])


# --- the same corpus through the Load data page ----------------------------------------------------

class FakeUpload:
    """What st.file_uploader returns (AppTest cannot upload files)."""

    def __init__(self, name: str, data: bytes):
        self.name, self._data, self.size = name, data, len(data)
        self.file_id = f"fake-{abs(hash((name, data)))}"

    def getvalue(self) -> bytes:
        return self._data


def _texts(elements) -> list[str]:
    return [e.value for e in elements]


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_load_data_page(lang, monkeypatch, guard):
    """Every case uploaded on the Load data page, with a workspace already in use: no exception, the
    refusal in both languages (or the report), and the workspace still in use afterwards."""
    import streamlit
    from streamlit.testing.v1 import AppTest

    current = {"upload": None}
    monkeypatch.setattr(streamlit, "file_uploader", lambda *a, **k: current["upload"])
    dataset = guard.dataset()
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["dataset"] = dataset
    at.switch_page("pages/load_data.py")
    at.run()
    assert not at.exception
    for case in CASES:
        data = case.make()
        current["upload"] = FakeUpload(case.name, data)
        at.run()
        assert not at.exception, (case.id, [e.value for e in at.exception])
        errors = _texts(at.error)
        try:
            expected = run_importer(data, case.name, "auto")
        except ImportInputError as error:
            expected = error
        if isinstance(expected, ImportInputError):
            # the page shows the importer's own refusal, Chinese then English
            shown = [e for e in errors if CJK.search(e) and LATIN.search(e)]
            assert shown, (case.id, errors)
        else:
            metrics = {m.label: m.value for m in at.metric}
            assert len(metrics) == 3 and f"{expected.report.rows_read:,}" in metrics.values(), (case.id, metrics)
            if expected.report.accepted == 0:
                assert any(CJK.search(e) and LATIN.search(e) for e in errors), (case.id, errors)
        for element in list(at.markdown) + list(at.caption) + list(at.warning) + list(at.error) + list(at.info):
            assert "<script" not in element.value.replace("\\<", ""), (case.id, element.value[:200])
        assert at.session_state["dataset"] == dataset, case.id  # the loaded data set is still in use


def test_failed_build_on_use_keeps_the_data_in_use(monkeypatch, guard):
    """“Use this data” when the server fails half way (here: the index build): a bilingual message,
    no exception, and the data set in use (the previous workspace) still in use and unchanged."""
    import streamlit
    from streamlit.testing.v1 import AppTest

    from circle import index as index_mod
    from tests.hardening import payloads

    upload = FakeUpload("good.csv", payloads.csv_bytes())
    monkeypatch.setattr(streamlit, "file_uploader", lambda *a, **k: upload)

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(index_mod, "compute_access", boom)
    dataset = guard.dataset()
    # the page file itself (AppTest does not deliver a button click through st.navigation)
    at = AppTest.from_file(str(ROOT / "pages" / "load_data.py"), default_timeout=300)
    at.session_state["dataset"] = dataset
    at.run()
    assert not at.exception
    leftovers = set(workspace.SESSION_ROOT.glob("ws-*"))
    at.button(key="ld_use").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = " ".join(e.value for e in at.error)
    assert "导入失败" in errors and "import failed" in errors
    assert at.session_state["dataset"] == dataset
    assert set(workspace.SESSION_ROOT.glob("ws-*")) <= leftovers  # the half-made session folder is gone
