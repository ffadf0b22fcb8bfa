"""AppTest of the story (home) and My circle pages: both languages, URL parameters, clicks."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.elements.deck_gl_json_chart import PydeckState
from streamlit.testing.v1 import AppTest

from circle import load_index


def run(page: str | None = None, params: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "streamlit_app.py"), default_timeout=120)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("lang,title", [("zh", "一刻钟社区生活圈 乌海人的幸福坐标"),
                                        ("en", "The 15-minute life circle: where Wuhai's happiness is found")])
def test_story_in_both_languages(lang, title):
    at = run(params={"lang": lang} if lang == "en" else None)
    assert at.title[0].value == title
    # Official figures carry their tag; the computed part says it is simulated, in both languages.
    captions = " ".join(c.value for c in at.caption)
    assert ("官方" if lang == "zh" else "Official") in captions
    assert ("模拟" if lang == "zh" else "Simulated") in captions
    warning = " ".join(w.value for w in at.warning)
    assert "模拟数据" in warning and "simulated" in warning
    assert len(at.get("vega_lite_chart")) >= 3
    # The eight circles read 1 to 8 in page order (a phone stacks the columns in that order).
    text = "\n".join(m.value for m in at.markdown)
    positions = [text.find(f"**{n}. ") for n in range(1, 9)]
    assert -1 not in positions and positions == sorted(positions), positions
    # A published figure's card holds its label, its value and its official tag together.
    cards = [m.value for m in at.markdown if ("早餐" if lang == "zh" else "reakfast") in m.value and "###" in m.value]
    assert cards, "no card for the breakfast figure"
    card = next(c for c in cards[0].split("\n\n") if "早餐" in c or "reakfast" in c)
    assert "### 428" in card and ("官方" if lang == "zh" else "Official") in card


def test_story_computed_figure_equals_the_engine():
    from circle import metrics

    at = run()
    share = metrics.headline(load_index())["share_all_circles"]
    values = [m.value for m in at.metric]
    assert f"{share * 100:.1f}%" in values


@pytest.mark.parametrize("params,heading", [
    ({"place": "长青社区"}, "长青社区 · 凤凰岭街道"),
    ({"place": "changqing"}, "长青社区 · 凤凰岭街道"),
    ({"lat": "39.519347", "lng": "106.703966"}, "39.51935, 106.70397"),
])
def test_my_circle_reads_the_url(params, heading):
    at = run("pages/my_circle.py", params)
    assert at.subheader[0].value == heading
    assert at.query_params["lat"] and at.query_params["lng"], "the URL should become a permalink"
    assert at.metric[0].value.endswith("/8")


def test_my_circle_gcj02_url_is_converted():
    from circle.geo import wgs84_to_gcj02

    lat, lng = wgs84_to_gcj02(39.519347, 106.703966)
    at = run("pages/my_circle.py", {"lat": f"{lat:.6f}", "lng": f"{lng:.6f}", "crs": "gcj02"})
    assert abs(float(at.query_params["lat"]) - 39.519347) < 1e-5
    assert abs(float(at.query_params["lng"]) - 106.703966) < 1e-5


def test_my_circle_in_english_and_speed():
    at = run("pages/my_circle.py", {"lang": "en", "place": "长青社区", "speed": "3.6"})
    assert at.title[0].value == "My circle"
    assert at.subheader[0].value == "Changqing Community"
    assert at.query_params["speed"] == "3.6"
    table = at.dataframe[0].value
    profile = load_index().lookup(39.674319, 106.816083, speed_kmh=3.6)
    row = table[table["type"] == "Pharmacy"].iloc[0]
    assert row["minutes"] == f"{profile.types['pharmacy'].minutes:.1f}"
    assert "None" not in set(table["minutes"]) and table["minutes"].map(type).eq(str).all()
    assert row["count_15min"] == profile.types["pharmacy"].count_15min


@pytest.mark.parametrize("params,fragment", [
    ({"lat": "abc", "lng": "106"}, "lat=abc"),
    ({"place": "火星"}, "火星"),
    ({"lat": "40.9", "lng": "106"}, "40.9000"),
    ({"speed": "99"}, "speed=99"),
])
def test_my_circle_bad_url_gives_a_message_and_the_default(params, fragment):
    at = run("pages/my_circle.py", params)
    text = " ".join(w.value for w in at.warning).replace("\\", "")  # undo markdown escapes
    assert fragment in text and "Invalid link parameter" in text and "链接参数无效" in text
    assert at.subheader[0].value == "长青社区 · 凤凰岭街道"


def test_my_circle_map_click_moves_the_view():
    at = run("pages/my_circle.py", {"place": "长青社区"})
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    reach = [layer for layer in deck["layers"] if layer["id"] == "reach"][0]
    target = reach["data"][20]["hex"]
    at.session_state["mc_map"] = PydeckState(selection={"indices": {"reach": [20]},
                                                        "objects": {"reach": [{"hex": target}]}})
    from circle.mycircle import cell_centre

    lat, lng = cell_centre(target)
    at.run()
    assert not at.exception
    assert at.subheader[0].value == f"{lat:.5f}, {lng:.5f}"
    assert at.query_params["lat"] == f"{lat:.6f}"


def test_my_circle_search_box():
    at = run("pages/my_circle.py")
    at.text_input(key="mc_query").input("xinda").run()
    radio = at.radio(key="mc_pick")
    assert any("新达" in str(option) for option in radio.options)
    index = next(i for i, option in enumerate(radio.options) if "新达佳苑" in str(option))
    radio.set_value(index).run()
    assert not at.exception
    assert at.subheader[0].value.startswith("新达佳苑社区")


def test_types_table_says_missing_minutes_in_words():
    """A type beyond the search limit reads "none within 1 h", never None or NaN."""
    import numpy as np

    from circle import mycircle

    index = load_index()
    minutes = index.minutes()  # (T, N), inf beyond the search limit
    far = np.flatnonzero((~np.isfinite(minutes)).any(axis=0) & (index.population > 0))
    assert len(far), "the sample has populated cells with a type beyond 5 km (towns)"
    pos = int(far[0])
    profile = index.lookup(float(index.grid.lat[pos]), float(index.grid.lng[pos]))
    gone = [tid for tid, acc in profile.types.items() if acc.minutes is None]
    assert gone
    for lang, words in (("zh", "1 小时内没有"), ("en", "none within 1 h")):
        table = mycircle.types_table(profile, lang).to_pandas().set_index("type_id")
        assert (table.loc[gone, "minutes"] == words).all()
        assert table["minutes"].map(type).eq(str).all()
