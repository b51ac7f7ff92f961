"""Telegram: the transport (PTB ExtBot), the PTB listener adapter and what it needs."""

from __future__ import annotations
