"""Entry point: page config and navigation, nothing else."""

import streamlit as st

from explorer.ui import explore

st.set_page_config(page_title="VAE Latent Explorer", layout="wide")
st.navigation([st.Page(explore.render, title="Explore", url_path="explore", default=True)]).run()
