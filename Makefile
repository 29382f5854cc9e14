# Developer entry points for the nvidia.air collection.
#
#   make demo    run demo/demo.yml against the embedded Air API emulator
#                (or against $AIR_API_URL when that is set)
#   make test    run every test layer
#   make setup   create .venv (Python 3.12) and install everything (idempotent)
#   make lint    ansible-lint + antsibull-docs lint + antsibull-changelog lint + shell syntax checks
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
# Collections tests/ansible needs besides nvidia.air (ansible.posix's json callbacks), outside .venv.
TEST_COLLECTIONS_REQUIREMENTS := tests/ansible/requirements-collections.txt
TEST_COLLECTIONS := $(CURDIR)/.cache/test-collections

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

.PHONY: help setup _setup system-deps demo test test-groups test-group-pytest test-group-ansible-test test-group-artifact test-client test-emulator test-conformance test-ansible test-integration \
        test-sanity test-units test-dates test-molecule test-matrix test-demo test-awx test-ee test-galaxy test-changelog \
        test-emulator-install emulator-wheel changelog lint build clean

help:
	@echo "Targets:"
	@echo "  make demo    run $(DEMO_PLAYBOOK) against the Air API emulator (or \$$AIR_API_URL if set)"
	@echo "  make test    run every test layer (sanity, units, dates, client, emulator, conformance, emulator-install, integration, ansible,"
	@echo "              molecule, matrix, demo, awx, ee, galaxy, changelog) and lint"
	@echo "  make setup   create .venv (Python 3.12), install pinned dev deps, qemu-utils and shellcheck"
	@echo "  make lint    ansible-lint, antsibull-docs lint-collection-docs, antsibull-changelog lint, bash -n"
	@echo "  make build   build the collection tarball into .cache/build and check its content"
	@echo "  make emulator-wheel  build the Air API emulator as a wheel into .cache/emulator-wheel (for users' CI)"
	@echo "  make changelog  release the changelog fragments into galaxy.yml's version, regenerate CHANGELOG.rst"
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

# System packages; apt-get runs only when something is missing.
#   qemu-img   (Debian: qemu-utils)  required: the collection inspects disk images with it (bindep.txt)
#   shellcheck (Debian: shellcheck)  development only: `ansible-test sanity` skips its shellcheck
#                                    test (with a warning) when it is missing, so failing to install
#                                    it is only a warning
system-deps:
	@missing=""; required=""; \
	command -v qemu-img >/dev/null 2>&1 || { missing="$$missing qemu-utils"; required=qemu-utils; }; \
	command -v shellcheck >/dev/null 2>&1 || missing="$$missing shellcheck"; \
	if [ -n "$$missing" ]; then \
	    sudo=""; \
	    if ! command -v apt-get >/dev/null 2>&1; then \
	        problem="apt-get is not available"; \
	    elif [ "$$(id -u)" != 0 ] && ! command -v sudo >/dev/null 2>&1; then \
	        problem="not root and no sudo"; \
	    else \
	        problem=""; \
	        if [ "$$(id -u)" != 0 ]; then sudo="sudo -n"; fi; \
	        echo "==> installing$$missing with apt-get (log: /tmp/nvidia-air-apt.log)"; \
	        if ! { $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	               $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; } \
	               >/tmp/nvidia-air-apt.log 2>&1; then \
	            tail -n 30 /tmp/nvidia-air-apt.log >&2; \
	            problem="apt-get install$$missing failed"; \
	        fi; \
	    fi; \
	    if [ -n "$$problem" ]; then \
	        if [ -n "$$required" ] && ! command -v qemu-img >/dev/null 2>&1; then \
	            echo "error: qemu-img is missing and $$problem; install qemu-utils / qemu-img yourself (see bindep.txt)" >&2; \
	            exit 1; \
	        fi; \
	        echo "warning: shellcheck is missing and $$problem; ansible-test sanity will skip its shellcheck test" >&2; \
	    fi; \
	fi

# The stamp is rebuilt when the pinned requirements or the emulator's
# pyproject.toml change (the latter only once it exists).
$(STAMP): requirements-dev.txt $(wildcard $(EMULATOR_PYPROJECT)) scripts/find-python.sh \
          $(TEST_COLLECTIONS_REQUIREMENTS) scripts/test-collections.py
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
	@echo "==> extracting the collections tests/ansible needs (ansible.posix) into $(TEST_COLLECTIONS)"
	@if ! "$(VENV)/bin/python" scripts/test-collections.py $(TEST_COLLECTIONS_REQUIREMENTS) "$(TEST_COLLECTIONS)" \
	        >>"$(SETUP_LOG)" 2>&1; then \
	    grep -v "is ignored: it is neither a file nor a directory" "$(SETUP_LOG)" | tail -n 40 >&2; \
	    echo "error: scripts/test-collections.py failed (full log: $(SETUP_LOG))" >&2; \
	    exit 1; \
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
# Each layer is its own target; `test` runs them all, and pytest's exit code is
# passed through unchanged (exit 5 = "no tests collected" fails).
#
# The layers are independent (each starts its own emulator and works in scratch
# directories of its own), so `test` runs them as TEST_JOBS parallel groups.
# Layers that share something run one after another inside a group: sanity, units
# and dates share ansible-test's venvs; the artifact checks end with ansible-lint.
# Every group starts at once (7): on this 2-core machine the run keeps both cores
# busy from start to end, so a group held back for a free slot only ran on alone
# after the others had ended (a fresh-clone run on a quiet machine: 2 min of tail).
# Each group's output is printed in one piece when it ends (--output-sync). Run a
# single layer with its own target, or everything in sequence with TEST_JOBS=1.
TEST_JOBS ?= 7

# Per-user state that parallel layers would otherwise make at the same moment on a new machine (ansible-test's
# SSH key and pip bootstrap script under ~/.ansible/test) is made once before they fan out; every other piece of
# state a layer makes is its own (scratch copies under .cache/, an emulator per layer, temporary directories).
test: setup
	@bash scripts/ansible-test.sh --prepare-user-state
	@start=$$SECONDS; \
	$(MAKE) -j$(TEST_JOBS) --output-sync=target test-groups; \
	echo "==> test: every layer passed in $$((SECONDS - start)) s"

# Longest first, so they start first.
test-groups: test-ansible test-integration test-group-pytest test-group-ansible-test test-molecule \
             test-matrix test-group-artifact

test-group-pytest: setup
	@$(MAKE) test-emulator
	@$(MAKE) test-conformance
	@$(MAKE) test-client

test-group-ansible-test: setup
	@$(MAKE) test-sanity
	@$(MAKE) test-units
	@$(MAKE) test-dates

test-group-artifact: setup
	@$(MAKE) test-demo
	@$(MAKE) test-emulator-install
	@$(MAKE) test-awx
	@$(MAKE) test-ee
	@$(MAKE) test-galaxy
	@$(MAKE) test-changelog
	@$(MAKE) lint

# The pytest layers each start their own emulator (air_emulator.testing.Emulator):
# the client against it and a moto S3 server, the emulator's own tests, the official
# SDK against it, and the modules through Ansible (pytest-ansible ad-hoc tasks).
test-client: setup
	@echo "==> test-client: tests/unit/plugins/module_utils (client and uploader against the emulator)"
	@$(PYTEST) tests/unit/plugins/module_utils -q

test-emulator: setup
	@echo "==> test-emulator: $(EMULATOR_DIR)/tests"
	@$(PYTEST) $(EMULATOR_DIR)/tests -q

test-conformance: setup
	@echo "==> test-conformance: tests/conformance (the official nv-air-sdk against the emulator)"
	@$(PYTEST) tests/conformance -q

# test-emulator-install: the emulator as users install it for their own CI (README.md, "Testing your
# playbooks"), each way into a bare venv under .cache/emulator-install: the wheel (emulator-wheel), which then
# runs tests/emulator_install/playbook.yml with the built collection through `air-emulator-run -- ...`; and
# `pip install` from the repository's subdirectory tests/air_emulator (git+file://, the committed HEAD).
# Installing the emulator's dependencies needs PyPI (or pip's cache). Python: EMULATOR_INSTALL_PYTHON
# (default python3).
test-emulator-install: setup
	@bash scripts/test-emulator-install.sh

# emulator-wheel: the emulator as a wheel of its own (EMULATOR_WHEEL_DIR, default .cache/emulator-wheel).
EMULATOR_WHEEL_DIR ?= $(CURDIR)/.cache/emulator-wheel

emulator-wheel: setup
	@bash scripts/emulator-wheel.sh "$(EMULATOR_WHEEL_DIR)"

# The tests here mostly wait on ansible-playbook processes and emulators, so they run on 3 pytest-xdist
# workers (each with emulators of its own).
ANSIBLE_TEST_WORKERS ?= 3

test-ansible: setup
	@echo "==> test-ansible: tests/ansible (modules, roles and the upload action plugin through Ansible)"
	@$(PYTEST) tests/ansible -q -n $(ANSIBLE_TEST_WORKERS)

# ansible-test sanity and units run on a copy of the collection at
# .cache/ansible-test/ansible_collections/nvidia/air (ansible-test needs that path
# layout; scripts/ansible-test.sh syncs the copy) in virtual environments it creates
# under ~/.ansible/test (--venv; the first run installs them, about 2 minutes).
#
# test-sanity runs every default sanity test: the single-version ones (pep8, pylint,
# validate-modules, ansible-doc, yamllint, shellcheck, ...) on the controller Python
# (.venv's 3.12), and compile and import, the multi-version ones, on every Python
# 3.9-3.14 that is found (tests/config.yml: modules support >= 3.9; a version that
# is not installed is skipped with a warning). The ignore files in tests/sanity/
# stay empty: fix the finding instead. Extra arguments: SANITY_ARGS, e.g.
#   make test-sanity SANITY_ARGS="--test pylint --test pep8"
#   make test-sanity SANITY_ARGS="--python 3.12"     (every test, only on 3.12)
SANITY_ARGS ?=

test-sanity: setup
	@echo "==> test-sanity: ansible-test sanity --venv $(SANITY_ARGS)"
	@bash scripts/ansible-test.sh sanity --venv $(SANITY_ARGS)

# test-units: `ansible-test units` for tests/unit/plugins/modules/ only (module logic,
# no network). tests/unit/plugins/module_utils/ needs the Air API emulator and is run
# by plain pytest, so it is never passed to ansible-test.
UNITS_ARGS ?=

test-units: setup
	@echo "==> test-units: ansible-test units --venv --python 3.12 tests/unit/plugins/modules/ $(UNITS_ARGS)"
	@bash scripts/ansible-test.sh units --venv --python 3.12 $(UNITS_ARGS) tests/unit/plugins/modules/

# test-dates: the date parser's table (tests/unit/plugins/modules/test_module_utils_dates.py) with
# `ansible-test units` on each Python a module may run on, 3.9 to 3.13, in a copy of its own
# (.cache/ansible-test-dates). Every one of those interpreters must be found (python3.X on PATH or
# pyenv): a missing one fails the target, since the point is that the table holds on each.
DATES_PYTHONS ?= 3.9 3.10 3.11 3.12 3.13
DATES_COPY := $(CURDIR)/.cache/ansible-test-dates/ansible_collections/nvidia/air

test-dates: setup
	@start=$$SECONDS; \
	for py in $(DATES_PYTHONS); do \
	    echo "==> test-dates: ansible-test units --venv --python $$py test_module_utils_dates.py"; \
	    ANSIBLE_TEST_COPY="$(DATES_COPY)" bash scripts/ansible-test.sh units --venv --python "$$py" \
	        tests/unit/plugins/modules/test_module_utils_dates.py; \
	done; \
	echo "==> test-dates: passed on $(DATES_PYTHONS) in $$((SECONDS - start)) s"

# ansible-test integration: one target per module (tests/integration/targets/)
# against the Air API emulator. The setup_air_emulator target starts the emulator
# (free port, temporary data dir) for the first target and the others reuse it;
# scripts/ansible-test-integration.sh stops it when ansible-test returns, whatever
# the outcome, and the recipe stops it once more through its state file (a no-op
# unless the script itself was killed). The targets find .venv/bin/air-emulator and
# the emulator's state file through tests/integration/integration_config.yml, which
# the script writes into the ansible-test copy. Extra arguments: INTEGRATION_ARGS, e.g.
#   make test-integration INTEGRATION_ARGS="air_image_share -v"
#   AIR_IT_RUNS=2 make test-integration     (every target twice against one emulator)
INTEGRATION_ARGS ?=

# Without INTEGRATION_ARGS the targets run as INTEGRATION_SHARDS shards side by side (each with its own
# copy and emulator: scripts/ansible-test-integration.sh --shard K/N), dealt by their measured cost
# (tests/integration/target-seconds.txt) so the shards end together; each shard's output is printed when
# all have ended, and the first failing shard's exit status is the recipe's. Three: the integration targets
# are the longest layer, and with two shards they ran alone for minutes after every other layer had ended.
INTEGRATION_SHARDS ?= 3

test-integration: setup
	@echo "==> test-integration: ansible-test integration against the Air API emulator"
	@if [ -n "$(strip $(INTEGRATION_ARGS))" ] || [ "$(INTEGRATION_SHARDS)" -le 1 ]; then \
	    status=0; bash scripts/ansible-test-integration.sh $(INTEGRATION_ARGS) || status=$$?; \
	    bash scripts/ansible-test-integration.sh --stop-emulator; \
	    exit $$status; \
	fi; \
	logs=$$(mktemp -d); pids=(); start=$$SECONDS; \
	for k in $$(seq 0 $$(($(INTEGRATION_SHARDS) - 1))); do \
	    bash scripts/ansible-test-integration.sh --shard $$k/$(INTEGRATION_SHARDS) >"$$logs/$$k.log" 2>&1 & pids+=($$!); \
	done; \
	status=0; for k in "$${!pids[@]}"; do \
	    wait "$${pids[$$k]}" || { rc=$$?; [ $$status -ne 0 ] || status=$$rc; echo "==> integration shard $$k failed (exit $$rc)"; }; \
	done; \
	for k in "$${!pids[@]}"; do cat "$$logs/$$k.log"; done; rm -rf "$$logs"; \
	echo "==> test-integration: $(INTEGRATION_SHARDS) shards ended in $$((SECONDS - start)) s (exit $$status)"; \
	exit $$status

# Molecule: one scenario per role under extensions/molecule/ (image_build,
# image_release, image_claim; shared settings in extensions/molecule/config.yml),
# delegated to localhost (connection local), all against one Air API emulator that
# air-emulator-run starts for the run (free port, temporary data dir; it exports
# AIR_API_URL and AIR_EMULATOR_URL) and stops afterwards. molecule runs without AIR_API_URL and
# AIR_API_TOKEN: the scenarios connect through module_defaults and role variables only. molecule finds the
# scenarios from the collection root (galaxy.yml). Each scenario runs destroy,
# syntax, prepare, converge, idempotence (the second converge must change nothing),
# verify (state through nvidia.air.air_image_info, then the role's input
# validation) and destroy. Extra arguments: MOLECULE_ARGS (default --all), e.g.
#   make test-molecule MOLECULE_ARGS="-s image_release"
MOLECULE_ARGS ?= --all
MOLECULE_CHUNK_SIZE ?= 5242880
MOLECULE_DELAY ?= 0.5

test-molecule: setup
	@echo "==> test-molecule: molecule test $(MOLECULE_ARGS) against the Air API emulator"
	@start=$$SECONDS; \
	"$(VENV)/bin/air-emulator-run" --chunk-size $(MOLECULE_CHUNK_SIZE) \
	    --validation-delay $(MOLECULE_DELAY) --transition-delay $(MOLECULE_DELAY) -- \
	    env -u AIR_API_URL -u AIR_API_TOKEN "$(VENV)/bin/molecule" test $(MOLECULE_ARGS); \
	echo "==> test-molecule: passed in $$((SECONDS - start)) s"

# test-matrix: the oldest supported ansible-core (meta/runtime.yml: 2.16) with Python 3.11, in its own venv
# (.cache/venv-2.16, made on first use from tests/matrix/requirements-2.16.txt): the module unit tests
# (ansible-test units) and the smoke integration target (every module of the action group and every role
# once, credentials from module_defaults; it fails when a module, role or lookup plugin is missing from it)
# against an emulator of its own (scripts/test-matrix.sh). The newest is what test-units and
# test-integration run.
test-matrix: setup
	@start=$$SECONDS; bash scripts/test-matrix.sh; echo "==> test-matrix: passed in $$((SECONDS - start)) s"

# test-demo: `make demo` as a newcomer sees it; it must pass (the second run changes nothing) and print no
# warning of any kind (a Python DeprecationWarning from a dependency, Ansible's [WARNING] or [DEPRECATION
# WARNING]): the demo is the first thing a newcomer runs.
test-demo: setup
	@echo "==> test-demo: make demo, whose output must carry no warning"
	@log=$$(mktemp); status=0; start=$$SECONDS; \
	env -u AIR_API_URL $(MAKE) demo >"$$log" 2>&1 || status=$$?; \
	if [ $$status -ne 0 ]; then tail -n 60 "$$log"; rm -f "$$log"; echo "error: make demo failed (exit $$status)" >&2; exit 1; fi; \
	if grep -n -i -E "warning|deprecat" "$$log" >&2; then rm -f "$$log"; echo "error: make demo printed the warnings above" >&2; exit 1; fi; \
	rm -f "$$log"; echo "==> test-demo: passed in $$((SECONDS - start)) s, no warning"

# test-awx: docs/awx/ for AWX and Automation Platform: the credential type's injectors (rendered as AWX
# renders them) against what the modules and roles read, the job template's survey against the release
# role's options, and the job template's playbook run against its own Air API emulator with nothing but
# the survey's answers and the credential's injected environment and extra vars.
test-awx: setup
	@echo "==> test-awx: tests/awx (credential type, job template, a job against the emulator)"
	@$(PYTEST) tests/awx -q

# test-ee: `ansible-builder create` on docs/awx/execution-environment.yml with a freshly built tarball
# (.cache/ee), then the image's galaxy and introspection stages replayed without a container: the
# context must install the collection with requests (minimum from requirements.txt) and qemu-utils /
# qemu-img from bindep.txt (scripts/test-ee.sh).
test-ee: setup
	@bash scripts/test-ee.sh

# test-galaxy: build the collection (into .cache/galaxy-importer/build) and import it with the pinned
# galaxy-importer in its own venv (.cache/galaxy-importer/venv, made on first use), as Galaxy does on
# upload; any WARNING or ERROR it logs fails the target (scripts/test-galaxy.sh). Before that,
# tests/artifact/check_artifact.py refuses development paths, placeholder files and links that do not
# resolve inside the artifact.
test-galaxy: setup
	@start=$$SECONDS; bash scripts/test-galaxy.sh; echo "==> test-galaxy: passed in $$((SECONDS - start)) s"

# test-changelog: CHANGELOG.rst and changelogs/changelog.yaml are what antsibull-changelog makes of the
# fragments (scripts/changelog.sh --check, in a scratch copy). `make changelog` releases new fragments
# into galaxy.yml's version and regenerates CHANGELOG.rst.
test-changelog: setup
	@bash scripts/changelog.sh --check

changelog: setup
	@bash scripts/changelog.sh

# ---------------------------------------------------------------------------
# lint / build / clean
# ---------------------------------------------------------------------------

lint: setup
	@echo "==> ansible-lint (production profile, whole collection incl. $(DEMO_PLAYBOOK))"
	@"$(VENV)/bin/ansible-lint"
	@echo "==> antsibull-docs lint-collection-docs --plugin-docs (the docs as docs.ansible.com renders them)"
	@"$(VENV)/bin/antsibull-docs" lint-collection-docs --plugin-docs .
	@echo "==> antsibull-changelog lint"
	@"$(VENV)/bin/antsibull-changelog" lint
	@echo "==> bash -n .ci/run scripts/*.sh"
	@for f in .ci/run scripts/*.sh; do bash -n "$$f"; done

# Builds into .cache/build (ignored) and fails if dev/test/CI paths, placeholder files or links that do
# not resolve leaked into the artifact (tests/artifact/check_artifact.py).
build: setup
	@rm -rf .cache/build && mkdir -p .cache/build
	@"$(VENV)/bin/ansible-galaxy" collection build --force --output-path .cache/build >/dev/null
	@tarball=$$(ls .cache/build/nvidia-air-*.tar.gz); \
	echo "==> built $$tarball ($$(tar -tzf "$$tarball" | wc -l) entries)"; \
	"$(VENV)/bin/python" tests/artifact/check_artifact.py "$$tarball"

clean:
	@echo "==> removing .venv, collections/, caches and build artefacts"
	@rm -rf .venv collections .cache .pytest_cache changelogs/.plugin-cache.yaml
	@rm -f nvidia-air-*.tar.gz
	@find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} + 2>/dev/null || true
