# Developer entry points for the nvidia.air collection.
#
#   make demo    run demo/demo.yml against the embedded Air API emulator
#                (or against $AIR_API_URL when that is set)
#   make test    run every test layer
#   make setup   create .venv (Python 3.12) and install everything (idempotent)
#   make lint    ansible-lint + antsibull-changelog lint + shell syntax checks
#   make build   build the collection tarball into .cache/build and check its content
#   make clean   remove .venv, collections/ and caches
#
# Requires GNU make and bash.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV := $(CURDIR)/.venv
STAMP := $(VENV)/.setup-stamp
SETUP_LOG := $(VENV)/setup.log
EMULATOR_DIR := tests/air_emulator
EMULATOR_PYPROJECT := $(EMULATOR_DIR)/pyproject.toml
COLLECTION_LINK := collections/ansible_collections/nvidia/air
PYTEST := $(VENV)/bin/pytest -p no:cacheprovider

# Make the repository importable as the `nvidia.air` collection for every recipe
# (ansible-playbook, ansible-lint, pytest-ansible, molecule ...).
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/collections
# Tools from .venv first (subprocesses such as ansible-playbook / ansible-galaxy
# started by pytest or ansible-lint resolve to the pinned versions).
export PATH := $(VENV)/bin:$(PATH)

# Demo: chunk size and validation delay handed to the emulator.
DEMO_CHUNK_SIZE ?= 5242880
DEMO_VALIDATION_DELAY ?= 0.5
DEMO_PLAYBOOK := demo/demo.yml

.PHONY: help setup _setup system-deps demo test test-emulator test-conformance test-integration lint build clean

help:
	@echo "Targets:"
	@echo "  make demo    run $(DEMO_PLAYBOOK) against the Air API emulator (or \$$AIR_API_URL if set)"
	@echo "  make test    run every test layer (emulator, conformance)"
	@echo "  make setup   create .venv (Python 3.12), install pinned dev deps and qemu-utils"
	@echo "  make lint    ansible-lint, antsibull-changelog lint, bash -n"
	@echo "  make build   build the collection tarball into .cache/build and check its content"
	@echo "  make clean   remove .venv, collections/ and caches"

# ---------------------------------------------------------------------------
# setup
# ---------------------------------------------------------------------------

# A venv whose interpreter vanished (e.g. a pyenv version was removed) is rebuilt.
setup:
	@if [ -e "$(VENV)" ] && ! "$(VENV)/bin/python" -c '' >/dev/null 2>&1; then \
	    echo "==> $(VENV) is broken (interpreter does not run); recreating it"; \
	    rm -rf "$(VENV)"; \
	fi
	@$(MAKE) _setup

_setup: system-deps $(STAMP) $(COLLECTION_LINK)
	@echo "==> dev environment ready (.venv, ANSIBLE_COLLECTIONS_PATH=$(ANSIBLE_COLLECTIONS_PATH))"

# System packages: qemu-img (Debian: qemu-utils). apt-get runs only when something is missing.
system-deps:
	@if ! command -v qemu-img >/dev/null 2>&1; then \
	    if ! command -v apt-get >/dev/null 2>&1; then \
	        echo "error: qemu-img is missing and apt-get is not available; install qemu-utils / qemu-img (see bindep.txt)" >&2; \
	        exit 1; \
	    fi; \
	    sudo=""; \
	    if [ "$$(id -u)" != 0 ]; then \
	        if command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; \
	        else echo "error: qemu-img is missing; run as root or install qemu-utils yourself" >&2; exit 1; fi; \
	    fi; \
	    echo "==> installing qemu-utils with apt-get (log: /tmp/nvidia-air-apt.log)"; \
	    if ! { $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	           $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-utils; } \
	           >/tmp/nvidia-air-apt.log 2>&1; then \
	        tail -n 30 /tmp/nvidia-air-apt.log >&2; \
	        echo "error: apt-get install qemu-utils failed" >&2; \
	        exit 1; \
	    fi; \
	fi

# The stamp is rebuilt when the pinned requirements or the emulator's
# pyproject.toml change (the latter only once it exists).
$(STAMP): requirements-dev.txt $(wildcard $(EMULATOR_PYPROJECT)) scripts/find-python.sh
	@if ! "$(VENV)/bin/python" -c '' >/dev/null 2>&1; then \
	    py=$$(bash scripts/find-python.sh); \
	    echo "==> creating .venv with $$py ($$("$$py" -c 'import platform; print(platform.python_version())'))"; \
	    "$$py" -m venv "$(VENV)"; \
	fi
	@echo "==> installing requirements-dev.txt into .venv (log: .venv/setup.log; takes a few minutes the first time)"
	@if ! "$(VENV)/bin/python" -m pip install --disable-pip-version-check -q -r requirements-dev.txt >"$(SETUP_LOG)" 2>&1; then \
	    grep -v "is ignored: it is neither a file nor a directory" "$(SETUP_LOG)" | tail -n 40 >&2; \
	    echo "error: pip install -r requirements-dev.txt failed (full log: $(SETUP_LOG))" >&2; \
	    exit 1; \
	fi
	@if [ -f "$(EMULATOR_PYPROJECT)" ]; then \
	    echo "==> installing the Air API emulator (editable: $(EMULATOR_DIR))"; \
	    if ! "$(VENV)/bin/python" -m pip install --disable-pip-version-check -q -e "$(EMULATOR_DIR)" >>"$(SETUP_LOG)" 2>&1; then \
	        grep -v "is ignored: it is neither a file nor a directory" "$(SETUP_LOG)" | tail -n 40 >&2; \
	        echo "error: pip install -e $(EMULATOR_DIR) failed (full log: $(SETUP_LOG))" >&2; \
	        exit 1; \
	    fi; \
	else \
	    echo "==> $(EMULATOR_PYPROJECT) not found yet; skipping the emulator install"; \
	fi
	@touch "$@"

# collections/ansible_collections/nvidia/air -> ../../.. (the repository root)
$(COLLECTION_LINK):
	@echo "==> linking $(COLLECTION_LINK) -> ../../.."
	@mkdir -p "$(dir $@)"
	@ln -sfn ../../.. "$@"

# ---------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------

# demo/run.sh runs $(DEMO_PLAYBOOK) twice (the second run must change nothing).
# With AIR_API_URL set it talks to that API directly (no emulator); AIR_API_TOKEN,
# AIR_PARTNER_API_TOKEN and AIR_PARTNER_ORG must then be set too (see README.md).
demo: setup
	@if [ -n "$${AIR_API_URL:-}" ]; then \
	    echo "==> AIR_API_URL is set: running the demo against $$AIR_API_URL (emulator not started)"; \
	    bash demo/run.sh; \
	else \
	    echo "==> running the demo against the embedded Air API emulator"; \
	    "$(VENV)/bin/air-emulator-run" --chunk-size $(DEMO_CHUNK_SIZE) \
	        --validation-delay $(DEMO_VALIDATION_DELAY) --transition-delay $(DEMO_VALIDATION_DELAY) -- bash demo/run.sh; \
	fi

# ---------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------
# Each layer is its own target; `test` runs them all. A layer whose directory
# does not exist yet is skipped with a message. Once it exists, pytest's exit
# code is passed through unchanged (exit 5 = "no tests collected" fails).
# Planned layers: test-units, test-sanity, test-integration, test-molecule.

test: test-emulator test-conformance test-integration test-ansible
	@echo "==> test: every layer finished (see SKIPPED lines for layers that do not exist yet)"

test-emulator: setup
	@if [ -d $(EMULATOR_DIR)/tests ]; then \
	    echo "==> test-emulator: $(EMULATOR_DIR)/tests"; \
	    $(PYTEST) $(EMULATOR_DIR)/tests -q; \
	else \
	    echo "==> test-emulator: SKIPPED ($(EMULATOR_DIR)/tests does not exist yet)"; \
	fi

test-conformance: setup
	@if [ -d tests/conformance ]; then \
	    echo "==> test-conformance: tests/conformance"; \
	    $(PYTEST) tests/conformance -q; \
	else \
	    echo "==> test-conformance: SKIPPED (tests/conformance does not exist yet)"; \
	fi

# pytest-ansible: the modules run through Ansible (ad-hoc tasks on localhost) against
# an emulator the suite starts itself (tests/ansible/conftest.py).
.PHONY: test-ansible
test-ansible: setup
	@echo "==> test-ansible: tests/ansible"
	@$(PYTEST) tests/ansible -q

# ansible-test integration: one target per module (tests/integration/targets/)
# against the Air API emulator. The setup_air_emulator target starts the emulator
# (free port, temporary data dir) for the first target and the others reuse it;
# scripts/ansible-test-integration.sh stops it when ansible-test returns, whatever
# the outcome, and the recipe stops it once more through its state file (a no-op
# unless the script itself was killed). Extra arguments: INTEGRATION_ARGS, e.g.
#   make test-integration INTEGRATION_ARGS="air_image_share -v"
INTEGRATION_ARGS ?=

test-integration: setup
	@echo "==> test-integration: ansible-test integration against the Air API emulator"
	@status=0; bash scripts/ansible-test-integration.sh $(INTEGRATION_ARGS) || status=$$?; \
	bash scripts/ansible-test-integration.sh --stop-emulator; \
	exit $$status

# ---------------------------------------------------------------------------
# lint / build / clean
# ---------------------------------------------------------------------------

lint: setup
	@echo "==> ansible-lint (production profile, whole collection incl. $(DEMO_PLAYBOOK))"
	@"$(VENV)/bin/ansible-lint"
	@echo "==> antsibull-changelog lint"
	@"$(VENV)/bin/antsibull-changelog" lint
	@echo "==> bash -n .ci/run scripts/*.sh"
	@for f in .ci/run scripts/*.sh; do bash -n "$$f"; done

# Builds into .cache/build (ignored) and fails if dev/test/CI paths leaked into the artifact.
build: setup
	@rm -rf .cache/build && mkdir -p .cache/build
	@"$(VENV)/bin/ansible-galaxy" collection build --force --output-path .cache/build >/dev/null
	@tarball=$$(ls .cache/build/nvidia-air-*.tar.gz); \
	echo "==> built $$tarball"; \
	leaked=$$(tar -tzf "$$tarball" | grep -E '^(\.ci|\.venv|\.cache|\.git|collections|tests|benchmarks|demo|scripts|extensions|Makefile|requirements-dev\.txt|pytest\.ini|\.ansible-lint|\.gitignore)(/|$$)|\.tar\.gz$$' || true); \
	if [ -n "$$leaked" ]; then echo "error: dev/test paths in the artifact:" >&2; echo "$$leaked" >&2; exit 1; fi; \
	echo "==> artifact content OK ($$(tar -tzf "$$tarball" | wc -l) entries)"

clean:
	@echo "==> removing .venv, collections/, caches and build artefacts"
	@rm -rf .venv collections .cache .pytest_cache changelogs/.plugin-cache.yaml
	@rm -f nvidia-air-*.tar.gz
	@find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} + 2>/dev/null || true
