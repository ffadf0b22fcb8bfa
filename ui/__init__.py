"""Streamlit glue shared by the pages: language, the cached index, banners and provenance lines.

Only this package, ``pages/`` and ``streamlit_app.py`` import streamlit; ``circle/`` never does.
"""
