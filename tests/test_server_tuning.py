"""The lock-free config reads (ui/server_tuning.py) answer exactly as Streamlit's own get_option."""
from __future__ import annotations

import pytest
from streamlit import config

from ui import server_tuning


@pytest.fixture
def patched():
    original = config.get_option
    config.get_config_options()  # parsed, as on a running server
    assert server_tuning.lock_free_config_reads()
    try:
        yield original
    finally:
        config.get_option = original


def test_same_value_for_every_option(patched):
    assert config.get_option is not patched
    for key in config.get_config_options():
        assert config.get_option(key) == patched(key), key


def test_idempotent_and_unknown_key(patched):
    fast = config.get_option
    assert server_tuning.lock_free_config_reads() and config.get_option is fast
    with pytest.raises(RuntimeError, match="not defined"):
        config.get_option("no.suchOption")


def test_sees_a_changed_option_and_a_reparse(patched):
    before = config.get_option("runner.postScriptGC")
    config.set_option("runner.postScriptGC", not before)
    try:
        assert config.get_option("runner.postScriptGC") is (not before)
    finally:
        config.set_option("runner.postScriptGC", before)
    config.get_config_options(force_reparse=True)  # a new dict replaces the old one
    assert config.get_option("runner.postScriptGC") == patched("runner.postScriptGC")


def test_leaves_someone_elses_get_option_alone():
    original = config.get_option

    def overridden(key):
        return original(key)

    config.get_option = overridden
    try:
        assert server_tuning.lock_free_config_reads() is False
        assert config.get_option is overridden
    finally:
        config.get_option = original


def test_shipped_config_turns_off_the_forced_gc():
    import tomllib
    from pathlib import Path

    shipped = tomllib.loads((Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml").read_text())
    assert shipped["runner"]["postScriptGC"] is False
