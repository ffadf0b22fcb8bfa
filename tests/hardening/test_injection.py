"""Names from data files are text everywhere: markdown, tables, map tooltips, charts and exports.

A workspace whose facility names (and file name) carry script, event-handler, link, markdown and
formula payloads is loaded into every page (AppTest) and into every export. The browser test
(tests/browser/test_injection.py) then checks that no script runs in a real browser."""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from circle import chart_export, charts, exports, importers, workspace
from tests.hardening import payloads
from tests.hardening.conftest import APP

PAGES = ("story", "my_circle", "city_map", "progress", "data_methods", "load_data", "whatif", "gallery",
         "briefing", "chart")
UNESCAPED_TAG = re.compile(r"(?<!\\)<\s*/?\s*(script|img|svg|iframe|a|b|style|details)\b", re.I)
FORMULA = re.compile(r"^[=@\t\r]|^[+-][^\d.]")


@pytest.fixture(scope="module")
def payload_ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("payload")
    path = folder / "payloads.csv"
    path.write_bytes(payloads.csv_bytes())
    result = importers.import_file(path, crs="wgs84", name=payloads.FILE_NAME)
    assert result.report.accepted == len(payloads.PAYLOADS), result.report.reason_counts()
    ws, _ = workspace.save_import(result, folder / "ws")
    return ws


@pytest.fixture(scope="module")
def payload_index(payload_ws):
    return payload_ws.load_index()


def run(page: str, dataset, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["dataset"] = dataset
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def markdown_texts(at: AppTest) -> list[str]:
    """Everything Streamlit renders as markdown (HTML in these would be interpreted or stripped)."""
    out = []
    for kind in ("markdown", "caption", "warning", "error", "info", "success", "title", "header", "subheader"):
        out += [str(e.value) for e in getattr(at, kind)]
    out += [str(e.value) for e in at.sidebar.caption]
    out += [str(e.label) for e in at.expander]
    return out


def assert_escaped(texts: list[str]) -> None:
    for text in texts:
        assert not UNESCAPED_TAG.search(text), text[:300]
        assert "](javascript:" not in text and "](http://127.0.0.1:9" not in text, text[:300]


def deck_specs(at: AppTest) -> list[dict]:
    out = []
    for chart in at.get("deck_gl_json_chart"):
        tooltip = json.loads(chart.proto.tooltip) if chart.proto.tooltip else None
        assert tooltip in (None, False) or set(tooltip) == {"text"}, tooltip  # never {"html": ...}
        out.append(json.loads(chart.proto.json))
    return out


def test_payloads_are_imported_as_literal_text(payload_ws):
    facilities = pd.read_csv(payload_ws.facilities_path, dtype=str, keep_default_na=False)
    assert sorted(facilities["name_zh"]) == sorted(payloads.PAYLOADS)
    assert payload_ws.info()["source_file"] == payloads.FILE_NAME


def test_my_circle(payload_ws):
    lat, lng = payloads.CENTRE
    at = run("my_circle", payload_ws.dataset(), lat=f"{lat:.6f}", lng=f"{lng:.6f}")
    assert_escaped(markdown_texts(at))
    from ui.common import md_escape

    assert any(md_escape(payload_ws.dataset().label_zh) in i.value for i in at.info)  # the banner, escaped
    # the profile table: the nearest facility of each payload type is a payload, shown as is
    table = [d.value for d in at.dataframe if "nearest" in d.value.columns][0]
    assert set(payloads.PAYLOADS) <= set(table["nearest"])
    # the map: the nearest facilities' tooltips hold the literal names, as text-only tooltips
    layers = {layer["id"]: layer for spec in deck_specs(at) for layer in spec["layers"]}
    labels = " ".join(row["label"] for row in layers["nearest"]["data"])
    for name in payloads.PAYLOADS:
        assert name in labels


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page(payload_ws, page, lang):
    at = run(page, payload_ws.dataset(), **({"lang": "en"} if lang == "en" else {}))
    assert_escaped(markdown_texts(at))
    deck_specs(at)
    for frame in (d.value for d in at.dataframe):
        for col in frame.columns:  # tables hold text as text: nothing stripped
            assert not any(isinstance(v, str) and "&lt;" in v for v in frame[col])


def test_whatif_map_labels(payload_ws):
    at = run("whatif", payload_ws.dataset())
    at.selectbox(key="wi_type").set_value("pharmacy").run()
    assert not at.exception
    layers = {layer["id"]: layer for spec in deck_specs(at) for layer in spec["layers"]}
    labels = [row["label"] for row in layers["facilities"]["data"]]
    assert payloads.PAYLOADS[2] in labels  # the pharmacy's name, exactly


def _csv_cells(data: bytes) -> list[str]:
    text = data.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


@pytest.mark.parametrize("export_id", list(exports.EXPORTS))
def test_exports(payload_index, export_id):
    data, meta = exports.build(export_id, payload_index)
    info = json.loads(meta)
    assert info["file"] == exports.EXPORTS[export_id].file_name
    if export_id == "cells_geojson":
        json.loads(data)
        return
    cells = _csv_cells(data)
    assert not [c for c in cells if FORMULA.match(c)], "a cell would run as a spreadsheet formula"
    if export_id == "facilities":
        table = exports.read_csv_bytes(data)
        names = [n.removeprefix("'") for n in table["name_zh"]]
        assert sorted(names) == sorted(payloads.PAYLOADS)  # literal (the formula one with its apostrophe)
        assert "'" + payloads.PAYLOADS[7] in set(table["name_zh"])


def test_metadata_carries_the_label_as_data(payload_index):
    meta = json.loads(exports.metadata_bytes("facilities", payload_index))
    assert payloads.FILE_NAME in json.dumps(meta, ensure_ascii=False)


def test_import_report_is_spreadsheet_safe(payload_ws, tmp_path):
    report = pd.read_csv(payload_ws.folder / "import_report.csv", dtype=str, encoding="utf-8-sig")
    assert report.empty or not report["name"].str.match(r"^[=+\-@]").any()


@pytest.mark.parametrize("chart_id", ["district-coverage", "type-coverage"])
def test_chart_exports(payload_index, chart_id):
    built = charts.build_chart(chart_id, payload_index, "zh")
    assert payloads.FILE_NAME in built.source_line  # the label is in the chart, as data
    svg = chart_export.export(built, "svg")
    root = ET.fromstring(svg)  # well-formed: the label's "<" is escaped
    tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
    assert not tags & {"script", "foreignObject", "iframe", "img"}
    for el in root.iter():
        assert not [a for a in el.attrib if a.lower().startswith("on")]
    assert "<img src=x" in "".join(root.itertext())  # shown literally, as text
    cells = _csv_cells(chart_export.export(built, "csv"))
    assert not [c for c in cells if FORMULA.match(c)]
    meta = json.loads(chart_export.export(built, "json"))
    assert payloads.FILE_NAME in meta["dataset"]
    assert chart_export.export(built, "png")[:8] == b"\x89PNG\r\n\x1a\n"


def test_briefing_deck_exports(payload_index):
    from circle import briefing

    deck = briefing.build_deck(payload_index, "zh")
    pptx = briefing.export(deck, "pptx")
    with zipfile.ZipFile(io.BytesIO(pptx)) as archive:
        for name in archive.namelist():
            if name.endswith(".xml"):
                ET.fromstring(archive.read(name))  # every part well-formed: text was escaped
                assert b"<script" not in archive.read(name)
