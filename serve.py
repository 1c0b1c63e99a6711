"""The server entry: `streamlit run serve.py`. The app itself is streamlit_app.py; this adds a start-up hook
that begins its heavy imports (torch, pandas, the pages) as the server starts, so the
first visitor does not wait for them.

`kill -USR1 <server pid>` writes every thread's stack to the server's stderr: what a stuck server is doing.
"""

import faulthandler
import signal
from contextlib import asynccontextmanager

import streamlit as st

from explorer import heap
from explorer.ui import boot


@asynccontextmanager
async def lifespan(_app):
    boot.start()  # on a thread: the server accepts connections at once
    yield


heap.configure()  # before the server's threads start: they take their arenas as they first allocate
if hasattr(signal, "SIGUSR1"):  # not on Windows
    faulthandler.register(signal.SIGUSR1, all_threads=True)
app = st.App("streamlit_app.py", lifespan=lifespan)
