"""``CommandRequest``: one ``/ai`` invocation as every platform can describe it.

Kept apart from the command core so the handler modules it dispatches to (and the
platform adapters that build requests) can share the type without importing the core.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommandRequest:
    """One ``/ai`` invocation, as every platform can describe it.

    ``is_admin``: True/False when the platform decided whether the user may change this
    channel's subscriptions; None when no restriction applies (``slack.admins: ["*"]``).
    ``anyone_may_start``: a user who is not an admin may still subscribe a channel that
    receives nothing yet (Slack's self-service); changing a subscription stays restricted.
    """

    platform: str
    channel_id: str
    user_id: str
    is_admin: bool | None
    text: str
    thread_id: int | None = None
    anyone_may_start: bool = False
