"""Who people are to a service: the caller as an actor, and the local projection of
identity's people and circles of support that services keep.

Only the pure model is exported here, so a service's domain can import it without
pulling in the store, HTTP or Kafka. The rest is imported from its own module:

- `hearth_kit.people.directory`: the projection on the store port (`Directory`), and
  `People`, which asks identity over HTTP about what its events have not brought yet;
- `hearth_kit.people.identity`: identity's HTTP API, asked with the caller's own token;
- `hearth_kit.people.events`: keeping the projection in step with identity's events.
"""

from hearth_kit.people.model import (
    ADMIN_ROLE,
    ROLES,
    STAFF_ROLES,
    Actor,
    CircleMember,
    Person,
    is_staff_role,
)

__all__ = [
    "ADMIN_ROLE",
    "ROLES",
    "STAFF_ROLES",
    "Actor",
    "CircleMember",
    "Person",
    "is_staff_role",
]
