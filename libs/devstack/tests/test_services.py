from __future__ import annotations

import pytest

from hearth_devstack.services import (
    GATEWAY,
    SERVICES,
    ServiceSpec,
    service_names,
    spec_for,
    start_levels,
    start_order,
)


def names(specs: list[ServiceSpec]) -> list[str]:
    return [s.name for s in specs]


def test_spec_defaults_module_and_prefix_from_the_name() -> None:
    spec = ServiceSpec("checkins", 8002)
    assert spec.module == "hearth_checkins"
    assert spec.env_prefix == "CHECKINS_"
    assert ServiceSpec("identity", 1, secrets=("KEY",)).secret_env == ("IDENTITY_KEY",)


@pytest.mark.parametrize("bad", ["Identity", "check-ins", "", "1x"])
def test_spec_refuses_names_that_cannot_be_env_prefixes(bad: str) -> None:
    with pytest.raises(ValueError, match="lower-case identifier"):
        ServiceSpec(bad, 8000)


def test_the_service_list_has_unique_names_and_ports() -> None:
    assert len(set(service_names())) == len(SERVICES)
    assert len({s.default_port for s in SERVICES}) == len(SERVICES)
    assert spec_for(GATEWAY).default_port == 8000
    assert spec_for("identity").default_port == 8001


def test_every_dependency_is_a_listed_service() -> None:
    known = set(service_names())
    for spec in SERVICES:
        assert set(spec.depends_on) <= known, spec.name


def test_unknown_service_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="identity"):
        spec_for("nope")


def test_start_order_puts_dependencies_first() -> None:
    ordered = names(start_order(list(reversed(SERVICES))))
    assert ordered[0] == "identity"
    assert ordered[-1] == GATEWAY
    for spec in SERVICES:
        for dep in spec.depends_on:
            assert ordered.index(dep) < ordered.index(spec.name)


def test_start_order_ignores_dependencies_that_are_not_selected() -> None:
    gateway = spec_for(GATEWAY)
    identity = spec_for("identity")
    assert names(start_order([gateway, identity])) == ["identity", GATEWAY]
    assert names(start_order([gateway])) == [GATEWAY]


def test_start_order_refuses_cycles_and_duplicates() -> None:
    a = ServiceSpec("a", 1, depends_on=("b",))
    b = ServiceSpec("b", 2, depends_on=("a",))
    with pytest.raises(ValueError, match="cycle"):
        start_order([a, b])
    with pytest.raises(ValueError, match="twice"):
        start_order([a, a])


def test_a_missing_package_is_not_installed() -> None:
    assert not ServiceSpec("nosuchservice", 9).is_installed()


def test_start_levels_group_services_that_can_start_together() -> None:
    levels = start_levels(start_order(list(SERVICES)))
    assert [s.name for s in levels[0]] == ["identity"]
    assert {s.name for s in levels[1]} == {"checkins", "alerts", "chat"}
    assert [s.name for s in levels[2]] == [GATEWAY]
    alone = start_levels([spec_for(GATEWAY)])
    assert [[s.name for s in level] for level in alone] == [[GATEWAY]]
    assert start_levels([]) == []
