# Habitat env-worker image: habitat-sim (headless, EGL, Bullet) from conda and habitat-lab, in an env of
# its own because habitat-lab pins numpy==1.26.4 while the main stack uses numpy 2.
# Python must equal the cluster's (Ray requires one Python version across nodes): the stable aihabitat
# channel builds habitat-sim for Python 3.9 only, aihabitat-nightly also for 3.10 and 3.11.
# Build from the repository root:  docker build -f docker/habitat.Dockerfile -t embodied/habitat:0.1.0 .
# Scenes and episodes are mounted at /data (see docker/README.md): -v /path/to/habitat-data:/data
FROM condaforge/miniforge3:24.11.3-0

ARG PYTHON_VERSION=3.11.7
ARG HABITAT_CHANNEL=aihabitat-nightly
ARG HABITAT_SIM_VERSION=0.3.3
# habitat-lab on PyPI is versioned 0.3.3YYYYMMDD; 0.3.320250127 does not import on Python 3.11 (a dataclass with
# a mutable default), 0.3.320260507 does (checked by tests/real_packages in CI).
ARG HABITAT_LAB_VERSION=0.3.320260507
ARG TORCH_VERSION=2.13.0
ARG RAY_VERSION=2.60.0
ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics \
    MAGNUM_LOG=quiet \
    HABITAT_SIM_LOG=quiet \
    EMBODIED_HABITAT_DATA=/data

# EGL/GL libraries for headless rendering (the NVIDIA driver's EGL comes from the host at run time).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libegl1 libgl1 libglib2.0-0 rsync openssh-client \
    && rm -rf /var/lib/apt/lists/*

RUN conda create -y -n habitat "python=${PYTHON_VERSION}" "cmake>=3.14" \
    && conda install -y -n habitat -c conda-forge -c "${HABITAT_CHANNEL}" \
        "habitat-sim=${HABITAT_SIM_VERSION}" withbullet headless \
    && conda clean -afy

ENV PATH=/opt/conda/envs/habitat/bin:$PATH
WORKDIR /opt/embodied
COPY . .

# One constraints file keeps numpy at habitat-lab's pin for every later install (opencv, torch, ours).
RUN echo "numpy==1.26.4" > /opt/constraints.txt \
    && pip install --no-cache-dir -c /opt/constraints.txt "habitat-lab==${HABITAT_LAB_VERSION}" \
    && pip install --no-cache-dir -c /opt/constraints.txt --index-url https://download.pytorch.org/whl/cpu \
        "torch==${TORCH_VERSION}" \
    && pip install --no-cache-dir -c /opt/constraints.txt "ray[default]==${RAY_VERSION}" -e . \
    && python -c "import habitat_sim, habitat, numpy; assert numpy.__version__ == '1.26.4'" \
    && mkdir -p /data/scene_datasets /data/datasets

VOLUME ["/data"]
CMD ["embodied", "envs"]
