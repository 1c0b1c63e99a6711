"""Page script for st.navigation (a file, so AppTest can switch to it): comparing two models."""

from explorer.ui.compare import render

render()
