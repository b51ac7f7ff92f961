"""Slack: the transport (Web API via slack_sdk), the Bolt listener adapter and what it needs."""

from __future__ import annotations
