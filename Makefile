# Two commands for a newcomer: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
PORT ?= 8000
# Links in e-mails, ICS files, certificates and the API follow the address the site is served at.
export WAGTAILADMIN_BASE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run test e2e install migrate demo lint messages worker e2e-browser

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

# The cache table (CACHE_BACKEND=db, the default) holds login/password-reset throttles.
migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable

demo: migrate
	$(PY) manage.py seed_demo

# Site with demo data on the embedded SQLite database: http://127.0.0.1:8000, with a task
# worker beside the web server (campaign launches, bulk enrolments, exports, package
# imports complete); Ctrl-C stops both. DEBUG is off (the site's own error pages; static
# and media files are still served): `DEBUG=1 make run` for Django's debug pages.
run: demo
	@$(PY) manage.py db_worker --no-startup-delay & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# The whole suite: lint, migrations check, unit/API tests on two processes, then the
# browser tests (skipped with a message when /usr/bin/chromium is missing).
# E2E=0 skips the browser tests (CI runs them once, on SQLite, not again on PostgreSQL).
E2E ?= 1
test: install
	$(BIN)/ruff check .
	DJANGO_SETTINGS_MODULE=cms.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest -n 2 -m "not e2e" tests
	if [ "$(E2E)" != 0 ]; then $(MAKE) --no-print-directory e2e; fi

# The browser tests alone (CI runs them beside its other checks).
e2e: install
	$(PY) -m pytest -m e2e tests/e2e

lint: install
	$(BIN)/ruff check .

# Recompile the French catalogue after editing cms/locale/fr/LC_MESSAGES/django.po
messages: install
	$(PY) manage.py makemessages -l fr -l en --ignore=.venv --ignore=tests --ignore=bench
	$(PY) manage.py compilemessages --ignore=.venv

worker: install
	$(PY) manage.py db_worker
