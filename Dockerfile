# Production image: gunicorn behind nginx, running as a non-root user.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=backend.settings.base

WORKDIR /app

RUN groupadd --system app && useradd --system --gid app --home /app app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=app:app . .

# Static files are collected at build time; collectstatic needs a key but no secrets.
RUN SECRET_KEY=build-only DEBUG=False python manage.py collectstatic --noinput -v0 \
    && mkdir -p /app/var /app/var/media && chown -R app:app /app/var /app/staticfiles

USER app
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health/', timeout=4).status == 200 else 1)"

# gunicorn.conf.py reads its knobs from the environment (see .env.example); `docker compose kill
# -s HUP web` reloads the workers without dropping a connection.
ENV HOST=0.0.0.0 \
    PORT=8000 \
    WEB_CONCURRENCY=2 \
    WEB_THREADS=1 \
    WEB_TIMEOUT=60 \
    FORWARDED_ALLOW_IPS="*"
CMD ["gunicorn", "backend.wsgi", "-c", "gunicorn.conf.py"]
