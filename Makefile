# Targets shared by users, the README and CI. `make build` and `make test` set everything up themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TOOLS := $(CURDIR)/.tools/bin
KUBECONFORM_VERSION := v0.7.0

.PHONY: setup build check test lint bench bench-mechanisms clean kubeconform

$(BIN)/aimgen: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# bytecode kept current even where PYTHONDONTWRITEBYTECODE is set: every aimgen run starts faster
setup: $(BIN)/aimgen
	@$(BIN)/python -m compileall -q aimgen >/dev/null

## build: compile the example tree into rendered/
build: setup
	$(BIN)/aimgen build

## check: fail (exit 3) when rendered/ is not what the compiler produces
check: setup
	$(BIN)/aimgen build --check

## test: the whole test suite
test: setup
	$(BIN)/python -m pytest

## kubeconform: validate rendered/ and the valid test corpus with the pinned kubeconform (installed into .tools/bin)
KUBECONFORM_PATHS ?= $(wildcard rendered) tests/validate/corpus/valid
kubeconform: setup
	AIMGEN=$(BIN)/aimgen KUBECONFORM_VERSION=$(KUBECONFORM_VERSION) scripts/kubeconform.sh $(KUBECONFORM_PATHS)

lint: setup
	$(BIN)/ruff check aimgen tests bench
	$(BIN)/mypy aimgen

## bench: generate a realistic tree (default 10,000 services) and time aimgen against its floors
bench: setup
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## bench-mechanisms: what each optimisation of the incremental build saves (each switched off in turn)
bench-mechanisms: setup
	$(BIN)/python bench/mechanisms.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .tools .aimgen-cache
