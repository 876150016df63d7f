"""The start-up floor for `python -m bench.browser --starts`: a Streamlit page with one
Completion KPI and nothing else (no pandas, no database, no projection). A start of the
product is timed against this start of bare Streamlit in the same rounds."""
import streamlit as st

st.metric("Completion", "42.0%")
