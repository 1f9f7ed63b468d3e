# syntax=docker/dockerfile:1.7
# One image pattern for every Hearth service:
#   docker build -f docker/service.Dockerfile --build-arg SERVICE=identity -t hearth-identity .
# The builder installs that service's workspace package (and only what it needs) into a
# virtual environment; the runtime image is python:3.11-slim with that environment, run as
# an unprivileged user, fine with a read-only root filesystem (writes go to /data and /tmp).
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ARG SERVICE
ARG UV_VERSION=0.13.9
RUN test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=<service name>" >&2; exit 1; }
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/hearth
RUN --mount=type=cache,target=/root/.cache/pip pip install "uv==${UV_VERSION}"
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY libs ./libs
COPY services ./services
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "hearth-${SERVICE}" \
    && /opt/hearth/bin/python -c "import importlib.util as u, sys; \
sys.exit(u.find_spec('hearth_${SERVICE}.__main__') is None and 'no module hearth_${SERVICE}')"

FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
LABEL org.opencontainers.image.title="hearth-${SERVICE}" \
      org.opencontainers.image.description="Hearth ${SERVICE} service"
RUN groupadd --system --gid 10001 hearth \
    && useradd --system --uid 10001 --gid hearth --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin hearth \
    && install -d -o hearth -g hearth -m 0750 /data
COPY --from=builder /opt/hearth /opt/hearth
COPY --chmod=0555 docker/entrypoint.sh /usr/local/bin/hearth-entrypoint
ENV PATH=/opt/hearth/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HEARTH_SERVICE=${SERVICE} \
    HEARTH_ENV=production \
    HEARTH_DATA_DIR=/data \
    PORT=8000
WORKDIR /data
USER 10001:10001
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2)"]
ENTRYPOINT ["hearth-entrypoint"]
