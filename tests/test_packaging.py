"""A wheel built from this tree, installed into a fresh venv, can list its rules and check a series.

The wheel is built without network (the dev venv's setuptools) and installed without its
dependencies; those come from the dev venv through a .pth line, which adds the directory to
sys.path without running the dev venv's own .pth files, so the editable install of this checkout
is not visible. Every command runs from another directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "golden" / "check" / "sample.mbox"


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_installed_wheel_lists_rules_and_checks_a_series_from_another_directory(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "REVIEWTOOL_STORE")}
    env.update(HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"),
               PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INDEX="1")
    built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                  "-w", str(wheels), str(ROOT)], tmp_path, env)
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("reviewtool-*.whl")

    target = tmp_path / "venv"
    venv.create(target, with_pip=False)
    py = target / "bin" / "python"
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                     tmp_path, env).stdout.strip())
    installed = _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
                      str(wheel)], tmp_path, env)
    assert installed.returncode == 0, installed.stderr
    (site / "dev-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run([str(py), "-c", "import reviewtool; print(reviewtool.__file__)"], elsewhere, env)
    assert where.stdout.startswith(str(site)), where.stdout + where.stderr

    listed = _run([str(py), "-m", "reviewtool", "rules", "--json"], elsewhere, env)
    assert listed.returncode == 0, listed.stderr
    ids = {r["id"] for r in json.loads(listed.stdout)}
    assert {"ALLOC-UNCHECKED", "KEXEC-EL2-VECTORS", "UAPI-VMCOREINFO"} <= ids

    checked = _run([str(py), "-m", "reviewtool", "check", "--format", "json", str(SAMPLE)], elsewhere, env)
    assert checked.returncode in (0, 1), checked.stderr
    report = json.loads(checked.stdout)
    assert report["checklist"], "the installed check produced no checklist"
