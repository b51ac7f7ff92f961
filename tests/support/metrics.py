"""Reading counters through the registry's public API, as a scrape would see them."""

from __future__ import annotations

from bot.metrics import REGISTRY


def sample(name: str, **labels: str) -> float:
    """The current value of counter ``name`` (``_total`` sample) with ``labels``; 0 if unseen."""
    return REGISTRY.get_sample_value(f"{name}_total", labels) or 0.0
