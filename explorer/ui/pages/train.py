"""Page script for st.navigation (a file, so AppTest can switch to it): training."""

from explorer.ui.train import render

render()
