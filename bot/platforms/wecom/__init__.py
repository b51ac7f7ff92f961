"""The wecom platform: its transport (and for Feishu, the app bot)."""

from __future__ import annotations
