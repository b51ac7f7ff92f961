"""Fixtures for the fake platform servers (filled in by the fakes)."""

from __future__ import annotations
