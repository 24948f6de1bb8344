# pactkb — developer commands. `make demo` and `make test` are the two a new user needs.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
DATA   ?= data

.PHONY: install demo serve test test-all lint bench report system-deps clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# CPU-only torch first: the pinned 2.13.0 wheel; an unpinned torch would pull CUDA packages
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[dev,distributed]"
	touch $@

install: $(VENV)/.installed ## create .venv and install pactkb with test tools and Ray (the distributed extra)

demo: system-deps install ## ingest the bundled sample corpus, run a search, then serve on http://127.0.0.1:8000
	$(VENV)/bin/pactkb ingest corpus/sample --data $(DATA)
	$(VENV)/bin/pactkb search "good practice for cash couriers at border crossings" --data $(DATA) -k 3
	$(VENV)/bin/pactkb serve --data $(DATA)

serve: install
	$(VENV)/bin/pactkb serve --data $(DATA)

test: system-deps install ## the test suite (what CI runs)
	$(PY) -m pytest -q

lint: install ## ruff (rules and formatting) and mypy, as configured in pyproject.toml
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) scripts/typecheck-tree >/dev/null
	$(VENV)/bin/mypy

bench: install ## benchmarks on ../shared (minutes; prints figures)
	$(PIP) install --quiet -e ".[dev,distributed,bench]"
	$(PY) -m pactkb.evaluation.bench.ingest

report: install ## regenerate evaluation/reports (long: builds eval indexes)
	$(PIP) install --quiet -e ".[dev,distributed,bench]"
	$(PY) -m pactkb.evaluation.report

system-deps: ## Debian packages (OCR, fonts, Chromium, dictionaries, Apertium): installs only what is missing
	@PYTHON=$(PYTHON) scripts/system-deps

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
