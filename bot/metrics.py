"""Prometheus metrics, in a registry of our own so tests and replicas never collide.

The registry also carries the standard process and Python collectors (memory, CPU, open
files, GC), which the default registry would have given us.
"""

from __future__ import annotations

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)

REGISTRY = CollectorRegistry()
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_collector)

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
LAST_DELIVERY = Gauge(
    "digestbot_last_successful_delivery_timestamp_seconds",
    "When a digest was last delivered completely to the channel (Unix time)",
    ["platform", "channel"],
    registry=REGISTRY,
)
PLATFORM_UP = Gauge(
    "digestbot_platform_up",
    "1 while a platform accepts our credentials, 0 while it refuses them (deliveries paused)",
    ["platform"],
    registry=REGISTRY,
)
DELIVERIES_GIVEN_UP = Counter(
    "digestbot_deliveries_given_up",
    "Started deliveries that did not finish within max_age",
    ["platform"],
    registry=REGISTRY,
)
