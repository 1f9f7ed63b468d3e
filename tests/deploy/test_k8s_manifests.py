"""k8s/: the cluster pieces the chart relies on parse, are all in the kustomization, and
agree with the code (every topic of hearth_contracts and its dead-letter topic has its
KafkaTopic) and with the chart (Kafka's name and listener, partitions for KEDA's replicas,
the labels the network policies admit)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

from hearth_contracts import EVENT_TYPES, dead_letter_topic, topic_for

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
CHART = ROOT / "charts" / "hearth"
NAMESPACE = "hearth"
# A DNS-1123 subdomain: what Kubernetes accepts as most resources' metadata.name.
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def manifest_files() -> list[Path]:
    return sorted(
        path
        for pattern in ("*.yaml", "*.yml")
        for path in K8S.rglob(pattern)
        if path.name != "kustomization.yaml"
    )


def load(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


@pytest.fixture(scope="module")
def resources() -> list[dict[str, Any]]:
    return [doc for path in manifest_files() for doc in load(path)]


@pytest.fixture(scope="module")
def kustomization() -> dict[str, Any]:
    loaded = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def of_kind(docs: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def one(docs: Iterable[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = of_kind(docs, kind)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def chart_values() -> dict[str, Any]:
    loaded = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def chart_pod_labels() -> dict[str, str]:
    """The label every pod of the chart carries (hearth.releaseSelectorLabels)."""
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    return {"app.kubernetes.io/name": chart_values().get("nameOverride") or chart["name"]}


def expected_topics() -> set[str]:
    topics = {topic_for(event_type) for event_type in EVENT_TYPES}
    return topics | {dead_letter_topic(topic) for topic in topics}


def topic_name(doc: dict[str, Any]) -> str:
    return str(doc["spec"].get("topicName") or doc["metadata"]["name"])


def topic_mismatch(expected: set[str], docs: Iterable[dict[str, Any]]) -> str:
    """Why the KafkaTopics are not exactly the expected topics ("" when they are)."""
    declared = [topic_name(doc) for doc in of_kind(docs, "KafkaTopic")]
    problems = []
    twice = sorted({name for name in declared if declared.count(name) > 1})
    if twice:
        problems.append(f"declared twice: {twice}")
    missing = sorted(expected - set(declared))
    if missing:
        problems.append(
            "no KafkaTopic in k8s/kafka/topics.yaml for: "
            + ", ".join(missing)
            + " (add one per topic: spec.topicName = the topic, partitions, replicas 3)"
        )
    extra = sorted(set(declared) - expected)
    if extra:
        problems.append(f"KafkaTopics for topics hearth_contracts does not have: {extra}")
    return "; ".join(problems)


# ---- files -----------------------------------------------------------------------------
def test_every_manifest_parses_and_names_its_kind() -> None:
    files = manifest_files()
    assert files
    for path in files:
        docs = load(path)
        assert docs, f"{path} is empty"
        for doc in docs:
            assert isinstance(doc, dict), path
            assert doc.get("apiVersion") and doc.get("kind"), path
            name = doc.get("metadata", {}).get("name", "")
            assert DNS_SUBDOMAIN.match(name), f"{path}: bad name {name!r}"


def test_the_kustomization_lists_every_file(kustomization: dict[str, Any]) -> None:
    listed = kustomization["resources"]
    assert len(listed) == len(set(listed))
    assert all((K8S / entry).is_file() for entry in listed), listed
    on_disk = {path.relative_to(K8S).as_posix() for path in manifest_files()}
    assert set(listed) == on_disk
    # The namespace first: everything else lives in it.
    assert listed[0] == "namespace.yaml"
    assert kustomization["namespace"] == NAMESPACE


def test_the_readme_explains_every_file(kustomization: dict[str, Any]) -> None:
    readme = (K8S / "README.md").read_text(encoding="utf-8")
    for entry in kustomization["resources"]:
        assert entry in readme, entry
    for operator in ("Strimzi", "KEDA", "Prometheus Operator"):
        assert operator in readme, operator


def test_the_namespace_enforces_pod_security_restricted(resources: list[dict[str, Any]]) -> None:
    namespace = one(resources, "Namespace")
    assert namespace["metadata"]["name"] == NAMESPACE
    labels = namespace["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted", mode
    for doc in resources:
        assert doc["metadata"].get("namespace", NAMESPACE) == NAMESPACE, doc["metadata"]


def test_workloads_here_pass_pod_security_restricted(resources: list[dict[str, Any]]) -> None:
    workloads = [doc for doc in resources if doc["kind"] in ("StatefulSet", "Deployment")]
    assert workloads
    for workload in workloads:
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        for container in pod["containers"] + pod.get("initContainers", []):
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, container["name"]
            assert security["capabilities"]["drop"] == ["ALL"], container["name"]
            assert container["resources"]["limits"]["memory"], container["name"]


def test_ingress_is_denied_by_default(resources: list[dict[str, Any]]) -> None:
    deny = [
        doc
        for doc in of_kind(resources, "NetworkPolicy")
        if doc["spec"]["podSelector"] == {} and not doc["spec"].get("ingress")
    ]
    assert deny and deny[0]["spec"]["policyTypes"] == ["Ingress"]


# ---- Kafka -----------------------------------------------------------------------------
def test_kafka_runs_in_kraft_mode_with_a_node_pool(resources: list[dict[str, Any]]) -> None:
    kafka = one(resources, "Kafka")
    pool = one(resources, "KafkaNodePool")
    for doc in (kafka, pool):
        assert doc["apiVersion"] == "kafka.strimzi.io/v1", doc["kind"]
    assert "zookeeper" not in kafka["spec"]
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    assert pool["spec"]["replicas"] >= 3
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["offsets.topic.replication.factor"] == 3
    assert config["auto.create.topics.enable"] is False  # topics come from KafkaTopics only
    assert "topicOperator" in kafka["spec"]["entityOperator"]


def test_the_chart_finds_kafka_where_it_is(resources: list[dict[str, Any]]) -> None:
    kafka = one(resources, "Kafka")
    kafka_values = chart_values()["kafka"]
    assert kafka_values["strimziCluster"] == kafka["metadata"]["name"]
    assert kafka_values["bootstrapServers"] == ""  # the chart derives <cluster>-kafka-bootstrap
    listeners = {listener["port"]: listener for listener in kafka["spec"]["kafka"]["listeners"]}
    plain = listeners[9092]  # the chart's default port
    assert plain["type"] == "internal" and plain["tls"] is False
    peers = plain["networkPolicyPeers"]
    assert {"podSelector": {"matchLabels": chart_pod_labels()}} in peers
    keda = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}}}
    assert keda in peers  # KEDA reads the consumer groups' lag


def test_kafka_topics_are_exactly_the_contract_topics_and_their_dead_letters(
    resources: list[dict[str, Any]],
) -> None:
    problem = topic_mismatch(expected_topics(), resources)
    assert not problem, problem


def test_a_contract_topic_without_its_kafka_topic_is_reported(
    resources: list[dict[str, Any]],
) -> None:
    new = "checkins.checkin.snoozed"
    problem = topic_mismatch(expected_topics() | {new, dead_letter_topic(new)}, resources)
    assert new in problem and dead_letter_topic(new) in problem
    assert "no KafkaTopic" in problem


def test_kafka_topics_are_replicated_and_sized_for_scaling(
    resources: list[dict[str, Any]],
) -> None:
    kafka = one(resources, "Kafka")["metadata"]["name"]
    # The most replicas KEDA may run for a consumer group reading each topic.
    needed: dict[str, int] = {}
    for service in chart_values()["services"].values():
        keda = service.get("keda") or {}
        for topic in keda.get("topics", []):
            needed[topic] = max(needed.get(topic, 1), keda["maxReplicas"])
    dead_letters = {dead_letter_topic(topic_for(event_type)) for event_type in EVENT_TYPES}
    for doc in of_kind(resources, "KafkaTopic"):
        name = topic_name(doc)
        assert doc["metadata"]["labels"]["strimzi.io/cluster"] == kafka, name
        assert doc["metadata"]["name"] == name.replace("_", "-"), name
        spec = doc["spec"]
        assert spec["replicas"] == 3, name
        assert spec["config"]["min.insync.replicas"] == 2, name
        assert int(spec["config"]["retention.ms"]) > 0, name
        if name in dead_letters:
            assert spec["partitions"] >= 1, name
        else:
            assert spec["partitions"] >= max(12, needed.get(name, 1)), name


# ---- MongoDB ---------------------------------------------------------------------------
def test_only_hearth_pods_reach_mongodb(resources: list[dict[str, Any]]) -> None:
    statefulset = one(resources, "StatefulSet")
    labels = statefulset["spec"]["template"]["metadata"]["labels"]
    (policy,) = [
        doc
        for doc in of_kind(resources, "NetworkPolicy")
        if doc["spec"]["podSelector"].get("matchLabels", {}).items() <= labels.items()
        and doc["spec"].get("ingress")
    ]
    (rule,) = policy["spec"]["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": chart_pod_labels()}}]
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    assert container["image"].startswith("mongo:")
    # Credentials from a Secret made by hand, never from this folder.
    for env in container["env"]:
        assert "valueFrom" in env, env["name"]
    assert not of_kind(resources, "Secret")
