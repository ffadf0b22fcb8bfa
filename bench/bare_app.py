"""The load test's baseline: the smallest Streamlit page (a title and a paragraph), served by the
same Streamlit with the project's .streamlit/config.toml. What 50 readers cost before any of our
pages do anything."""
import streamlit as st

st.title("一刻钟社区生活圈 · baseline")
st.write("A bare Streamlit page: no index, no charts, no map.")
