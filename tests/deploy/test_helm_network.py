"""charts/hearth: network policies deny by default and admit what Hearth needs, the ingress
leads to the gateway, service monitors scrape every service, and the optional pieces can
be switched off."""

from __future__ import annotations

from typing import Any

from helm_support import (
    CI_VALUES,
    RELEASE,
    named,
    of_kind,
    render_ok,
    upstream_fields,
)

from hearth_devstack.services import GATEWAY, SERVICES, service_names


def admits(policy: dict[str, Any], pod_labels: dict[str, str]) -> bool:
    """Whether a rule of the policy admits pods with these labels in the same namespace."""
    for rule in policy["spec"].get("ingress", []):
        for peer in rule.get("from", []):
            selector = peer.get("podSelector")
            if "namespaceSelector" in peer or "ipBlock" in peer or selector is None:
                continue
            if selector.get("matchLabels", {}).items() <= pod_labels.items():
                return True
    return False


def test_network_policies_deny_by_default_and_allow_what_hearth_needs(
    manifests: list[dict[str, Any]],
) -> None:
    policies = of_kind(manifests, "NetworkPolicy")
    deployments = of_kind(manifests, "Deployment")
    labels = {
        name: deployment["spec"]["template"]["metadata"]["labels"]
        for name, deployment in deployments.items()
    }
    deny = named(manifests, "NetworkPolicy", f"{RELEASE}-default-deny-ingress")["spec"]
    assert deny["policyTypes"] == ["Ingress"] and not deny.get("ingress")
    for pod in labels.values():
        assert deny["podSelector"]["matchLabels"].items() <= pod.items()
    for spec in SERVICES:
        policy = policies[spec.name]
        selector = deployments[spec.name]["spec"]["selector"]["matchLabels"]
        assert policy["spec"]["podSelector"]["matchLabels"] == selector
        assert policy["spec"]["policyTypes"] == ["Ingress"]
        for rule in policy["spec"]["ingress"]:
            assert rule["ports"] == [{"port": "http", "protocol": "TCP"}], spec.name
        # Prometheus, from its namespace.
        assert any(
            "namespaceSelector" in peer
            for rule in policy["spec"]["ingress"]
            for peer in rule["from"]
        ), spec.name
        if spec.name == GATEWAY:
            # Only the ingress controller (another namespace) and Prometheus reach it.
            assert not any(admits(policy, labels[other]) for other in labels), spec.name
        else:
            assert admits(policy, labels[GATEWAY]), spec.name
        for caller in SERVICES:
            if spec.name in upstream_fields(caller):
                assert admits(policy, labels[caller.name]), f"{caller.name} -> {spec.name}"
    # identity's JWKS is fetched by every Hearth pod.
    assert all(admits(policies["identity"], pod) for pod in labels.values())


def test_the_ingress_leads_to_the_gateway(manifests: list[dict[str, Any]]) -> None:
    (ingress,) = [doc for doc in manifests if doc["kind"] == "Ingress"]
    gateway = of_kind(manifests, "Service")[GATEWAY]["metadata"]["name"]
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            assert path["backend"]["service"] == {"name": gateway, "port": {"name": "http"}}
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"]


def test_service_monitors_scrape_metrics_with_the_usual_labels(
    manifests: list[dict[str, Any]],
) -> None:
    monitors = of_kind(manifests, "ServiceMonitor")
    services = of_kind(manifests, "Service")
    for spec in SERVICES:
        monitor = monitors[spec.name]
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        selector = monitor["spec"]["selector"]["matchLabels"]
        assert selector.items() <= services[spec.name]["metadata"]["labels"].items()
        (endpoint,) = monitor["spec"]["endpoints"]
        assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
        relabel = {r["targetLabel"]: r for r in endpoint["relabelings"]}
        assert relabel["job"]["replacement"] == "hearth"  # as in deploy/prometheus
        assert relabel["service"]["replacement"] == spec.name
        assert relabel["replica"]["sourceLabels"] == ["__meta_kubernetes_pod_name"]


def test_optional_pieces_can_be_switched_off(helm: str) -> None:
    docs = render_ok(
        helm,
        CI_VALUES,
        sets=(
            "ingress.enabled=false",
            "serviceMonitor.enabled=false",
            "networkPolicy.enabled=false",
            "podDisruptionBudget.enabled=false",
        ),
    )
    kinds = {doc["kind"] for doc in docs}
    assert not kinds & {"Ingress", "ServiceMonitor", "NetworkPolicy", "PodDisruptionBudget"}
    assert set(of_kind(docs, "Deployment")) == set(service_names())
