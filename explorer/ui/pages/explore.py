"""Page script for st.navigation (a file, so AppTest can switch to it): the explorer."""

from explorer.ui.explore import render

render()
