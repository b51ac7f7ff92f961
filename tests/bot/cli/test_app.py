"""The CLI shell: ``--version`` and the licence it ships under."""

from __future__ import annotations

import importlib.metadata
import tomllib

import pytest

from tests.conftest import ROOT
from tests.support.cli import run

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == f"digestbot {PYPROJECT['project']['version']}"
    assert importlib.metadata.version("digestbot") == PYPROJECT["project"]["version"]


def test_license_file_matches_pyproject() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert PYPROJECT["project"]["license"] == {"text": "MIT"}
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text
