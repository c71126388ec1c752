"""The built wheel ships rules/ and works outside the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from .conftest import ROOT


@pytest.mark.slow
def test_wheel_ships_rules_and_runs(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    wheel = next(dist.glob("archreview-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    vpy = venv / "bin" / "python"
    subprocess.run([str(vpy), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, timeout=300)
    # dependencies come from the project environment; archreview itself only from the wheel
    site = subprocess.run(
        [str(vpy), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run(
        [str(vpy), "-c", "import reviewer, reviewer.checks.catalogue as c; print(reviewer.__file__); print(c.rules_dir())"],
        check=True, capture_output=True, text=True, cwd=tmp_path, env=env,
    ).stdout.split()
    assert where[0].startswith(str(venv)), where
    assert where[1].endswith("reviewer/_rules") and where[1].startswith(str(venv))
    listing = subprocess.run(
        [str(venv / "bin" / "archreview"), "rules"], check=True, capture_output=True, text=True, cwd=tmp_path, env=env
    ).stdout
    assert "AR-EVT-003" in listing and "AR-MOD-003" in listing
    # the presets ship in the wheel and `extends:` finds them there; the version is 0.2.0
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"reviewer/profile/presets/baseline.yml", "reviewer/profile/presets/chariot.yml"} <= names
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / ".archreview.yml").write_text("extends: chariot\n", encoding="utf-8")
    shown = subprocess.run(
        [str(venv / "bin" / "archreview"), "profile", "show", "repo"],
        check=True, capture_output=True, text=True, cwd=tmp_path, env=env,
    ).stdout
    assert "extends the chariot preset" in shown and 'version: "1.24.6"' in shown
    version = subprocess.run(
        [str(venv / "bin" / "archreview"), "--version"],
        check=True, capture_output=True, text=True, cwd=tmp_path, env=env,
    ).stdout
    assert version == "archreview, version 0.2.0\n"
