# CPU image: the laptop setup in a container, and the CPU env-worker image of the Ray cluster.
# Build from the repository root:  docker build -f docker/cpu.Dockerfile -t embodied/cpu:0.1.0 .
# Run the README's main command:    docker run --rm -v "$PWD/runs:/opt/embodied/runs" embodied/cpu:0.1.0
ARG PYTHON_VERSION=3.11.7
FROM python:${PYTHON_VERSION}-slim-bookworm

ARG TORCH_VERSION=2.13.0
ARG RAY_VERSION=2.60.0
ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

# make runs the README commands; libgl1/libglib2.0-0 are what opencv-python loads.
# Debian replaces package versions on security updates, so apt pins would break rebuilds.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends make libgl1 libglib2.0-0 rsync openssh-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/embodied
COPY . .

# The CPU build of torch first (a bare requirement pulls the CUDA build), then `make setup` finds it in
# .venv and installs the package with its test extras; Ray is pinned to the cluster's version.
RUN python -m venv .venv \
    && .venv/bin/pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu "torch==${TORCH_VERSION}" \
    && .venv/bin/pip install --no-cache-dir "ray[default]==${RAY_VERSION}" \
    && make setup \
    && .venv/bin/embodied envs

ENV PATH=/opt/embodied/.venv/bin:$PATH
CMD ["make", "demo"]
