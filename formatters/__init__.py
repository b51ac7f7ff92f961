"""Formatters: domain models in, platform API payloads out. No I/O happens here."""

from __future__ import annotations
