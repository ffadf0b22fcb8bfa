"""The briefing deck: content from the engine and the official figures, PPTX and PDF with the same
pages, speaker notes with sources, the page (AppTest) and the command line."""
from __future__ import annotations

import io
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

import circle
from circle import briefing, charts, facts, metrics
from circle.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
WHEN = datetime(2026, 5, 1, tzinfo=timezone.utc)
STORY = ["why", "built", "journey", "circles", "districts", "map", "gaps_streets", "gaps_types", "next"]


@pytest.fixture(scope="module")
def index():
    return circle.load_index()


@pytest.fixture(scope="module")
def deck(index):
    return briefing.build_deck(index, "zh", generated=WHEN)


@pytest.fixture(scope="module")
def pptx_bytes(deck):
    return briefing.export(deck, "pptx")


@pytest.fixture(scope="module")
def pdf_bytes(deck):
    return briefing.export(deck, "pdf")


def _pdf_pages(data: bytes) -> int:
    try:
        from pypdf import PdfReader
    except ImportError:  # count page objects by hand
        return len(re.findall(rb"/Type\s*/Page(?!s)", data))
    return len(PdfReader(io.BytesIO(data)).pages)


def test_deck_tells_the_story_with_one_chart_per_slide(deck):
    assert [s.key for s in deck.slides] == STORY
    for s in deck.slides:
        assert s.title and s.headline and s.headline_label
        assert s.chart_id in charts.REGISTRY
        assert s.source and ("来源" in s.notes)
        assert s.source in s.notes
    assert "static-coverage-map" in [s.chart_id for s in deck.slides]


def test_headlines_are_the_official_and_computed_numbers(index, deck):
    slides = {s.key: s for s in deck.slides}
    assert slides["why"].headline == facts.figure("residents_served").display("zh")
    assert slides["next"].headline == facts.figure("tasks_2024").display("zh")
    city = metrics.summary(index, "city").iloc[0]
    assert slides["circles"].headline == f"{city['share_all_circles'] * 100:.0f}%"
    assert slides["gaps_streets"].headline == f"{int(city['residents_not_all_circles']):,}"
    # Computed slides say they rest on simulated data; official ones do not.
    assert slides["circles"].simulated and not slides["why"].simulated
    assert "模拟" in slides["circles"].notes


def test_district_focus_and_english(index):
    deck = briefing.build_deck(index, "en", "海南区", generated=WHEN)
    assert len(deck) == len(STORY)
    slides = {s.key: s for s in deck.slides}
    assert "Hainan" in slides["circles"].title
    assert slides["map"].chart_filters.get("district") == "海南区"
    assert slides["districts"].chart_id == "street-coverage"
    hainan = metrics.summary(index, "district").set_index("name_zh").loc["海南区"]
    assert slides["circles"].headline == f"{hainan['share_all_circles'] * 100:.0f}%"
    assert "Sources:" in slides["circles"].notes and "SIMULATED" in slides["circles"].notes


def test_bad_district_is_rejected(index):
    with pytest.raises(ValueError, match="no such district"):
        briefing.build_deck(index, "zh", "火星区")


def test_pptx_has_the_slides_titles_pictures_and_notes(deck, pptx_bytes):
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    prs = Presentation(io.BytesIO(pptx_bytes))
    assert len(prs.slides) == len(deck)
    for slide, data in zip(prs.slides, deck.slides):
        texts = [sh.text_frame.text for sh in slide.shapes if sh.has_text_frame]
        assert data.title in texts
        assert data.headline in texts
        assert any(data.source in t for t in texts)  # the source line is on the slide
        pictures = [sh for sh in slide.shapes if sh.shape_type == MSO_SHAPE_TYPE.PICTURE]
        assert len(pictures) == 1 and pictures[0].image.blob.startswith(b"\x89PNG")
        notes = slide.notes_slide.notes_text_frame.text
        assert "来源" in notes and data.source in notes
    first = prs.slides[0]
    assert any(facts.ARTICLE_SOURCE in sh.text_frame.text for sh in first.shapes if sh.has_text_frame)


def test_pdf_has_the_slides_then_their_notes(deck, pdf_bytes):
    assert pdf_bytes.startswith(b"%PDF")
    assert _pdf_pages(pdf_bytes) == 2 * len(deck)  # the slides, then one notes page per slide


def test_pdf_notes_pages_hold_every_source(index):
    """The appendix carries what the PPTX keeps in its notes (English: text extracts reliably)."""
    pypdf = pytest.importorskip("pypdf")
    deck = briefing.build_deck(index, "en", generated=WHEN)
    reader = pypdf.PdfReader(io.BytesIO(briefing.export(deck, "pdf")))
    notes_pages = [" ".join(page.extract_text().split()) for page in reader.pages[len(deck):]]
    assert len(notes_pages) == len(deck)
    for i, (slide, text) in enumerate(zip(deck.slides, notes_pages)):
        assert f"slide {i + 1}" in text and "Sources" in text
        for source_line in (slide.headline_source, slide.source):
            words = " ".join(source_line.split())[:40]
            assert words in text, (i, words)


def test_cli_writes_pptx_and_pdf(tmp_path, capsys):
    out = tmp_path / "deck.pdf"
    assert main(["briefing", "--out", str(out), "--lang", "en", "--district", "Wuda"]) == 0
    assert out.read_bytes().startswith(b"%PDF") and _pdf_pages(out.read_bytes()) == 2 * len(STORY)
    assert "9 slides" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["briefing", "--out", "deck.docx"],
    ["briefing", "--out", "deck.pptx", "--district", "Atlantis"],
    ["briefing", "--out", "deck.pptx", "--lang", "fr"],
    ["briefing"],
    ["briefing", "--out", "/no/such/folder/deck.pptx"],
])
def test_cli_rejects_bad_arguments_with_one_bilingual_line(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert re.search(r"[\u4e00-\u9fff]", err) and re.search(r"[A-Za-z]{4}", err)
    assert not list(tmp_path.iterdir())


def test_briefing_page_moves_by_url_and_buttons():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300)
    at.query_params["slide"] = "4"
    at.switch_page("pages/briefing.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.markdown[0].value.endswith("的覆盖情况")
    at.button(key="brief_next").click().run()
    assert at.query_params["slide"] == "5"
    at.button(key="brief_prev").click().run()
    at.button(key="brief_prev").click().run()
    assert at.query_params["slide"] == "3"
    assert len(at.get("vega_lite_chart")) == 1
    assert len(at.get("download_button")) == 2
    at.selectbox(key="brief_district").select("乌达区").run()
    assert at.query_params["district"] == "乌达区" and at.query_params["slide"] == "1"
    assert not at.exception


def test_briefing_page_rejects_bad_url_values():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300)
    at.query_params["slide"] = "ninety"
    at.query_params["district"] = "Atlantis"
    at.switch_page("pages/briefing.py")
    at.run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "slide" in warnings and "district" in warnings and "Invalid link parameter" in warnings
    assert at.query_params["slide"] == "1" and "district" not in at.query_params
