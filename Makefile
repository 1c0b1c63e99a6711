# Two commands for a newcomer: `make app` (set up, then start the app) and `make test` (set up, then run every test).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: app test clean

app: $(VENV)/.installed-app
	$(PY) -m streamlit run serve.py --server.port $(PORT)

test: $(VENV)/.installed-test
	sh scripts/ensure-chromium.sh
	$(PY) -m ruff check .
	$(PY) -m pytest

$(VENV)/.installed-app: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed-app requirements-test.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache
