"""Page script for st.navigation (a file, so AppTest can switch to it): the lessons."""

from explorer.ui.lessons.page import render

render()
