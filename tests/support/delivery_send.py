"""``python -m bot`` for subprocess tests, with test timings and an optional crash point.

Environment:
- ``DELIVERY_PACE``: seconds between messages to one channel/chat (default 0).
- ``DELIVERY_LEASE``: the claim lease in seconds (default 600).
- ``DELIVERY_CRASH_AFTER_POST``: SIGKILL this process right after message N is posted
  and before it is recorded in the ledger: the worst moment for exactly-once.

The timings patch our own seams (see ``delivery_kit.speed_up``); everything else is the
real CLI against real HTTP fakes and a real database.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.delivery_kit import speed_up

speed_up(
    pace=float(os.environ.get("DELIVERY_PACE", "0")),
    lease=float(os.environ.get("DELIVERY_LEASE", "600")),
    retry_base=0.05,
    retry_cap=0.5,
    max_age=10**9,
)

if os.environ.get("DELIVERY_CRASH_AFTER_POST"):
    from bot.archive import Ledger

    crash_at = int(os.environ["DELIVERY_CRASH_AFTER_POST"])
    record = Ledger.record

    def crashing_record(
        self: Ledger, delivery_id: int, idx: int, message_id: Any, *, owner: str | None = None
    ) -> None:
        if idx == crash_at:
            os.kill(os.getpid(), signal.SIGKILL)
        record(self, delivery_id, idx, message_id, owner=owner)

    Ledger.record = crashing_record  # type: ignore[method-assign]

from bot.cli import main  # noqa: E402

main(sys.argv[1:])
