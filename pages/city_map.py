import streamlit as st
st.title('city_map')
