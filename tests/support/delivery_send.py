"""``python -m bot`` for subprocess tests, with test timings and an optional crash point.

Timings come from the config the test wrote (``delivery_kit.fast_timings``). Environment:
- ``DELIVERY_CRASH_AFTER_POST``: SIGKILL this process right after message N is posted
  and before it is recorded in the ledger: the worst moment for exactly-once.

Everything else is the real CLI against real HTTP fakes and a real database.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

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

from bot.cli import main

main(sys.argv[1:])
