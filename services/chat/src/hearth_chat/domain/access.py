"""Who may talk with whom, and who may see a conversation.

- Direct conversations: a resident with a member of their circle of support (family,
  carers, friends, their professional...), or council staff with anyone of their council.
  A direct conversation that a circle allowed lasts as long as the circle membership.
- Group conversations are created by staff, who choose the members.
- Support conversations: the person who asked for support, and the staff member who
  holds the request. Every member of staff sees support conversations (they are the
  support desk); they post once they have claimed or been handed the request.
- Anyone else learns nothing, not even that a conversation exists (404). Another
  council's conversations are never found: every lookup is scoped by the caller's council.
- Edit history of messages is for staff only (safeguarding review).
"""

from __future__ import annotations

from hearth_kit.people.model import STAFF_ROLES, Actor, is_staff_role

# Roles that chat at all (platform administrators hold no council's conversations).
CHAT_ROLES = frozenset({"resident", "family", "carer", *STAFF_ROLES})

__all__ = ["CHAT_ROLES", "STAFF_ROLES", "Actor", "is_staff_role"]
