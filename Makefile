# Two commands for a fresh machine: `make run` and `make test`. Only Python 3.12, make and
# access to PyPI are needed; uv is installed into .tools/ when it is not on the PATH.

SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PYTHON_BOOTSTRAP ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
# The local demo runs without the second sign-in step; `make run STAFF_2FA_REQUIRED=1` turns it on.
STAFF_2FA_REQUIRED ?= 0
# Links in the demo's emails and calendar feed point at the port it runs on
# (`make run PORT=8001`); the emails themselves are files under outbox/, read at /staff/outbox/.
DEMO_ENV := DEBUG=1 STAFF_2FA_REQUIRED=$(STAFF_2FA_REQUIRED) TASKS_BACKEND=immediate \
	PORTAL_BASE_URL=http://$(HOST):$(PORT) EMAIL_FILE_PATH=$(CURDIR)/outbox
# The suite runs in two pytest-xdist workers, each with its own test database (a quiet 2-core
# machine: 68 s instead of 84 s); `make test TEST_WORKERS=0` runs it in one process.
TEST_WORKERS ?= 2

.PHONY: run test sync lint check bench demo-passwords clean

.tools/bin/uv:
	$(PYTHON_BOOTSTRAP) -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check uv

sync: $(if $(filter .tools/bin/uv,$(UV)),.tools/bin/uv)
	$(UV) sync --frozen

run: sync
	$(DEMO_ENV) $(UV) run --frozen python manage.py migrate --no-input
	@$(DEMO_ENV) $(UV) run --frozen python manage.py seed_demo --logins-to .demo-logins
	@echo ""
	@echo "  Harmonyze Portal: http://$(HOST):$(PORT)/   staff sign-in: http://$(HOST):$(PORT)/admin/"
	@echo "  Demo emails: http://$(HOST):$(PORT)/staff/outbox/ (signed in)"
	@if [ -s .demo-logins ]; then cat .demo-logins; rm -f .demo-logins; \
	else echo "  The demo logins were printed on the first run; 'make demo-passwords' prints new ones."; fi
	@echo ""
	$(DEMO_ENV) $(UV) run --frozen python manage.py runserver $(HOST):$(PORT)

demo-passwords: sync
	$(DEMO_ENV) $(UV) run --frozen python manage.py seed_demo --reset-passwords

test: sync
	$(UV) run --frozen python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: sync
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy .

bench: sync
	$(UV) run --frozen python -m bench

clean:
	rm -rf .tools .venv db.sqlite3 staticfiles outbox .pytest_cache .mypy_cache .ruff_cache
