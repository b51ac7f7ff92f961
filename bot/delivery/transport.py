"""The transport port: how the platform-agnostic delivery engine posts one message.

Why a base class here, in delivery: the deliverer owns claims, ordering, retries and the
ledger and must not import the platform layer; each platform implements this port and
writes only what differs. A transport renders a digest into its platform's payloads,
posts one payload, and (where the platform allows) finds a message it posted earlier so a
resumed delivery does not post it again. Library errors are mapped at the edge to:

- ``TransientDeliveryError`` (429, 5xx, timeouts, dropped connections): retry with
  backoff; ``retry_after`` carries the platform's hint and ``maybe_posted`` says the
  request may have reached the platform, so the engine reconciles before posting again.
- ``PermanentDeliveryError`` (channel gone, bot removed): deactivate that channel.
- ``PlatformUnavailable`` (token revoked, bad key): pause the platform, keep rows retryable.
- plain ``DeliveryError`` (the platform rejected this payload): stop this delivery, keep
  the channel, release the ledger row for a later run.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from typing import Self

    from rich.console import Console

    from bot.channels import Channel
    from bot.config import Settings
    from bot.models import Digest


class Transport:
    """One platform's way of posting a rendered digest; subclasses override what differs."""

    platform: ClassVar[str]
    #: True when ``find_posted`` can really see earlier posts (Slack history, the JSONL file).
    reconciles: ClassVar[bool] = False
    #: True when one credential serves every channel (a bot token): a refusal then pauses
    #: the whole platform. Robots with a secret per webhook leave it False: only that
    #: delivery is paused (released for a retry), the platform's other channels go on.
    shared_credentials: ClassVar[bool] = False
    #: The payload model, so a claim's first rendering can be stored and resumed exactly.
    payload_type: ClassVar[type[BaseModel] | None] = None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, console: Console | None = None, **options: Any
    ) -> Self:
        """Build from the configuration; a missing credential is a ConfigError naming its key.

        ``options`` override constructor defaults (tests shorten timings with them).
        """
        return cls(**options)

    def held(self, channel: Channel) -> str | None:
        """Why ``channel`` must get nothing now though it stays subscribed (a setting
        forbids it; changing the setting back resumes it), or None to post."""
        return None

    def render(self, digest: Digest, templates: Any) -> list[Any]:
        """The digest as this platform's ordered payloads (message 0 first)."""
        raise NotImplementedError

    def addendum(self, payloads: list[Any]) -> list[Any]:
        """Payloads that follow a digest already posted (Slack puts them in its thread)."""
        return payloads

    async def send(
        self,
        channel: Channel,
        message_index: int,
        payload: Any,
        *,
        digest_date: dt.date,
        parent_id: str | None = None,
    ) -> str:
        """Post one payload and return the platform's message id (``parent_id`` = message 0).

        ``channel.kind`` is the delivery's kind (``daily`` or ``weekly``): a Monday's
        digest and that week's rollup share ``digest_date``, so whatever a transport keys
        a message by (Slack's metadata, Feishu's ``uuid``) must include it."""
        raise NotImplementedError

    async def find_posted(
        self,
        channel: Channel,
        digest_date: dt.date,
        index: int,
        *,
        parent_id: str | None = None,
        since: dt.datetime | None = None,
    ) -> str | None:
        """The id of message ``index`` of that delivery (``channel.kind``, ``digest_date``)
        if it is already in the channel."""
        return None

    async def check(self) -> str:
        """Prove the credentials work (one cheap API call); return who we are.

        Raises ``PlatformUnavailable`` when the platform refuses us. Platforms without
        credentials have nothing to check."""
        return "no credentials needed"

    def describe(self, payload: Any) -> str:
        """A one-line summary of a payload, for ``send --dry-run``."""
        return type(payload).__name__

    def dump(self, payload: Any) -> Any | None:
        """``payload`` as JSON data for the ledger's snapshot; None if it cannot be stored."""
        if isinstance(payload, BaseModel):
            return payload.model_dump(mode="json")
        if isinstance(payload, dict):
            return payload
        return None

    def load(self, data: Any) -> Any:
        """The payload ``dump`` stored."""
        return self.payload_type.model_validate(data) if self.payload_type else data

    async def close(self) -> None:
        """Release connections; nothing to do by default."""
        return None
