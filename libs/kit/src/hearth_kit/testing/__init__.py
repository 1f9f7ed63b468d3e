"""Test support shared by every package; only tests import it.

- `TokenSigner`: access tokens as identity would sign them;
- a small world of two councils' people (`PEOPLE`), seeded through identity's events,
  and `FakeIdentity`, identity's HTTP API as a service sees it;
- running an app in-process or on a real port, waiting for a condition, reading what
  was published on a topic.
"""

from hearth_kit.testing.people import (
    NORTH,
    PEOPLE,
    SOUTH,
    FakeIdentity,
    headers_for,
    identity_envelope,
    seed_people,
)
from hearth_kit.testing.running import (
    InProcess,
    eventually,
    in_process,
    served,
    topic_records,
)
from hearth_kit.testing.tokens import TEST_ISSUER, TokenSigner

__all__ = [
    "NORTH",
    "PEOPLE",
    "SOUTH",
    "TEST_ISSUER",
    "FakeIdentity",
    "InProcess",
    "TokenSigner",
    "eventually",
    "headers_for",
    "identity_envelope",
    "in_process",
    "seed_people",
    "served",
    "topic_records",
]
