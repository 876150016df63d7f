"""Streamlit helpers shared by the pages (state, cached calls into core, widgets)."""
