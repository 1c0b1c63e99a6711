"""Entry point: page config and navigation, nothing else."""

import streamlit as st

st.set_page_config(page_title="VAE Latent Explorer", layout="wide")
st.navigation([
    st.Page("explorer/ui/pages/explore.py", title="Explore", url_path="explore", default=True),
    st.Page("explorer/ui/pages/generate.py", title="Generate", url_path="generate"),
    st.Page("explorer/ui/pages/train.py", title="Train", url_path="train"),
]).run()
