"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import INVENTORY, Tree


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    t = Tree(tmp_path)
    t.write("overlays/dev/inventory.yaml", INVENTORY)
    return t
