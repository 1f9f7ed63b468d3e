"""A local projection of residents' circles of support, learned from identity's events.

Adds and removals may arrive out of order (they travel on different topics), so each
member keeps the time of the latest change and an older change never overrides a newer
one; a removal leaves a tombstone for that reason. Members are a list, not a mapping, so
no id ever becomes a field name in a stored document.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Membership(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: str
    present: bool
    changed_at: float
    relationship: str | None = None


class Circle(BaseModel):
    model_config = ConfigDict(extra="ignore")

    resident_id: str
    members: list[Membership] = Field(default_factory=list)

    def _find(self, member_id: str) -> Membership | None:
        return next((m for m in self.members if m.member_id == member_id), None)

    def apply(
        self, member_id: str, *, present: bool, at: float, relationship: str | None = None
    ) -> bool:
        """Apply one change; False when a newer change is already known (nothing to do)."""
        current = self._find(member_id)
        if current is not None and current.changed_at > at:
            return False
        if current is not None and current.changed_at == at and current.present == present:
            return False
        change = Membership(
            member_id=member_id,
            present=present,
            changed_at=at,
            relationship=relationship if present else None,
        )
        self.members = [m for m in self.members if m.member_id != member_id] + [change]
        return True

    def member_ids(self) -> list[str]:
        return sorted(m.member_id for m in self.members if m.present)
