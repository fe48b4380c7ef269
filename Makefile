# One-command set-up: `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

GUNICORN_PIDFILE ?= var/gunicorn-$(PORT).pid

.PHONY: run test install migrate lint format bench superuser worker beat web reload clean

install: $(STAMP)

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the requirements into $(VENV) (first run: a minute or two)..."
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

migrate: install
	$(BIN)/python manage.py ensure_database
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python backend/supervisor.py Procfile

web: migrate
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Zero-downtime reload of the gunicorn started by `make run`: new workers with fresh code take
# over the listening socket while the old ones finish their requests.
reload:
	@test -s $(GUNICORN_PIDFILE) || { echo "no gunicorn pidfile at $(GUNICORN_PIDFILE)"; exit 1; }
	kill -HUP $$(cat $(GUNICORN_PIDFILE))

worker: install
	$(BIN)/celery -A backend worker -l INFO

beat: install
	$(BIN)/celery -A backend beat -l INFO

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: migrate
	@command -v wrk >/dev/null 2>&1 || apt-get install -y wrk >/dev/null 2>&1 || \
		echo "wrk missing (apt-get install -y wrk): the ingest bench uses its Python load loop"
	$(BIN)/python -m bench $(BENCH_ARGS)

superuser: migrate
	$(BIN)/python manage.py createsuperuser --noinput

clean:
	rm -rf $(VENV) var/cache var/broker var/broker.sqlite3* staticfiles
