"""Many users at once, bounded for CI: 10 concurrent websocket sessions on the running app (loopback).

The full benchmark is ``python -m bench.load_test`` (50 sessions; figures in the README). Here: no
errors, every page ready in time, and memory that grows by a few MB per extra session (the index is
shared through st.cache_resource, not copied per session)."""
from __future__ import annotations

import ast
import tomllib
from pathlib import Path

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


ROOT = Path(__file__).resolve().parents[2]


def test_shipped_config_is_the_measured_one():
    """The settings the load test measured are the ones `streamlit run streamlit_app.py` uses:
    no forced gc.collect() after each run (it made a burst of 50 readers 2.7× slower), no file
    watcher and no magic (both cost every reader; see .streamlit/config.toml)."""
    shipped = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert shipped["runner"]["postScriptGC"] is False
    assert shipped["runner"]["magicEnabled"] is False
    assert shipped["server"]["fileWatcherType"] == "none"


def _magic_expressions(body: list[ast.stmt], first_is_docstring_slot: bool = False):
    """Bare expressions Streamlit's magic would have written to the page (its own rules: module
    level and inside with/if/for/while/try/match blocks, never inside functions; calls,
    docstrings, yield and await are left alone)."""
    for i, node in enumerate(body):
        if isinstance(node, ast.Expr):
            value = node.value
            docstring = first_is_docstring_slot and i == 0 and isinstance(value, ast.Constant) \
                and isinstance(value.value, str)
            if not (isinstance(value, (ast.Call, ast.Yield, ast.YieldFrom, ast.Await)) or docstring):
                yield node
        for field in ("body", "orelse", "finalbody"):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                yield from _magic_expressions(getattr(node, field, []) or [])
        for child in getattr(node, "handlers", []) + getattr(node, "cases", []):
            yield from _magic_expressions(child.body)


@pytest.mark.parametrize("script", sorted(str(p.relative_to(ROOT)) for p in [ROOT / "streamlit_app.py",
                                                                            *(ROOT / "pages").glob("*.py")]))
def test_no_page_relies_on_magic(script):
    tree = ast.parse((ROOT / script).read_text(encoding="utf-8"))
    found = [f"line {node.lineno}: {ast.unparse(node)[:60]}" for node in _magic_expressions(tree.body, True)]
    assert not found, f"{script} writes bare expressions, which magic (off) would have shown: {found}"


def test_magic_finder_finds_bare_expressions():
    tree = ast.parse('"""doc"""\nimport streamlit as st\nx = 1\nx\nwith st.sidebar:\n    "hello"\n'
                     'def f():\n    "not shown"\n    x\nst.write(x)\n')
    assert [ast.unparse(n) for n in _magic_expressions(tree.body, True)] == ["x", "'hello'"]


def test_percentile():
    assert load_test.percentile([], 95) is None
    assert load_test.percentile([1.0], 95) == 1.0
    assert load_test.percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert abs(load_test.percentile(list(map(float, range(1, 101))), 95) - 95.05) < 1e-9


def test_loading_the_index_freezes_what_is_loaded(monkeypatch):
    """After the shared index loads, the long-lived objects are frozen out of the cyclic GC (a
    full collection over them held the GIL ~0.2 s, once every 5–15 s of the load test)."""
    import weakref

    from streamlit.testing.v1 import AppTest

    from ui import common

    frozen = []
    monkeypatch.setattr(common.gc, "freeze", lambda: frozen.append(True))
    monkeypatch.setattr(common, "_LOADED", weakref.WeakValueDictionary())  # as in a fresh process
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.switch_page("pages/progress.py")
    at.run()
    assert not at.exception
    assert frozen == [True]  # once: the next views find the index loaded
    at.run()
    assert frozen == [True]
