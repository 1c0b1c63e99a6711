"""Streamlit pages and their shared state: the only package that imports streamlit."""
