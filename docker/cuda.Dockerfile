# CUDA image: the GPU learner (Ray head) and GPU env workers. torch's CUDA wheels bring the CUDA runtime
# and Triton; the host provides the driver (NVIDIA Container Toolkit / the k8s device plugin).
# Build from the repository root:  docker build -f docker/cuda.Dockerfile -t embodied/cuda:0.1.0 .
ARG PYTHON_VERSION=3.11.7
FROM python:${PYTHON_VERSION}-slim-bookworm

ARG TORCH_VERSION=2.13.0
ARG TORCH_CUDA=cu128
ARG RAY_VERSION=2.60.0
ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility

# build-essential: Triton compiles its launcher stubs with a C compiler at first use.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential make libgl1 libglib2.0-0 rsync openssh-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/embodied
COPY . .

RUN python -m venv .venv \
    && .venv/bin/pip install --no-cache-dir --index-url "https://download.pytorch.org/whl/${TORCH_CUDA}" \
        "torch==${TORCH_VERSION}" \
    && .venv/bin/pip install --no-cache-dir "ray[default]==${RAY_VERSION}" \
    && .venv/bin/pip install --no-cache-dir -e ".[gpu]" \
    && .venv/bin/python -c "import torch, triton, ray; print(torch.__version__, torch.version.cuda, triton.__version__, ray.__version__)"

ENV PATH=/opt/embodied/.venv/bin:$PATH
CMD ["embodied", "train", "cluster=local"]
