# The dropout course. `make` lists the targets; `make run` builds everything, `make test` checks it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
D2L := d2l==1.0.3
# Where `make data` copies Fashion-MNIST from; empty means the official download.
FASHION_MNIST_SOURCE ?= $(wildcard ../shared/data/FashionMNIST/raw)
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb)) $(sort $(wildcard notebooks/solutions/*.ipynb))
# The slowest notebooks (README's table) start first, so that parallel jobs end at about one time.
SLOWEST := $(addprefix notebooks/,04_dropout_mlp_scratch.ipynb 00_why_regularize.ipynb \
  05_dropout_mlp_concise.ipynb 07_dropout_in_practice.ipynb solutions/04_dropout_mlp_scratch_solutions.ipynb)
SCHEDULE := $(foreach nb,$(SLOWEST),$(filter $(nb),$(NOTEBOOKS))) $(filter-out $(SLOWEST),$(NOTEBOOKS))
NBVAL := $(BIN)/pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
# Execute in a fresh kernel (in the notebook's own folder, so d2l's '../data' is the repo's data/),
# then keep only the final frame of each progress bar (a preprocessor given here runs after execution).
# The kernel's traffic is encrypted (CurveZMQ, which PyPI's pyzmq has) when its kernelspec offers
# it, as ipykernel 7.4's does; unencrypted, each kernel prints a warning.
EXECUTE := $(BIN)/jupyter nbconvert --to notebook --execute --log-level WARN \
           --KernelManager.transport_encryption=auto \
           --ExecutePreprocessor.timeout=1800 --ExecutePreprocessor.record_timing=False \
           --NotebookExporter.preprocessors=nbconvert.preprocessors.CoalesceStreamsPreprocessor
# Execute every notebook, JOBS at a time (each uses one torch thread), into $(1)/its path ('.':
# in place); prints each one's time, and fails at the end if any failed.
JOBS ?= 2
execute_all = printf '%s\n' $(SCHEDULE) | xargs -P $(JOBS) -I{} bash -c 'nb={}; out=$(1)/$$(dirname $$nb); \
  mkdir -p $$out; start=$$SECONDS; $(EXECUTE) --output-dir $$out $$nb && \
  echo "$$nb: $$((SECONDS - start)) s"'
# `make slides` turns these notebooks into decks + pages in this self-contained folder.
SLIDES_SRC ?= notebooks
SLIDES_OUT ?= build/slides
# `make site` turns these notebooks into the reading site, SITE_OUT/_build/html/ (Jupyter Book).
SITE_SRC ?= notebooks
SITE_OUT ?= build/site

.DEFAULT_GOAL := help
.PHONY: help install data run notebooks test unit nbval test-portable calibrate lint lab bench clean slides browser

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# The tools that the goals on make's command line need, all checked before anything long starts
# (`make install` comes first in run, test, lab, ...); once a command line: sub-makes skip it.
.PHONY: prereqs
prereqs:  ## check, all at once, the tools the targets need: Python 3.11, npm, Chromium, a C compiler
ifeq ($(MAKELEVEL),0)
	@command -v $(PYTHON) >/dev/null || { echo "No $(PYTHON): install Python 3.11 (README, first lines)"; exit 1; }
	@$(PYTHON) tools/check_prereqs.py $(filter-out prereqs,$(MAKECMDGOALS))
endif

install: prereqs $(VENV)/.installed $(VENV)/.fast_dropout  ## create .venv with the pinned packages (fast when nothing changed)

# pip would compile each package's bytecode on one core; compileall uses every core (about 30 s
# less here). Like pip, it skips the few files that do not compile (torch tests in newer syntax).
$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --no-compile -r requirements.txt
	$(BIN)/pip install -q --no-deps $(D2L) -e .
	$(BIN)/python -m compileall -qq -j 0 $(VENV)/lib || true
	touch $@

# Compile d2l_ext's C dropout kernel once (cached under ~/.cache/d2l_ext) so notebooks never wait.
$(VENV)/.fast_dropout: d2l_ext/fast_dropout.c $(VENV)/.installed
	$(BIN)/python -c 'from d2l_ext import fast_dropout as f; f.build(verbose=True)'
	touch $@

data: install  ## fetch Fashion-MNIST into data/ (SHA-256-verified every time, see data/README.md)
	FASHION_MNIST_SOURCE="$(FASHION_MNIST_SOURCE)" $(BIN)/python -c 'import d2l_ext.data as d; d.main()'

# Without npm, make run still executes every notebook, and ends saying which decks it skipped, why.
NPM := $(shell command -v npm 2>/dev/null)
run: install data $(if $(NPM),node_modules/.installed)  ## run every notebook in a fresh kernel; decks in build/slides/, site in build/site/
	@$(call execute_all,build)
	@$(MAKE) --no-print-directory -j2 --output-sync=target $(if $(NPM),slides) site \
	  SLIDES_SRC=build/notebooks SITE_SRC=build/notebooks
	@if [ -n "$(NPM)" ]; then \
	  echo "Open $(SLIDES_OUT)/index.html: every notebook as a deck, in reading order"; fi
	@echo "Open $(SITE_OUT)/_build/html/index.html: the course as a site, with search and references"
	@[ -n "$(NPM)" ] || $(PYTHON) tools/check_prereqs.py --skipped run

notebooks: install data  ## re-execute the notebooks in place, refreshing their stored outputs
	@$(call execute_all,.)

# Decks and site are built, then checked in Chromium, two at a time (each one's output in one piece).
test: install data unit nbval  ## unit tests, every notebook under strict nbval, decks and site in Chromium
	@$(MAKE) --no-print-directory -j2 --output-sync=target browser sitecheck

unit: install  ## unit tests of d2l_ext
	$(BIN)/pytest tests --ignore=tests/test_slides.py --ignore=tests/test_site.py

# Notebooks use one torch thread each, so two run side by side on two cores (whole notebooks per
# worker: --dist loadscope).
NBVAL_WORKERS ?= 2
nbval: install data  ## strict nbval: every stored output must be reproduced
	$(NBVAL) -n $(NBVAL_WORKERS) --dist loadscope --durations=0 $(SCHEDULE)

# Trained numbers move with the CPU's kernels (AVX2, AVX-512, ARM); torch's portable kernels are one
# more such CPU, so every stored output and assert must hold under them too (.ci/run runs both).
test-portable: install data  ## strict nbval again under torch's portable CPU kernels (ATEN_CPU_CAPABILITY=default)
	ATEN_CPU_CAPABILITY=default $(NBVAL) -n $(NBVAL_WORKERS) --dist loadscope --durations=0 $(SCHEDULE)

# The seeds x kernels measurement behind every bound a notebook asserts (about an hour on 2 cores).
calibrate: install data  ## re-measure each notebook assert's slack over shifted seeds and both kernel sets
	$(BIN)/python tools/calibrate.py --shifts 0 1000 --kernels native default

slides: install node_modules/.installed  ## reveal.js decks and their index.html in build/slides/ (offline; pages: make site)
	@start=$$SECONDS; $(BIN)/python tools/build_slides.py --src $(SLIDES_SRC) --out $(SLIDES_OUT) \
	  --site $(SITE_OUT) && \
	  echo "make slides: $$((SECONDS - start)) s"

# reveal.js, MathJax and require.js for the decks, as pinned in package-lock.json
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { $(PYTHON) tools/check_prereqs.py slides; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

browser: slides  ## every deck in headless Chromium: offline, math, figures, each slide fits 1280x720
	SLIDES_SRC=$(SLIDES_SRC) SLIDES_OUT=$(SLIDES_OUT) $(BIN)/pytest -v -s -rs tests/test_slides.py

.PHONY: site sitecheck
site: install  ## the reading site in build/site/_build/html/: contents, search, citations (offline)
	@start=$$SECONDS; $(BIN)/python tools/build_site.py --src $(SITE_SRC) --out $(SITE_OUT) \
	  --slides $(SLIDES_OUT) && echo "make site: $$((SECONDS - start)) s"

sitecheck: site slides  ## every page of the site in headless Chromium: offline, search, citations, math
	SITE_SRC=$(SITE_SRC) SITE_OUT=$(SITE_OUT) SLIDES_OUT=$(SLIDES_OUT) $(BIN)/pytest -v -s -rs tests/test_site.py

.PHONY: handout
handout: slides  ## one PDF per deck in build/handout/ (headless Chromium, offline), a page per slide
	@start=$$SECONDS; $(BIN)/python tools/build_handout.py --slides $(SLIDES_OUT) --out build/handout && \
	  echo "make handout: $$((SECONDS - start)) s"

lint: install  ## ruff on the package, tests, benchmarks and notebooks
	$(BIN)/ruff check d2l_ext tests bench notebooks tools

# --allow-root only for root (a container's usual user), which JupyterLab otherwise refuses.
lab: install data  ## JupyterLab on the notebooks
	$(BIN)/jupyter lab notebooks$(if $(filter 0,$(shell id -u)), --allow-root)

bench: install data  ## time one epoch (stock d2l vs this project vs a bare loop) and the dropout op
	$(BIN)/python bench/epoch.py
	$(BIN)/python bench/dropout_op.py

clean:  ## remove build outputs (keeps .venv and data)
	rm -rf build .pytest_cache .ruff_cache
