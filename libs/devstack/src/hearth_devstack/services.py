"""The one list of Hearth's services: name, module, default port and what each needs first.

Adding a service is one line in `SERVICES`. Everything else (the one-machine stack, the
gateway's service URLs, the local Prometheus targets, the deployment checks) reads this list.
A service whose package is not in the workspace yet is listed but not started.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    """How to run one service: `python -m <module>`, env prefix `<NAME>_`, HTTP on a port."""

    name: str
    default_port: int
    depends_on: tuple[str, ...] = ()
    module: str = ""
    # Settings (without the prefix) that must hold a real secret outside development;
    # the one-machine stack generates them per data folder, compose requires them.
    secrets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or not self.name.islower():
            raise ValueError(f"service name must be a lower-case identifier: {self.name!r}")
        if not self.module:
            object.__setattr__(self, "module", f"hearth_{self.name}")

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def secret_env(self) -> tuple[str, ...]:
        return tuple(f"{self.env_prefix}{name}" for name in self.secrets)

    def is_installed(self) -> bool:
        """True when `python -m <module>` can run here (the package and its __main__ exist)."""
        try:
            return importlib.util.find_spec(f"{self.module}.__main__") is not None
        except ModuleNotFoundError:
            return False
        except ImportError:
            # The package exists but fails to import: starting it reports why, loudly.
            return True


GATEWAY = "gateway"

SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("identity", 8001, secrets=("KEY_ENCRYPTION_SECRET",)),
    ServiceSpec("checkins", 8002, depends_on=("identity",)),
    ServiceSpec("alerts", 8003, depends_on=("identity",)),
    ServiceSpec("chat", 8004, depends_on=("identity",)),
    # The gateway proxies to every other service, so it starts last.
    ServiceSpec(GATEWAY, 8000, depends_on=("identity", "checkins", "alerts", "chat")),
)


def service_names() -> tuple[str, ...]:
    return tuple(spec.name for spec in SERVICES)


def spec_for(name: str, specs: Iterable[ServiceSpec] = SERVICES) -> ServiceSpec:
    for spec in specs:
        if spec.name == name:
            return spec
    known = ", ".join(spec.name for spec in specs)
    raise KeyError(f"unknown service {name!r}; known services: {known}")


def installed_services(specs: Iterable[ServiceSpec] = SERVICES) -> tuple[ServiceSpec, ...]:
    return tuple(spec for spec in specs if spec.is_installed())


def start_order(selected: Sequence[ServiceSpec]) -> list[ServiceSpec]:
    """Selected services, each after the selected services it depends on.

    A dependency that is not selected is ignored (the gateway runs fine without chat);
    a cycle among selected services is an error.
    """
    by_name = {spec.name: spec for spec in selected}
    if len(by_name) != len(selected):
        raise ValueError("a service is selected twice")
    ordered: list[ServiceSpec] = []
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(spec: ServiceSpec, path: tuple[str, ...]) -> None:
        if spec.name in done:
            return
        if spec.name in visiting:
            raise ValueError("dependency cycle: " + " -> ".join((*path, spec.name)))
        visiting.add(spec.name)
        for dep in spec.depends_on:
            if dep in by_name:
                visit(by_name[dep], (*path, spec.name))
        visiting.discard(spec.name)
        done.add(spec.name)
        ordered.append(spec)

    for spec in selected:
        visit(spec, ())
    return ordered


def start_levels(ordered: Sequence[ServiceSpec]) -> list[list[ServiceSpec]]:
    """Services (in start order) grouped in waves: each wave needs only earlier waves."""
    depth: dict[str, int] = {}
    names = {spec.name for spec in ordered}
    for spec in ordered:
        deps = [depth[d] for d in spec.depends_on if d in names]
        depth[spec.name] = 1 + max(deps) if deps else 0
    levels: list[list[ServiceSpec]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for spec in ordered:
        levels[depth[spec.name]].append(spec)
    return levels
