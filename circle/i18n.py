"""Every UI string, in Chinese (first) and English: one catalogue for pages, charts and exports.

The catalogue is the folder ``circle/strings/``: one TOML file per page or concern, each key with
``zh`` and ``en``. Translators edit those files; a key may be defined only once across them.
``t(key, lang, **values)`` returns the string in ``lang`` ('zh' or 'en') with ``{placeholders}``
filled. An unknown key raises KeyError (tests catch typos) rather than showing a blank.
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
STRINGS_DIR = Path(__file__).resolve().parent / "strings"


@lru_cache(maxsize=1)
def catalogue() -> dict[str, tuple[str, str]]:
    """All strings: key → (zh, en). Raises ValueError on a duplicate key or a missing language."""
    out: dict[str, tuple[str, str]] = {}
    for path in sorted(STRINGS_DIR.glob("*.toml")):
        with open(path, "rb") as f:
            table = tomllib.load(f)
        for key, entry in table.items():
            if key in out:
                raise ValueError(f"UI string {key!r} is defined twice (again in {path.name})")
            if not isinstance(entry, dict) or not entry.get("zh") or not entry.get("en"):
                raise ValueError(f"UI string {key!r} in {path.name} needs both zh and en")
            out[key] = (str(entry["zh"]), str(entry["en"]))
    return out


def t(key: str, lang: str = DEFAULT_LANG, **values) -> str:
    """The string ``key`` in ``lang`` with ``{placeholders}`` filled from ``values``."""
    zh, en = catalogue()[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


def normalise_lang(value) -> str:
    """'en', 'EN', 'en-US' → 'en'; anything else → 'zh' (Chinese first)."""
    text = str(value or "").strip().lower()
    return "en" if text.startswith("en") else DEFAULT_LANG


def pick(lang: str, zh: str, en: str) -> str:
    """Choose between two data-driven strings (e.g. a name_zh / name_en pair)."""
    return en if lang == "en" and en else zh
