"""Entry point: page config and navigation, nothing else. (Hosting runs it through serve.py.)"""

import streamlit as st

from explorer.ui import boot

st.set_page_config(page_title="VAE Latent Explorer", layout="wide")
prefetch = boot.prefetch_plotly()
boot.wait()  # for serve.py's start-up imports: no page imports beside them
try:
    st.navigation([
        st.Page("explorer/ui/pages/lessons.py", title="Lessons", url_path="lessons"),
        st.Page("explorer/ui/pages/explore.py", title="Explore", url_path="explore", default=True),
        st.Page("explorer/ui/pages/generate.py", title="Generate", url_path="generate"),
        st.Page("explorer/ui/pages/train.py", title="Train", url_path="train"),
        st.Page("explorer/ui/pages/compare.py", title="Compare", url_path="compare"),
        st.Page("explorer/ui/pages/vectors.py", title="Vectors", url_path="vectors"),
        st.Page("explorer/ui/pages/likelihood.py", title="Likelihood", url_path="likelihood"),
    ]).run()
finally:
    prefetch.empty()
