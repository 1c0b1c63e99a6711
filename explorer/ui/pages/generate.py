"""Page script for st.navigation (a file, so AppTest can switch to it): generating."""

from explorer.ui.generate import render

render()
