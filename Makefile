# pactkb — developer commands. `make demo` and `make test` are the two a new user needs.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
DATA   ?= data

.PHONY: install demo serve test test-all bench report system-deps clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# CPU-only torch first: the pinned 2.13.0 wheel; an unpinned torch would pull CUDA packages
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed ## create .venv and install pactkb with test tools

demo: install ## ingest the bundled sample corpus, run a search, then serve on http://127.0.0.1:8000
	$(VENV)/bin/pactkb ingest corpus/sample --data $(DATA)
	$(VENV)/bin/pactkb search "good practice for cash couriers at border crossings" --data $(DATA) -k 3
	$(VENV)/bin/pactkb serve --data $(DATA)

serve: install
	$(VENV)/bin/pactkb serve --data $(DATA)

test: install ## the test suite (what CI runs)
	$(PY) -m pytest -q

bench: install ## benchmarks on ../shared (minutes; prints figures)
	$(PIP) install --quiet -e ".[dev,bench]"
	$(PY) -m pactkb.evaluation.bench.ingest

report: install ## regenerate evaluation/reports (long: builds eval indexes)
	$(PIP) install --quiet -e ".[dev,bench]"
	$(PY) -m pactkb.evaluation.report

system-deps: ## Debian packages: OCR, fonts for generated PDFs, Chromium for browser tests, FreeDict dictionaries, Apertium
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-eng tesseract-ocr-srp \
	  tesseract-ocr-hrv tesseract-ocr-bos tesseract-ocr-sqi tesseract-ocr-mkd poppler-utils fonts-dejavu-core \
	  chromium chromium-driver dict-freedict-hrv-eng dict-freedict-srp-eng \
	  apertium apertium-hbs-eng apertium-mkd-eng

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
