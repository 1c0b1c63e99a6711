"""Page script for st.navigation (a file, so AppTest can switch to it): each image's likelihood."""

from explorer.ui.likelihood import render

render()
