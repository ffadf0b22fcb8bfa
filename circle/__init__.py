"""circle: the engine behind Wuhai's 15-minute community life circle app.

Pure Python (numpy, scipy, h3, numba); never imports streamlit. The public entry point is
:func:`load_index`, which loads the built walking-time index from the on-disk cache or builds it.
Heavy modules load lazily, so ``import circle.geo`` stays cheap.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["CityIndex", "load_index", "__version__"]


def __getattr__(name: str):
    if name in ("CityIndex", "load_index"):
        from circle import index

        return getattr(index, name)
    raise AttributeError(f"module 'circle' has no attribute {name!r}")
