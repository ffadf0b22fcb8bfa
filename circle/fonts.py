"""A CJK font for everything the app draws without a browser (PNG/SVG charts, static maps, decks).

Chinese text needs a font with Chinese glyphs, or it comes out as tofu boxes. We look, in order:

1. the PyPI package ``pylopdf-fonts-zh-cn`` (Noto Sans SC, SIL Open Font License 1.1; it is in
   ``requirements.txt``, so every machine that installs the app has it, offline and in China);
2. a system font that fontconfig says covers Simplified Chinese (``fc-list :lang=zh-cn``), e.g.
   Debian's ``fonts-noto-cjk`` (Noto Sans CJK SC);
3. well-known file paths (Debian, macOS, Windows).

Nothing here downloads anything.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# The families we ask renderers for, best first (the Altair charts use the same list).
FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
            "WenQuanYi Zen Hei")

_KNOWN_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)


@dataclass(frozen=True)
class CjkFont:
    path: Path
    family: str          # the family name inside the file
    origin: str          # package | system | known-path


def _from_package() -> CjkFont | None:
    try:
        import pylopdf_fonts_zh_cn  # OFL-1.1 Noto Sans SC, data-only package
    except ImportError:
        return None
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    return CjkFont(path, "Noto Sans SC", "package") if path.is_file() else None


def _from_fontconfig() -> CjkFont | None:
    if shutil.which("fc-list") is None:
        return None
    try:
        out = subprocess.run(["fc-list", ":lang=zh-cn", "file", "family"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    candidates = []
    for line in out.splitlines():
        if ":" not in line:
            continue
        file, _, families = line.partition(":")
        names = [f.strip() for f in families.split(",")]
        family = next((n for n in names if n.endswith(" SC")), names[0] if names else "")
        score = (0 if "Sans" in family else 1, 0 if family.endswith("SC") else 1,
                 0 if "Regular" in file or "Regular" in family else 1)
        candidates.append((score, file.strip(), family))
    if not candidates:
        return None
    _, file, family = min(candidates)
    return CjkFont(Path(file), family, "system")


def _from_known_paths() -> CjkFont | None:
    for name in _KNOWN_PATHS:
        if Path(name).is_file():
            return CjkFont(Path(name), "Noto Sans CJK SC" if "Noto" in name else Path(name).stem, "known-path")
    return None


@lru_cache(maxsize=1)
def cjk_font() -> CjkFont | None:
    """The CJK font to draw with, or None if this machine has none (text would be tofu)."""
    return _from_package() or _from_fontconfig() or _from_known_paths()


@lru_cache(maxsize=1)
def register_vl_convert() -> str | None:
    """Make the CJK font known to vl-convert (Altair PNG/SVG/PDF export). Returns the font folder.

    vl-convert also sees the system fonts; registering the package's folder covers machines with
    no CJK system font."""
    import vl_convert

    font = cjk_font()
    if font is None:
        return None
    folder = str(font.path.parent.resolve())
    vl_convert.register_font_directory(folder)
    return folder


@lru_cache(maxsize=1)
def matplotlib_family() -> str:
    """Register the CJK font with matplotlib and return the family name to use."""
    from matplotlib import font_manager

    font = cjk_font()
    if font is None:
        return "DejaVu Sans"
    font_manager.fontManager.addfont(str(font.path))
    return font_manager.FontProperties(fname=str(font.path)).get_name()


def font_properties(size: float, weight: str = "normal"):
    """matplotlib ``FontProperties`` in the CJK font (by file, so no font cache is needed), or in
    the fallback family when this machine has none."""
    from matplotlib.font_manager import FontProperties

    font = cjk_font()
    if font is not None:
        return FontProperties(fname=str(font.path), size=size, weight=weight)
    return FontProperties(family=matplotlib_family(), size=size, weight=weight)
