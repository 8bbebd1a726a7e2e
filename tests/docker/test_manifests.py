"""The Ray cluster manifests validate against their schemas and agree with the images and backends."""
from __future__ import annotations

import copy
import json
import os

import jsonschema
import pytest
import ray
import yaml

import envs
from dockerfile_parse import DOCKER, IMAGES

RAY_SCHEMA = os.path.join(os.path.dirname(ray.__file__), "autoscaler", "ray-schema.json")
KUBERAY_SCHEMA = DOCKER / "schemas" / "raycluster.schema.json"


def load(name: str) -> dict:
    return yaml.safe_load((DOCKER / name).read_text())


def image_kind(image: str) -> str:
    """``embodied/habitat:0.1.0`` -> ``habitat``; anything else is not one of our images."""
    repo, _, tag = image.partition(":")
    owner, _, kind = repo.rpartition("/")
    assert owner == "embodied" and kind in IMAGES and tag, f"{image} is not one of the docker/ images"
    return kind


@pytest.fixture(scope="module")
def kuberay_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(KUBERAY_SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_ray_up_config_validates_with_rays_schema_and_checks():
    config = load("ray-cluster.yaml")
    jsonschema.validate(config, json.load(open(RAY_SCHEMA)))
    from ray.autoscaler._private.util import prepare_config, validate_config

    validate_config(prepare_config(copy.deepcopy(config)))  # ray up's own checks (node types, defaults)


def test_ray_up_schema_rejects_mistakes():
    schema = json.load(open(RAY_SCHEMA))
    config = load("ray-cluster.yaml")
    bad = copy.deepcopy(config)
    bad["available_node_types"]["cpu_env_workers"]["resources"]["CPU"] = "32"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    bad = copy.deepcopy(config)
    bad["available_node_types"]["cpu_env_workers"]["docker"]["image"] = "x"  # only worker_image is allowed
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_ray_up_cluster_layout():
    config = load("ray-cluster.yaml")
    types = config["available_node_types"]
    head = types[config["head_node_type"]]
    assert head["resources"]["GPU"] >= 1 and head["max_workers"] == 0
    assert image_kind(config["docker"]["image"]) == "cuda"  # the learner image
    workers = {image_kind(t["docker"]["worker_image"]): t for t in types.values() if "docker" in t}
    assert set(workers) == {"cpu", "habitat", "minedojo"}
    assert workers["habitat"]["resources"]["GPU"] >= 1
    assert any("/data" in opt for opt in workers["habitat"]["docker"]["worker_run_options"])
    for t in types.values():  # custom resources name the backends a node can run
        custom = set(t["resources"]) - {"CPU", "GPU", "memory"}
        assert custom <= set(envs.BACKENDS), custom
        assert t.get("min_workers", 0) <= t.get("max_workers", 0)


def test_kuberay_manifest_validates(kuberay_validator):
    kuberay_validator.validate(load("kuberay-raycluster.yaml"))


@pytest.mark.parametrize("mutate, where", [
    (lambda m: m["spec"]["headGroupSpec"]["rayStartParams"].update({"num-cpus": 8}), "rayStartParams"),
    (lambda m: m["spec"]["workerGroupSpecs"][0].update({"replica": 2}), "replica"),
    (lambda m: m["spec"]["headGroupSpec"].pop("template"), "template"),
    (lambda m: m["spec"]["workerGroupSpecs"][1]["template"]["spec"]["containers"][0].pop("image"), "image"),
    (lambda m: m.update({"apiVersion": "ray.io/v1alpha1"}), "ray.io/v1"),
    (lambda m: m["spec"]["workerGroupSpecs"][0].update({"groupName": "CPU_workers"}), "CPU_workers"),
])
def test_kuberay_schema_rejects_mistakes(kuberay_validator, mutate, where):
    manifest = load("kuberay-raycluster.yaml")
    mutate(manifest)
    errors = list(kuberay_validator.iter_errors(manifest))
    assert errors and any(where in (e.message + str(list(e.path))) for e in errors), errors


def test_kuberay_cluster_layout():
    manifest = load("kuberay-raycluster.yaml")
    spec = manifest["spec"]
    assert spec["rayVersion"] == ray.__version__  # Ray client and cluster must run the same Ray
    head = spec["headGroupSpec"]["template"]["spec"]["containers"][0]
    assert image_kind(head["image"]) == "cuda" and head["resources"]["limits"]["nvidia.com/gpu"] >= 1
    groups = {}
    for group in spec["workerGroupSpecs"]:
        assert group["minReplicas"] <= group["replicas"] <= group["maxReplicas"], group["groupName"]
        container = group["template"]["spec"]["containers"][0]
        groups[image_kind(container["image"])] = (group, container)
        custom = json.loads(json.loads(group["rayStartParams"]["resources"]))  # KubeRay's quoted JSON
        assert set(custom) <= set(envs.BACKENDS) and all(v > 0 for v in custom.values())
    assert set(groups) == {"cpu", "habitat", "minedojo"}
    habitat_group, habitat = groups["habitat"]
    assert habitat["resources"]["limits"]["nvidia.com/gpu"] >= 1
    assert {"name": "habitat-data", "mountPath": "/data", "readOnly": True} in habitat["volumeMounts"]
    assert {"name": "EMBODIED_HABITAT_DATA", "value": "/data"} in habitat["env"]
