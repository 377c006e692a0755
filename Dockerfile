# Switchboard's Python services (orchestrator, worker, web, emulator) in one image.
FROM node:20-bookworm-slim AS web-assets
WORKDIR /src/web
COPY web/package.json web/package-lock.json web/build.sh ./
RUN bash build.sh

FROM python:3.11-slim-bookworm
WORKDIR /opt/switchboard
COPY setup.cfg pyproject.toml README.md ./
COPY switchboard switchboard
COPY control control
COPY orchestrator orchestrator
COPY worker worker
COPY web web
COPY plugins plugins
COPY sfemu sfemu
COPY --from=web-assets /src/web/static/vendor web/static/vendor
RUN pip install --no-cache-dir ".[postgres]"
USER nobody
