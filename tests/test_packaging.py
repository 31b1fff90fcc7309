"""Squall installed without extras: the pytest plugin must not break a user's pytest.

The ``pytest11`` entry point loads ``squall.testing.pytest_plugin`` into every pytest
run of every project that installs Squall, and httpx is only in the ``test`` extra.
The test builds Squall's wheel, installs it into a fresh virtualenv where httpx
cannot be imported, and runs pytest on a tiny project there.

Offline by design: the wheel is built without build isolation (setuptools comes
with the ``test`` extra), and the virtualenv gets Squall's dependencies and pytest
from this environment through a ``.pth`` file (only those distributions, found by
walking their ``Requires-Dist``), so pip installs Squall itself with ``--no-index``
and checks its declared dependencies are there.
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path, PurePath

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    # coverage's subprocess hook has nothing to measure in pip or in the fresh venv
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "PYTHON"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )


def closure(names: list[str]) -> dict[str, metadata.Distribution]:
    """The installed distributions ``names`` need, extras left out."""
    found: dict[str, metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in found:
            continue
        dist = metadata.distribution(name)
        found[key] = dist
        for spec in dist.requires or ():
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return found


def link_distributions(dists: dict[str, metadata.Distribution], into: Path) -> None:
    """Symlink each distribution's top-level files (packages, modules, dist-info)."""
    into.mkdir()
    for dist in dists.values():
        tops = {PurePath(str(f)).parts[0] for f in dist.files or ()}
        for top in tops - {"..", "__pycache__"}:
            source = Path(str(dist.locate_file(top)))
            if source.exists() and not (into / top).exists():
                (into / top).symlink_to(source)


def build_wheel(tmp_path: Path) -> Path:
    """Build Squall's wheel from a copy of the tree (the work tree stays clean)."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    wheels = tmp_path / "wheels"
    proc = run(
        sys.executable,
        *("-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index"),
        *("-w", wheels, source),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return wheels


PROJECT = """\
import pytest

from squall import web
from squall.testing import TestServer, make_mocked_request


async def hello(request):
    return web.Response(text="hi " + request.match_info.get("name", "you"))


def test_a_plugin_fixture(squall_unused_port):
    assert 0 < squall_unused_port() < 65536


async def test_a_handler_unit():
    resp = await hello(make_mocked_request("GET", "/", match_info={"name": "bob"}))
    assert resp.text == "hi bob"


def test_the_client_names_the_extra():
    assert TestServer is not None
    with pytest.raises(ImportError, match=r"pip install 'squall\\[test\\]'"):
        from squall.testing import TestClient  # noqa: F401
"""


@pytest.mark.packaging
def test_pytest_runs_in_a_project_without_the_test_extra(tmp_path: Path) -> None:
    wheels = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    proc = run(sys.executable, "-m", "venv", "--without-pip", venv)
    assert proc.returncode == 0, proc.stderr
    python = venv / "bin" / "python"
    proc = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    site_packages = Path(proc.stdout.strip())

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = [Requirement(spec).name for spec in project["dependencies"]]
    dists = closure([*needed, "pytest", "pytest-asyncio"])
    assert "httpx" not in dists  # else the test proves nothing
    link_distributions(dists, tmp_path / "deps")
    (site_packages / "deps.pth").write_text(f"{tmp_path / 'deps'}\n")

    proc = run(
        sys.executable,
        *("-m", "pip", "--python", python, "install", "-q", "--no-index"),
        *("--find-links", wheels, "squall"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run(python, "-c", "import httpx")
    assert "No module named 'httpx'" in proc.stderr
    proc = run(python, "-c", "import squall; print(squall.__file__)")
    assert Path(proc.stdout.strip()).is_relative_to(site_packages), proc.stdout + proc.stderr

    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "test_app.py").write_text(PROJECT)
    proc = run(
        python,
        *("-m", "pytest", "-p", "no:cacheprovider", "-o", "asyncio_mode=auto"),
        cwd=tmp_path / "project",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout, proc.stdout


def test_loading_the_plugin_imports_no_optional_module() -> None:
    """The quick check of the same rule, in this environment."""
    code = (
        "import sys, squall.testing.pytest_plugin, squall.testing\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'httpx', 'httpcore'})\n"
        "assert not bad, bad\n"
        "from squall.testing import TestClient\n"
        "assert 'httpx' in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
