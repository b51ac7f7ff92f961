"""Prometheus metrics, in a registry of our own so tests and replicas never collide."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry()

DELIVERIES = Counter(
    "digestbot_deliveries",
    "Digest deliveries by outcome",
    ["platform", "status"],
    registry=REGISTRY,
)
MESSAGES_POSTED = Counter(
    "digestbot_messages_posted",
    "Messages posted to chat platforms",
    ["platform"],
    registry=REGISTRY,
)
DELIVERY_FAILURES = Counter(
    "digestbot_delivery_failures",
    "Failed post attempts (transient ones are retried)",
    ["platform", "kind"],
    registry=REGISTRY,
)
COMMANDS = Counter(
    "digestbot_commands",
    "Chat commands handled",
    ["platform", "command", "outcome"],
    registry=REGISTRY,
)
COMMAND_LATENCY = Histogram(
    "digestbot_command_latency_seconds",
    "Time from receiving a command to its reply being ready",
    ["platform"],
    registry=REGISTRY,
)
