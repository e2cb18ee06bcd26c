# syntax=docker/dockerfile:1.7
# The stancewire image: `stancewire worker|gateway|dispatcher|ingest ...` (helm/stancewire).
#
#   docker build -t stancewire:0.1.0 .
#
# Two stages: `build` installs the hash-pinned dependencies (constraints.txt, made by
# `make constraints`) and the project into a virtualenv, then removes every package that
# stancewire does not need at run time (the dev tools the lock also pins); the final stage
# is the same slim Python with that virtualenv and a non-root user, and nothing else.
# Pin the base by digest as well in production: python:3.11.14-slim-bookworm@sha256:...
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/stancewire \
    PATH=/opt/stancewire/bin:$PATH
RUN python -m venv /opt/stancewire
WORKDIR /src
# Dependencies first (their own layer, rebuilt only when the lock changes), every
# distribution checked against its pinned hash.
COPY constraints.txt ./
RUN pip install --require-hashes -r constraints.txt
# Then the project itself, built with the pinned setuptools and without touching the
# dependencies again.
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY streams ./streams
COPY consumers ./consumers
COPY stancewire ./stancewire
RUN pip install --no-deps --no-build-isolation --no-compile . \
    && stancewire --version
# Keep stancewire's run-time closure only: walk the requirements from `stancewire`
# (with the extras its dependencies ask for) and uninstall everything else.
RUN python - <<'PY'
import importlib.metadata as md
import subprocess
import sys

from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.utils import canonicalize_name

keep, seen, todo = set(), set(), [("stancewire", "")]
while todo:
    name, extra = todo.pop()
    if (name, extra) in seen:
        continue
    seen.add((name, extra))
    keep.add(name)
    for raw in md.distribution(name).requires or []:
        req = Requirement(raw)
        if req.marker is None or req.marker.evaluate({"extra": extra}):
            dep = canonicalize_name(req.name)
            todo += [(dep, "")] + [(dep, e) for e in req.extras]
installed = {canonicalize_name(d.metadata["Name"]) for d in md.distributions()}
drop = sorted(installed - keep - {"pip"})
print("run-time packages:", " ".join(sorted(keep)))
if drop:
    subprocess.run([sys.executable, "-m", "pip", "uninstall", "--yes", *drop], check=True)
PY
RUN python -m compileall -q -j 0 /opt/stancewire/lib \
    && stancewire --version

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="stancewire" \
      org.opencontainers.image.description="Alerts when a government's stance on using its US Treasury holdings or trade measures as leverage changes" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/stancewire/stancewire"
# A fixed numeric uid/gid (the chart's runAsUser), no login shell, no home to write to.
RUN groupadd --system --gid 10001 stancewire \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/stancewire \
       --no-create-home --shell /usr/sbin/nologin stancewire \
    && mkdir -p /var/lib/stancewire \
    && chown 10001:10001 /var/lib/stancewire
COPY --from=build /opt/stancewire /opt/stancewire
ENV VIRTUAL_ENV=/opt/stancewire \
    PATH=/opt/stancewire/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STANCEWIRE_METRICS_HOST=0.0.0.0
# The working directory is where Faust keeps its (small) data directory: an emptyDir in
# the chart, whose root filesystem is read-only.
WORKDIR /var/lib/stancewire
USER 10001:10001
# gateway, then /metrics of worker, gateway, dispatcher, feed poller
EXPOSE 8000 9100 9101 9102 9103
ENTRYPOINT ["stancewire"]
CMD ["--help"]
