"""Many users at once, bounded for CI: 10 concurrent websocket sessions on the running app (loopback).

The full benchmark is ``python -m bench.load_test`` (50 sessions; figures in the README). Here: no
errors, every page ready in time, and memory that grows by a few MB per extra session (the index is
shared through st.cache_resource, not copied per session)."""
from __future__ import annotations

import pytest

from bench import load_test

SESSIONS = 10
PER_SESSION_MB = 15.0     # goal ≤ 5 MB (measured ≈ 1–4 MB); generous against allocator noise on CI


@pytest.mark.slow
def test_ten_concurrent_sessions():
    # Two server processes: the readers are split between them (the single-process path is the
    # same code with one server; both are what `python -m bench.load_test` runs).
    result = load_test.load_test(sessions=SESSIONS, arrival="burst", rounds=1, timeout=120.0, deadline_s=400.0,
                                 workers=2)
    print(load_test.report(result))
    assert all(v["ok"] for v in result["warm_up"]), [v["error"] for v in result["warm_up"] if not v["ok"]]
    (rnd,) = result["rounds"]
    assert rnd["errors"] == 0, rnd["error_samples"]
    assert len(rnd["visits"]) == SESSIONS
    assert {v["page"] for v in rnd["visits"]} >= {"story", "my_circle", "city_map", "progress", "chart"}
    assert rnd["max_s"] < 60.0
    assert rnd["rss_growth_per_extra_session_mb"] < PER_SESSION_MB, rnd
    assert rnd["server_cpu_per_session_ms"] > 0
    assert result["workers"] == 2 and len({v["server"] for v in rnd["visits"]}) == 2  # both got readers
    # The baseline (a bare Streamlit page, same settings) ran too, so the report can give the ratio.
    (base,) = result["baseline"]["rounds"]
    assert base["errors"] == 0 and {v["page"] for v in base["visits"]} == {"bare"}
    assert "ratio: worst p95 ours / bare Streamlit page" in load_test.report(result)


def test_loopback_only():
    with pytest.raises(SystemExit, match="loopback"):
        load_test.check_loopback("http://example.com:8501")
    with pytest.raises(SystemExit, match="loopback"):
        load_test.check_loopback("http://10.0.0.1:8501")
    load_test.check_loopback("http://127.0.0.1:8501")
    load_test.check_loopback("http://localhost:8501")
    with pytest.raises(SystemExit, match="sessions"):
        load_test.load_test(sessions=load_test.MAX_SESSIONS + 1)


def test_shipped_config_turns_off_the_forced_gc():
    """Streamlit's gc.collect() after every script run made a burst of 50 readers 2.7× slower."""
    import tomllib
    from pathlib import Path

    shipped = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())
    assert shipped["runner"]["postScriptGC"] is False


def test_percentile():
    assert load_test.percentile([], 95) is None
    assert load_test.percentile([1.0], 95) == 1.0
    assert load_test.percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert abs(load_test.percentile(list(map(float, range(1, 101))), 95) - 95.05) < 1e-9
