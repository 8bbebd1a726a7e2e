# MineDojo env-worker image: JDK 8 (Temurin; Debian 12 has no OpenJDK 8), gym 0.21 built with the old
# setuptools/wheel it needs, numpy<2, and Minecraft (Malmo, Forge, Gradle caches, assets) built by one
# reset at image build time so that a worker's first reset needs no internet.
# Build from the repository root:  docker build -f docker/minedojo.Dockerfile -t embodied/minedojo:0.1.0 .
ARG PYTHON_VERSION=3.11.7
FROM eclipse-temurin:8-jdk-jammy AS jdk

FROM python:${PYTHON_VERSION}-slim-bookworm
ARG TORCH_VERSION=2.13.0
ARG RAY_VERSION=2.60.0
ARG MINEDOJO_VERSION=0.1
ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    JAVA_HOME=/opt/java/openjdk \
    MINEDOJO_HEADLESS=1
ENV PATH=/opt/embodied/.venv/bin:$JAVA_HOME/bin:$PATH
COPY --from=jdk /opt/java/openjdk /opt/java/openjdk

# Xvfb renders Minecraft without a display; the GL/X libraries are what LWJGL loads.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends xvfb xauth libgl1 libglu1-mesa libxrender1 libxtst6 libxi6 \
        libglib2.0-0 git rsync openssh-client \
    && rm -rf /var/lib/apt/lists/* \
    && java -version

WORKDIR /opt/embodied
COPY . .

# gym 0.21's setup.py only builds with setuptools<66 and wheel<0.40, without build isolation.
RUN python -m venv .venv \
    && echo "numpy<2" > /opt/constraints.txt \
    && pip install --no-cache-dir "setuptools<66" "wheel<0.40" \
    && pip install --no-cache-dir --no-build-isolation -c /opt/constraints.txt gym==0.21.0 \
    && pip install --no-cache-dir -c /opt/constraints.txt "minedojo==${MINEDOJO_VERSION}" \
    && pip install --no-cache-dir -c /opt/constraints.txt --index-url https://download.pytorch.org/whl/cpu \
        "torch==${TORCH_VERSION}" \
    && pip install --no-cache-dir -c /opt/constraints.txt "ray[default]==${RAY_VERSION}" -e .

# The first reset compiles Malmo with Gradle and downloads Forge and Minecraft assets: do it now
# (MINEDOJO_HEADLESS=1 makes MineDojo start Minecraft under xvfb-run).
RUN python -c "from envs.minedojo.tasks import task; from envs.minedojo.world import MineDojoWorld; \
w = MineDojoWorld(task('harvest_1_log'), seed=0, world_seed=0, image_size=(64, 64)); w.reset(); w.close(); \
print('minedojo reset ok')"

CMD ["embodied", "envs"]
