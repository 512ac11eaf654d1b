"""Model caches as Git objects: claims, download Jobs and mounts, shared and dedicated (seed 001 "Model Caching")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from aimgen.render.caching import artifact_name, claim_gibibytes
from aimgen.validate.run import validate_manifests
from aimgen.validate.store import SchemaStore
from tests.artifacts.conftest import CUSTOM_WEIGHTS, HF_TOKEN, QWEN, SHIPPED, Built, aim_service, build
from tests.support import SHARED, Tree, run_cli

QWEN_URI = "hf://Qwen/Qwen3-32B-FP8"
QWEN_ARTIFACT = artifact_name(QWEN_URI, [], "", None)
GIB = 2**30


def _caches(built: Built, namespace: str, uri: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The claims and download Jobs of one source in one namespace."""
    claims = [c for c in built.of_kind("PersistentVolumeClaim", namespace)
              if c["metadata"]["annotations"]["aim.eai.amd.com/source-uri"] == uri]
    jobs = [j for j in built.of_kind("Job", namespace) if _container(j)["args"] == [uri]]
    return claims, jobs


def _container(job: dict[str, Any]) -> dict[str, Any]:
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return container


def _volume(built: Built, service: str, artifact: str) -> tuple[dict[str, Any], dict[str, Any]]:
    predictor = built.isvc(service)["spec"]["predictor"]
    volume = next(v for v in predictor["volumes"] if v["name"] == artifact)
    mount = next(m for m in predictor["containers"][0]["volumeMounts"] if m["name"] == artifact)
    return volume, mount


@pytest.mark.skipif(not (SHARED / "reference").is_dir(), reason="../shared/reference not present")
def test_artifact_names_are_the_operators() -> None:
    vectors = yaml.safe_load((SHARED / "reference/vectors/derived_names.yaml").read_text())["derived_names"]
    cases = [v for v in vectors if v["kind"].startswith("AIMArtifact name")]
    assert len(cases) >= 3
    for case in cases:
        given = case["input"]
        dedicated = given["templateCacheName"] if given["templateCacheMode"] == "Dedicated" else None
        name = artifact_name(given["modelSource"]["sourceUri"], given.get("templateCacheEnv") or [],
                             given["storageClassName"], dedicated)
        assert name == case["expected"]["artifactName"] == case["expected"]["isvcVolumeName"]


def test_claim_size_is_the_source_size_plus_headroom_in_whole_gibibytes() -> None:
    assert claim_gibibytes(33 * GIB, 10) == 37  # 36.3 rounded up
    assert claim_gibibytes(16 * GIB, 0) == 16
    assert claim_gibibytes(10**9, 10) == 2  # 1.1e9 bytes is more than 1 GiB
    assert claim_gibibytes(1024, 10) == 1


def test_services_of_a_namespace_share_one_claim_and_one_job(built: Built) -> None:
    claims, jobs = _caches(built, "ml-team", QWEN_URI)
    shared = [c for c in claims if c["metadata"]["labels"]["aim.eai.amd.com/cache.mode"] == "Shared"]
    assert len(shared) == 1 and len([j for j in jobs if j["metadata"]["labels"]["aim.eai.amd.com/cache.mode"]
                                     == "Shared"]) == 1
    claim = shared[0]
    for service in ("chat-a", "chat-b"):
        volume, mount = _volume(built, service, QWEN_ARTIFACT)
        assert volume == {"name": QWEN_ARTIFACT, "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}}
        assert mount == {"mountPath": "/workspace/cache/Qwen/Qwen3-32B-FP8", "name": QWEN_ARTIFACT}
        assert built.env(service)["AIM_CACHE_PATH"] == "/workspace/cache"


def test_shared_claim_fields(built: Built) -> None:
    claims, _ = _caches(built, "ml-team", QWEN_URI)
    claim = next(c for c in claims if c["metadata"]["labels"]["aim.eai.amd.com/cache.mode"] == "Shared")
    assert claim["apiVersion"] == "v1"
    assert claim["metadata"]["name"].startswith("hf---qwen-qwen3-32b-fp8-cache-")
    assert claim["metadata"]["namespace"] == "ml-team"
    # a shared cache belongs to no single service: no service labels
    assert claim["metadata"]["labels"] == {
        "aim.eai.amd.com/artifact": QWEN_ARTIFACT, "aim.eai.amd.com/cache.mode": "Shared",
        "app.kubernetes.io/component": "model-cache", "app.kubernetes.io/managed-by": "aimgen"}
    assert claim["metadata"]["annotations"] == {
        "aim.eai.amd.com/model-id": "Qwen/Qwen3-32B-FP8", "aim.eai.amd.com/source-uri": QWEN_URI,
        "argocd.argoproj.io/sync-wave": "-2"}
    assert claim["spec"] == {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "37Gi"}}}


def test_download_job_fields(built: Built) -> None:
    claims, jobs = _caches(built, "ml-team", QWEN_URI)
    claim = next(c for c in claims if c["metadata"]["labels"]["aim.eai.amd.com/cache.mode"] == "Shared")
    job = next(j for j in jobs if j["metadata"]["labels"]["aim.eai.amd.com/cache.mode"] == "Shared")
    assert job["apiVersion"] == "batch/v1"
    assert job["metadata"]["name"].startswith("hf---qwen-qwen3-32b-fp8-download-")
    assert job["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": "-2"}  # with its claim
    spec = job["spec"]
    assert spec["backoffLimit"] == 2
    assert "ttlSecondsAfterFinished" not in spec  # a deleted Job would be re-created by the next sync
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"] == {"fsGroup": 1000, "runAsGroup": 1000, "runAsNonRoot": True, "runAsUser": 1000}
    assert pod["volumes"] == [{"name": "cache", "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}}]
    (container,) = pod["containers"]
    assert container["image"] == "ghcr.io/silogen/aim-artifact-downloader:0.2.0"
    assert container["args"] == [QWEN_URI]
    assert container["volumeMounts"] == [{"mountPath": "/cache", "name": "cache"}]
    assert {e["name"]: e["value"] for e in container["env"]} == {
        "AIM_DOWNLOADER_PROTOCOL": "XET,HF_TRANSFER", "EXPECTED_SIZE_BYTES": str(33 * GIB), "HF_HOME": "/tmp/.hf",
        "MOUNT_PATH": "/cache", "STALL_TIMEOUT": "120", "TARGET_DIR": "/cache", "TMPDIR": "/tmp/"}


def test_dedicated_cache_is_the_services_own(built: Built) -> None:
    claims, jobs = _caches(built, "ml-team", QWEN_URI)
    claim = next(c for c in claims if c["metadata"]["labels"]["aim.eai.amd.com/cache.mode"] == "Dedicated")
    job = next(j for j in jobs if j["metadata"]["labels"]["aim.eai.amd.com/cache.mode"] == "Dedicated")
    artifact = artifact_name(QWEN_URI, [], "", "chat-dedicated")
    assert artifact != QWEN_ARTIFACT
    for obj in (claim, job):
        assert obj["metadata"]["labels"]["aim.eai.amd.com/service.name"] == "chat-dedicated"
        assert obj["metadata"]["labels"]["aim.eai.amd.com/artifact"] == artifact
    volume, _ = _volume(built, "chat-dedicated", artifact)
    assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert job["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == (
        claim["metadata"]["name"])


def test_every_namespace_has_its_own_copy(built: Built) -> None:
    claims, jobs = _caches(built, "research", QWEN_URI)
    assert len(claims) == len(jobs) == 1
    mine, _ = _caches(built, "ml-team", QWEN_URI)
    shared = next(c for c in mine if c["metadata"]["labels"]["aim.eai.amd.com/cache.mode"] == "Shared")
    assert claims[0]["spec"] == shared["spec"]


def test_s3_weights_download_with_the_sources_endpoint_and_secret_credentials(built: Built) -> None:
    uri = "s3://my-bucket/fp8-weights/"
    claims, jobs = _caches(built, "ml-team", uri)
    assert len(claims) == len(jobs) == 1
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in _container(jobs[0])["env"]}
    assert env["AWS_ENDPOINT_URL"] == "https://minio.example.com"
    assert env["AWS_ACCESS_KEY_ID"] == {"secretKeyRef": {"key": "access-key", "name": "s3-creds"}}
    assert env["AWS_SECRET_ACCESS_KEY"] == {"secretKeyRef": {"key": "secret-key", "name": "s3-creds"}}
    assert claims[0]["spec"]["resources"]["requests"]["storage"] == "33Gi"  # 30Gi + 10 %
    _, mount = _volume(built, "finetuned", claims[0]["metadata"]["labels"]["aim.eai.amd.com/artifact"])
    assert mount["mountPath"] == "/workspace/cache/my-org/qwen-finetuned-fp8"


def test_the_services_hf_token_reaches_the_download_job_only_as_a_secret_reference(built: Built) -> None:
    _, jobs = _caches(built, "ml-team", "s3://my-bucket/weights/")
    env = _container(jobs[0])["env"]
    assert HF_TOKEN in env


def _runtime_config(**spec: Any) -> str:
    return yaml.safe_dump({"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMClusterRuntimeConfig",
                           "metadata": {"name": "default"}, "spec": spec}, sort_keys=False)


def test_storage_settings_overlay_then_runtime_config_then_service(tree: Tree) -> None:
    tree.write("overlays/dev/overlay.yaml", yaml.safe_dump({
        "apiVersion": "aimgen.amd.com/v1alpha1", "kind": "Overlay", "metadata": {"name": "dev"},
        "spec": {"settings": {"caching": {"downloadImage": "registry.local/downloader:1", "storageClassName": "nfs",
                                          "pvcHeadroomPercent": 50}}}}))
    catalog = SHIPPED + "---\n" + _runtime_config(
        storage={"pvcHeadroomPercent": 20}, env=[{"name": "HF_ENDPOINT", "value": "https://hf-mirror.local"},
                                                 {"name": "HF_HOME", "value": "/workspace/cache/hf"},
                                                 {"name": "VLLM_LOGGING_LEVEL", "value": "DEBUG"}])
    built = build(tree, aim_service("a", model=QWEN, env=[{"name": "VLLM_USE_V1", "value": "1"}]),
                  aim_service("b", model=QWEN, storage={"defaultStorageClassName": "cephfs"}), catalog=catalog)
    by_service = {}
    for service in ("a", "b"):
        volume = next(v for v in built.isvc(service)["spec"]["predictor"]["volumes"] if "persistentVolumeClaim" in v)
        by_service[service] = built.named("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
    assert by_service["a"]["spec"]["storageClassName"] == "nfs"  # overlay
    assert by_service["a"]["spec"]["resources"]["requests"]["storage"] == "40Gi"  # runtime config: 33Gi * 1.2
    assert by_service["b"]["spec"]["storageClassName"] == "cephfs"  # service
    # another storage class is another artifact: the services no longer share
    assert by_service["a"]["metadata"]["labels"] != by_service["b"]["metadata"]["labels"]
    job = next(j for j in built.of_kind("Job") if j["spec"]["template"]["spec"]["volumes"][0]
               ["persistentVolumeClaim"]["claimName"] == by_service["a"]["metadata"]["name"])
    container = _container(job)
    assert container["image"] == "registry.local/downloader:1"
    names = [e["name"] for e in container["env"]]
    assert "HF_ENDPOINT" in names  # a download variable of the runtime config
    assert "VLLM_LOGGING_LEVEL" not in names and "VLLM_USE_V1" not in names  # the model server's only
    assert {"name": "HF_HOME", "value": "/tmp/.hf"} in container["env"]  # the Job's layout is its own


def test_a_source_without_size_gets_the_default_size_and_a_located_warning(built: Built) -> None:
    claims, jobs = _caches(built, "team-a", "hf://sshleifer/tiny-gpt2")
    assert claims[0]["spec"]["resources"]["requests"]["storage"] == "110Gi"  # 100Gi default + 10 %
    env = {e["name"]: e["value"] for e in _container(jobs[0])["env"]}
    assert env["EXPECTED_SIZE_BYTES"] == "0"  # unknown
    (warning,) = [w for w in built.stderr.splitlines() if "ModelSourceSizeMissing" in w]
    assert warning.startswith("overlays/dev/services.yaml:88:9: warning[ModelSourceSizeMissing]")


def test_no_cache_without_sources_or_when_the_profile_opts_out(tree: Tree) -> None:
    no_sources = SHIPPED.replace("  modelSources:\n  - {modelId: Qwen/Qwen3-32B-FP8, sourceUri: "
                                 "hf://Qwen/Qwen3-32B-FP8, size: 33Gi}\n", "")
    opted_out = CUSTOM_WEIGHTS + "  caching: {enabled: false}\n"
    tree.write("overlays/dev/ml-team.yaml", opted_out)
    tree.write("catalog/catalog.yaml", no_sources)
    tree.write("overlays/dev/services.yaml", "---\n".join([
        aim_service("a", model=QWEN),
        aim_service("ft", model={"image": "amdenterpriseai/aim-base:0.8.5"},
                    template={"name": "my-finetuned-qwen-mi300x-lat-fp8"})]))
    res = run_cli("build", root=tree.root)
    assert res.code == 0, res.stderr
    built = Built(tree, res.stderr)
    assert built.of_kind("PersistentVolumeClaim") == built.of_kind("Job") == []
    for service in ("a", "ft"):
        assert [v["name"] for v in built.isvc(service)["spec"]["predictor"]["volumes"]] in (
            ["dshm"], ["dshm", "custom-profile"])


def test_caching_env_without_enabled_keeps_caching_on(tree: Tree) -> None:
    tree.write("catalog/catalog.yaml", "")
    tree.write("overlays/dev/m.yaml", """\
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMModel
metadata: {name: m, namespace: ml-team}
spec: {image: example/aim-base:1}
---
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMServiceTemplate
metadata: {name: t, namespace: ml-team}
spec:
  modelName: m
  type: optimized
  modelSources: [{modelId: org/m, sourceUri: "hf://org/m", size: 1Gi}]
  caching:
    env: [{name: HF_HUB_ENABLE_HF_TRANSFER, value: "1"}]
""")
    tree.write("overlays/dev/services.yaml", aim_service("s", model={"name": "m"}))
    res = run_cli("build", root=tree.root)
    assert res.code == 0, res.stderr
    (job,) = Built(tree, res.stderr).of_kind("Job")
    assert {"name": "HF_HUB_ENABLE_HF_TRANSFER", "value": "1"} in _container(job)["env"]


def test_a_shared_cache_stays_while_any_service_uses_it(tree: Tree) -> None:
    build(tree, aim_service("a", model=QWEN), aim_service("b", model=QWEN))
    claim_files = {p for p in tree.rendered() if "/persistentvolumeclaim-" in p}
    assert len(claim_files) == 1
    build(tree, aim_service("b", model=QWEN))
    assert {p for p in tree.rendered() if "/persistentvolumeclaim-" in p} == claim_files
    build(tree, aim_service("b", model={"image": "amdenterpriseai/aim-base:0.8.5"},
                            template={"name": "my-finetuned-qwen-mi300x-lat-fp8"}))
    assert not {p for p in tree.rendered() if "hf---qwen" in p}  # the last user is gone


def test_a_changed_job_is_a_new_job(tree: Tree) -> None:
    def names() -> tuple[set[str], set[str]]:
        files = tree.rendered()
        return ({p for p in files if "/persistentvolumeclaim-hf" in p}, {p for p in files if "/job-hf" in p})

    build(tree, aim_service("a", model=QWEN))
    claims, jobs = names()
    tree.write("overlays/dev/overlay.yaml", yaml.safe_dump({
        "apiVersion": "aimgen.amd.com/v1alpha1", "kind": "Overlay", "metadata": {"name": "dev"},
        "spec": {"settings": {"caching": {"downloadImage": "registry.local/downloader:2"}}}}))
    build(tree, aim_service("a", model=QWEN))
    new_claims, new_jobs = names()
    assert new_claims == claims and new_jobs.isdisjoint(jobs) and len(new_jobs) == 1
    build(tree, aim_service("a", model=QWEN, storage={"pvcHeadroomPercent": 30}))
    assert names()[0].isdisjoint(claims)  # a claim cannot shrink or grow in place either


def test_legacy_modes_and_cache_model_are_reported(tree: Tree) -> None:
    built = build(tree, aim_service("a", model=QWEN, caching={"mode": "Never"}, cacheModel=False))
    claim = built.of_kind("PersistentVolumeClaim")[0]
    assert claim["metadata"]["labels"]["aim.eai.amd.com/cache.mode"] == "Dedicated"
    codes = [line.split("[", 1)[1].split("]")[0] for line in built.stderr.splitlines() if "warning[" in line]
    assert sorted(codes) == ["DeprecatedCachingMode", "DeprecatedField"]


@pytest.mark.parametrize(("source", "at", "code"), [
    ({"modelId": "org/m", "sourceUri": "hf://only-org"}, "hf://only-org", "InvalidValue"),
    ({"modelId": "org/m", "sourceUri": "s3://Bad_Bucket/x"}, "s3://Bad_Bucket/x", "InvalidValue"),
    ({"modelId": "org/m", "sourceUri": "gs://bucket/x"}, "gs://bucket/x", "InvalidValue"),
    ({"modelId": "org/m", "sourceUri": "hf://org/m", "size": "0"}, "'0'", "InvalidValue"),
    ({"modelId": "org/m", "sourceUri": "hf://org/m", "size": "lots"}, "lots", "InvalidValue"),
    ({"modelId": "org/m", "sourceUri": "s3://bucket/m", "env": [{"name": "AWS_ACCESS_KEY_ID", "value": "AKIA0000"}]},
     "AKIA0000", "SecretInlined"),
    ({"modelId": "org/m", "sourceUri": "hf://org/m",
      "env": [{"name": "HF_TOKEN", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "t"}}}]},
     "valueFrom:", "CredentialNotFromSecret"),
])
def test_invalid_sources_are_refused_with_their_location(tree: Tree, source: dict, at: str, code: str) -> None:
    doc = yaml.safe_dump({"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMClusterModel",
                          "metadata": {"name": "m"}, "spec": {"image": "x/y:1", "modelSources": [source]}},
                         sort_keys=False)
    tree.write("catalog/m.yaml", doc)
    tree.write("overlays/dev/services.yaml", aim_service("s", model={"name": "m"}))
    res = run_cli("build", root=tree.root)
    assert res.code == 1
    lines = doc.splitlines()
    line = next(i for i, text in enumerate(lines, 1) if at in text)
    where = f"catalog/m.yaml:{line}:{lines[line - 1].index(at.removesuffix(':')) + 1}"
    assert res.errors[0].startswith(f"{where}: error[{code}]"), (res.errors, doc)


def test_every_rendered_object_is_valid(built: Built, store: SchemaStore) -> None:
    assert validate_manifests(sorted(built.objects.items()), store) == []


def test_caches_are_deterministic(tree: Tree) -> None:
    first = build(tree).files
    for path in (tree.root / "rendered").rglob("*.yaml"):
        Path(path).unlink()
    assert build(tree).files == first
