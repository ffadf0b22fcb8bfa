"""circle.mapdata: resolution-9 aggregation for the city map, filters, legends, URL parameters."""
from __future__ import annotations

import json

import h3
import numpy as np
import pytest

import circle
from circle import access, mapdata, maps
from circle import grid as gridmod
from circle.taxonomy import circles

HEX_RE = r"^[0-9a-f]{15}$"


@pytest.fixture(scope="module")
def index():
    return circle.load_index()


def test_cell_parents_equal_h3(index):
    rng = np.random.default_rng(7)
    cells = index.grid.cells[rng.choice(index.grid.size, 2000, replace=False)]
    for res in (9, 8, 5):
        got = mapdata.cell_parents(cells, res)
        want = [h3.str_to_int(h3.cell_to_parent(h3.int_to_str(int(c)), res)) for c in cells.tolist()]
        assert got.tolist() == want
    assert mapdata.cell_parents(cells, 10).tolist() == cells.tolist()
    with pytest.raises(ValueError):
        mapdata.cell_parents(cells, 11)


def test_footprint_is_small_and_keeps_everyone(index):
    hexes, children = mapdata.footprint_size(index)
    assert 500 < hexes <= 6_000
    frame = mapdata.city_hexes(index, "population")
    assert len(frame) == hexes
    # Aggregation to resolution 9 preserves the total population exactly.
    assert frame["value"].sum() == pytest.approx(index.population.sum(), rel=1e-9)


@pytest.mark.parametrize("measure", mapdata.MEASURES)
def test_frame_shape(index, measure):
    frame = mapdata.city_hexes(index, measure, lang="en")
    assert list(frame.columns) == ["hex", "value", "fill", "label"]
    assert frame["hex"].str.match(HEX_RE).all()
    assert all(h3.get_resolution(h) == 9 for h in frame["hex"].head(50))
    assert frame["hex"].is_unique
    fills = np.array(frame["fill"].tolist())
    assert fills.shape == (len(frame), 4) and fills.min() >= 0 and fills.max() <= 255
    assert frame["label"].str.len().gt(0).all()
    assert all(isinstance(v, int) for v in frame["fill"].iloc[0])


def test_gap_is_residents_without_all_circles(index):
    gap = mapdata.city_hexes(index, "gap")["value"].sum()
    cells = index.cells_at_speed(None)
    want = float((cells["population"] * (cells["circles_covered"] < len(circles()))).sum())
    assert gap == pytest.approx(want, rel=1e-9)


def test_circles_is_population_weighted(index):
    frame = mapdata.city_hexes(index, "circles")
    pop = mapdata.city_hexes(index, "population").set_index("hex")["value"]
    values = frame.set_index("hex")["value"]
    assert values.between(0, 8).all()
    weighted = float((values * pop).sum() / pop.sum())
    cells = index.cells_at_speed(None)
    want = float((cells["circles_covered"] * cells["population"]).sum() / cells["population"].sum())
    assert weighted == pytest.approx(want, rel=1e-6)


def test_minutes_near_is_bright_and_far_is_grey(index):
    frame = mapdata.city_hexes(index, "minutes", "pocket_park")
    near = frame[frame["value"] <= 1]
    assert len(near)
    assert all(f == [int(c) for c in maps.colours([0.0], 0, 30, reverse=True)[0]] or f[0] > 200 for f in near["fill"])
    far = frame[~(frame["value"] <= mapdata.MINUTES_GREY)]
    assert len(far) and all(f == mapdata.GREY for f in far["fill"])
    assert far["label"].str.contains("超过").all()
    slow = mapdata.city_hexes(index, "minutes", "pocket_park", speed_kmh=3.6)
    assert slow["value"].median() > frame["value"].median()


def test_filters_restrict(index):
    city = mapdata.city_hexes(index, "population")
    wuda = mapdata.city_hexes(index, "population", district="乌达区")
    assert 0 < len(wuda) < len(city)
    assert set(wuda["hex"]) <= set(city["hex"])
    district_pop = float(index.population[index.grid.district == mapdata.resolve_district("150304").position].sum())
    assert wuda["value"].sum() == pytest.approx(district_pop, rel=1e-9)
    street = mapdata.city_hexes(index, "population", district="150302", street="凤凰岭街道")
    assert 0 < len(street) < len(mapdata.city_hexes(index, "population", district="150302"))
    assert street["label"].str.startswith("凤凰岭街道").mean() > 0.5
    # the same answer by code, Chinese or English name
    by_en = mapdata.city_hexes(index, "population", district="Wuda")
    assert by_en["hex"].tolist() == wuda["hex"].tolist()
    with pytest.raises(ValueError):
        mapdata.city_hexes(index, "population", district="火星")
    with pytest.raises(ValueError):
        mapdata.city_hexes(index, "nope")


def test_cached_and_copied(index):
    a = mapdata.city_hexes(index, "circles")
    a.loc[:, "label"] = "x"
    b = mapdata.city_hexes(index, "circles")
    assert (b["label"] != "x").all()


def test_labels_bilingual_and_plain_text(index):
    zh = mapdata.city_hexes(index, "circles", district="150302", lang="zh")
    en = mapdata.city_hexes(index, "circles", district="150302", lang="en")
    assert zh["label"].str.contains("圈").all()
    assert en["label"].str.contains("circles").all()
    assert not en["label"].str.contains(r"[\u4e00-\u9fff]").any()
    assert not zh["label"].str.contains("<").any()


def test_payload_is_small(index):
    frame = mapdata.map_frame(mapdata.city_hexes(index, "circles"))
    deck = maps.serialised_deck([maps.hex_layer("hexes", frame), *maps.context_layers_json("zh")],
                                tooltip_text="{label}")
    text = deck.to_json()
    spec = json.loads(text)
    assert len(text.encode()) < 500_000
    assert_offline_style(spec)
    assert [layer["id"] for layer in spec["layers"]] == ["hexes", "river", "districts", "labels"]
    assert all(isinstance(row["hex"], str) for row in spec["layers"][0]["data"])


@pytest.mark.parametrize("basemap", [False, True])
def test_serialised_deck_equals_pydeck(index, basemap):
    """Layers encoded once and joined give the same deck as pydeck encoding it whole."""
    view = mapdata.view_for(index, "150302")
    frame = mapdata.map_frame(mapdata.city_hexes(index, "minutes", "supermarket", "150302", lang="en"))
    whole = maps.make_deck([maps.hex_layer("hexes", frame)] + maps.context_layers("en", False),
                           view=view, tooltip_text="{label}", basemap=basemap)  # pydeck's own encoding
    cached = mapdata.city_hexes_layer(index, "minutes", "supermarket", "150302", lang="en")
    joined = maps.serialised_deck([cached, *maps.context_layers_json("en", False)], view=view,
                                  tooltip_text="{label}", basemap=basemap)
    assert json.loads(joined.to_json()) == json.loads(whole.to_json())
    assert joined._tooltip == whole._tooltip == {"text": "{label}"}
    assert cached.rows == len(frame)
    assert mapdata.city_hexes_layer(index, "minutes", "supermarket", "150302", lang="en") is cached  # encoded once
    with pytest.raises(ValueError):
        mapdata.city_hexes_layer(index, "nonsense")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_my_circle_layers_equal_pydeck(index, lang):
    """The per-view layers of My circle, spliced into a template, are exactly what pydeck encodes."""
    import pandas as pd

    from circle import mycircle

    place = mycircle.resolve_location(index, place="长青社区")
    profile = index.lookup(place.lat, place.lng)
    reach = mycircle.reach_records(index, place.lat, place.lng, 3.6, lang=lang)
    nearest = mycircle.nearest_points(profile, lang)
    assert len(reach) > 50 and nearest
    assert all(isinstance(r["hex"], str) and len(r["fill"]) == 4 for r in reach)
    pairs = [(maps.records_layer_json(maps.hex_layer, "reach", reach), maps.hex_layer("reach", pd.DataFrame(reach))),
             (maps.records_layer_json(maps.point_layer, "nearest", nearest, colour=(31, 119, 180, 220), radius_px=4),
              maps.point_layer("nearest", pd.DataFrame(nearest), colour=(31, 119, 180, 220), radius_px=4)),
             (maps.records_layer_json(maps.point_layer, "here", mycircle.here_point(place, lang), pickable=False),
              maps.point_layer("here", mycircle.here_point(place, lang), pickable=False))]
    for spliced, layer in pairs:
        assert spliced == maps.layer_json(layer)
    ids = [json.loads(piece)["id"] for piece in mycircle.map_layers(index, place, profile, 3.6, lang)]
    assert ids == ["pick", "reach", "river", "districts", "labels", "nearest", "here"]


def assert_offline_style(spec: dict) -> None:
    """No online basemap: no style at all, or the blank style the app serves itself."""
    style = spec.get("mapStyle")
    assert style in (None, "", "__MAP_STYLE__") or str(style).startswith("/app/static/"), style


def test_legend(index):
    legend = mapdata.legend_for("minutes", index, "pharmacy", 4.0, "en")
    assert legend.stops[0][2] == "#fde725"  # near = bright
    assert legend.stops[-1][1].startswith("≥")
    pop = mapdata.legend_for("population", index)
    assert pop.stops[0][0] == 0 and pop.stops[-1][0] >= 10
    assert mapdata.legend_for("circles", index).stops[-1][0] == 8
    chart = mapdata.legend_chart(legend).to_dict()
    assert "layer" in chart


def test_view_fits_filters(index):
    city = mapdata.view_for(index)
    street = mapdata.view_for(index, "150302", "150302001")
    assert street["zoom"] > city["zoom"]
    assert 39.6 < street["latitude"] < 39.75 and 106.75 < street["longitude"] < 106.9
    assert 8 <= city["zoom"] <= 15


def test_filter_options(index):
    options = mapdata.filter_options(index)
    assert [d.name_zh for d in options] == ["海勃湾区", "海南区", "乌达区"]
    assert sum(len(d.streets) for d in options) == len(gridmod.streets())
    hbw = options[0]
    assert "凤凰岭街道" in [s.name_zh for s in hbw.streets]
    assert all(s.district_code == hbw.code for s in hbw.streets)
    assert hbw.streets[0].name("en").endswith(("Subdistrict", "Town", "Park", "Zone"))


def test_parse_map_params():
    view, bad = mapdata.parse_map_params({})
    assert view == mapdata.MapView() and bad == []
    assert view.to_query() == {}
    view, bad = mapdata.parse_map_params({"measure": "minutes", "type": "pharmacy", "district": "海勃湾区",
                                          "street": "150302001", "speed": "3.6"})
    assert bad == []
    assert view.to_query() == {"measure": "minutes", "type": "pharmacy", "district": "150302",
                               "street": "150302001", "speed": "3.6"}
    view, bad = mapdata.parse_map_params({"measure": "nope", "district": "火星", "speed": "abc", "type": "x"})
    assert view == mapdata.MapView()
    assert bad == ["measure=nope", "type=x", "district=火星", "speed=abc"]
    # a street alone implies its district; a street of another district is rejected
    view, bad = mapdata.parse_map_params({"street": "凤凰岭街道"})
    assert (view.district, view.street, bad) == ("150302", "150302001", [])
    view, bad = mapdata.parse_map_params({"district": "乌达区", "street": "凤凰岭街道"})
    assert view.street is None and bad == ["street=凤凰岭街道"]
    assert mapdata.parse_speed("elderly") == access.SPEED_PRESETS_KMH["elderly"]
    with pytest.raises(ValueError):
        mapdata.parse_speed("4.2")


def test_type_without_data_is_grey_and_says_so(index):
    import copy

    fake = copy.copy(index)
    fake.no_data = index.no_data.copy()
    fake.no_data[index.type_pos["pharmacy"]] = True
    fake.key = index.key + "-no-pharmacy"
    frame = mapdata.city_hexes(fake, "minutes", "pharmacy", lang="en")
    assert frame["value"].isna().all()
    assert all(f == mapdata.GREY for f in frame["fill"])
    assert frame["label"].str.contains("no data").all()
