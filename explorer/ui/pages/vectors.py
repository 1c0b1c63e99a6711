"""Page script for st.navigation (a file, so AppTest can switch to it): groups and latent arithmetic."""

from explorer.ui.vectors import render

render()
