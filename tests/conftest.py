"""Shared test set-up: a fixed clock, git identities, paths, and the snapshot helper."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURES = ROOT / "fixtures"
TODAY = "2026-11-25"


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHREVIEW_TODAY", TODAY)
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture(autouse=True, scope="session")
def _user_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """archreview's user cache (its secret, the parsed catalogue, and the default cache folder
    of every scanned tree) in a folder of the session, not in the home of whoever runs them."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("user-cache"))


@pytest.fixture(autouse=True, scope="session")
def _git_identity() -> None:
    os.environ.setdefault("GIT_AUTHOR_NAME", "archreview tests")
    os.environ.setdefault("GIT_AUTHOR_EMAIL", "tests@archreview.invalid")
    os.environ.setdefault("GIT_COMMITTER_NAME", "archreview tests")
    os.environ.setdefault("GIT_COMMITTER_EMAIL", "tests@archreview.invalid")


def require_shared(*parts: str) -> Path:
    """A path below ../shared; skip when absent, but fail in CI (CI=true)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing, and CI=true forbids skipping")
        pytest.skip(f"{path} is not present (a clone outside CI)")
    return path


def snapshot(path: Path, actual: Any) -> None:
    """Compare with a JSON snapshot; UPDATE_SNAPSHOTS=1 rewrites it (review the diff)."""
    text = json.dumps(actual, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not path.exists():
        if os.environ.get("CI") == "true" and not path.exists():
            pytest.fail(f"snapshot {path} is missing")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (
        f"snapshot {path.relative_to(ROOT)} differs (UPDATE_SNAPSHOTS=1 to rewrite)"
    )


def text_snapshot(path: Path, text: str) -> None:
    """Compare with a text snapshot; UPDATE_SNAPSHOTS=1 rewrites it (review the diff)."""
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not path.exists():
        if os.environ.get("CI") == "true" and not path.exists():
            pytest.fail(f"snapshot {path} is missing")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert text == path.read_text(encoding="utf-8"), (
        f"snapshot {path.relative_to(ROOT)} differs (UPDATE_SNAPSHOTS=1 to rewrite)"
    )
