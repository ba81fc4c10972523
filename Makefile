# Two commands do everything on a fresh machine with Python >= 3.11: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Tests, CI and the demo use the shared reference data when it sits beside the checkout.
SHARED_DATA := $(abspath ../shared/hla-data)
ifeq ($(origin GRAFTWISE_DATA), undefined)
ifneq ($(wildcard $(SHARED_DATA)/imgthla),)
export GRAFTWISE_DATA := $(SHARED_DATA)
endif
endif

.PHONY: setup demo test lint bench data clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Makes sure reference data is available: the shared folder, or the user cache filled from the official sources.
data: setup
	$(BIN)/graftwise data ensure --release 3.58.0

demo: data
	$(BIN)/graftwise demo

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: setup lint
	$(BIN)/pytest -n 2 -q

bench: data
	$(BIN)/pip install --quiet -r benchmarks/requirements.txt
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
