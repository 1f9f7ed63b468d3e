"""charts/hearth: lints, renders, and gives every Hearth service its workload: a values
entry, the resources it needs, probes, bounds, a locked-down container, a graceful
shutdown and pods spread over nodes."""

from __future__ import annotations

from typing import Any

from helm_support import (
    CHART,
    CI_VALUES,
    chart_values,
    container_of,
    of_kind,
    render,
    run_helm,
)

from hearth_devstack.services import SERVICES, service_names
from hearth_kit.runner import GRACEFUL_SHUTDOWN_SECONDS


def test_chart_lints_strictly_with_the_ci_values(helm: str) -> None:
    result = run_helm(helm, "lint", str(CHART), "--strict", "--values", str(CI_VALUES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_service_has_a_values_entry_and_nothing_else_does() -> None:
    services = chart_values()["services"]
    missing = set(service_names()) - set(services)
    assert not missing, f"add services.<name> to charts/hearth/values.yaml for {missing}"
    assert set(services) == set(service_names())
    for spec in SERVICES:
        entry = services[spec.name]
        assert entry["enabled"] is True, spec.name
        assert entry["image"]["repository"] == f"hearth/{spec.name}", spec.name
        assert entry["resources"]["requests"] and entry["resources"]["limits"], spec.name


def test_every_service_has_its_resources(manifests: list[dict[str, Any]]) -> None:
    kinds = {
        kind: of_kind(manifests, kind)
        for kind in (
            "Deployment",
            "Service",
            "ServiceAccount",
            "PodDisruptionBudget",
            "NetworkPolicy",
            "ServiceMonitor",
            "ConfigMap",
        )
    }
    for spec in SERVICES:
        for kind, found in kinds.items():
            assert spec.name in found, f"no {kind} for {spec.name}"
        deployment = kinds["Deployment"][spec.name]
        pod = deployment["spec"]["template"]
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pod["metadata"]["labels"].items()
        assert kinds["Service"][spec.name]["spec"]["selector"] == selector
        assert kinds["PodDisruptionBudget"][spec.name]["spec"]["selector"]["matchLabels"] == (
            selector
        )
        pdb = kinds["PodDisruptionBudget"][spec.name]["spec"]
        assert "maxUnavailable" in pdb or "minAvailable" in pdb
        account = kinds["ServiceAccount"][spec.name]
        assert pod["spec"]["serviceAccountName"] == account["metadata"]["name"]
        assert account["automountServiceAccountToken"] is False
        assert pod["spec"]["automountServiceAccountToken"] is False
        assert pod["spec"]["enableServiceLinks"] is False, "service links pollute settings"
        container = container_of(deployment)
        # The image built from docker/service.Dockerfile with --build-arg SERVICE=<name>.
        assert container["image"].endswith(f"hearth/{spec.name}:0.1.0-ci"), container["image"]
        (port,) = kinds["Service"][spec.name]["spec"]["ports"]
        (container_port,) = container["ports"]
        assert port["targetPort"] == container_port["name"] == "http"


def test_containers_are_probed_bounded_and_locked_down(manifests: list[dict[str, Any]]) -> None:
    for name, deployment in of_kind(manifests, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        container = container_of(deployment)
        for probe, path in (
            ("startupProbe", "/healthz"),
            ("livenessProbe", "/healthz"),
            ("readinessProbe", "/readyz"),
        ):
            assert container[probe]["httpGet"] == {"path": path, "port": "http"}, (name, probe)
        resources = container["resources"]
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources[bound]), (name, bound)
        pod_security = pod["securityContext"]
        security = container["securityContext"]
        assert pod_security["runAsNonRoot"] is True, name
        assert security["runAsNonRoot"] is True, name
        assert pod_security["runAsUser"] != 0, name
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"]["drop"] == ["ALL"], name
        assert "add" not in security["capabilities"], name
        assert pod_security["seccompProfile"]["type"] == "RuntimeDefault", name
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
        assert "emptyDir" in volumes[mounts["/tmp"]], name
        assert "emptyDir" in volumes[mounts["/data"]], name


def test_pods_outlive_the_services_graceful_shutdown(manifests: list[dict[str, Any]]) -> None:
    assert chart_values()["shutdown"]["gracefulShutdownSeconds"] == GRACEFUL_SHUTDOWN_SECONDS
    for name, deployment in of_kind(manifests, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        command = container_of(deployment)["lifecycle"]["preStop"]["exec"]["command"]
        assert command[0] == "sleep", name
        pre_stop = int(command[1])
        assert pre_stop > 0, name
        assert pod["terminationGracePeriodSeconds"] > pre_stop + GRACEFUL_SHUTDOWN_SECONDS, name


def test_the_chart_refuses_a_grace_period_shorter_than_the_shutdown(helm: str) -> None:
    result = render(helm, CI_VALUES, sets=("shutdown.terminationGracePeriodSeconds=15",))
    assert result.returncode != 0
    assert "terminationGracePeriodSeconds" in result.stderr


def test_pods_spread_over_nodes(manifests: list[dict[str, Any]]) -> None:
    for name, deployment in of_kind(manifests, "Deployment").items():
        spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
        keys = {constraint["topologyKey"] for constraint in spread}
        assert "kubernetes.io/hostname" in keys, name
        selector = deployment["spec"]["selector"]["matchLabels"]
        for constraint in spread:
            assert constraint["labelSelector"]["matchLabels"] == selector, name
