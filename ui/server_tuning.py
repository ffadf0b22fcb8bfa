"""Streamlit server settings for a burst of readers (an article goes out; Streamlit 1.67, pinned).

Every element a page sends asks Streamlit for a config option (``config.get_option``), and each
of those takes one process-wide lock. With fifty sessions running their scripts at once, the
threads queue on that lock behind the GIL: a load test of 50 simultaneous readers measured ≈ 80%
of the server's thread samples (py-spy) waiting at that single ``with _config_lock:`` line, and
every reader got the page after ~15 s, all at the same moment.

Streamlit's own review of that lock suggested the remedy (PR #2860): the options dict is
replaced, never cleared, when config files are re-parsed, so a read of an already-parsed option
needs no lock. ``lock_free_config_reads`` installs that fast path; anything unusual (options not
parsed yet, an unknown key, a Streamlit without these internals, AppTest's patched get_option)
takes Streamlit's own path. One difference remains: while a config file is re-parsed on a running
server (someone edits .streamlit/config.toml), a read may see a default for that moment.
"""
from __future__ import annotations

from typing import Any, Callable

_MARK = "_circle_lock_free"


def lock_free_config_reads() -> bool:
    """Make ``streamlit.config.get_option`` read parsed options without the lock. Idempotent;
    returns whether the fast path is (now) installed."""
    from streamlit import config

    current = config.get_option
    if getattr(current, _MARK, False):
        return True
    if not hasattr(config, "_config_options"):  # pragma: no cover - internals changed: leave as is
        return False
    if getattr(current, "__module__", None) != config.__name__:
        return False  # someone else's get_option is in place (AppTest's overrides): keep it
    locked: Callable[[str], Any] = current

    def get_option(key: str) -> Any:
        options = config._config_options  # one reference: a re-parse swaps in a new dict
        if options:
            option = options.get(key)
            if option is not None:
                return option.value
        return locked(key)  # not parsed yet, or an unknown key (Streamlit raises its own error)

    get_option.__doc__ = locked.__doc__
    setattr(get_option, _MARK, True)
    get_option.__wrapped__ = locked  # type: ignore[attr-defined]
    config.get_option = get_option
    return True
