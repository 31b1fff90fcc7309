"""Jinja2 is an extra: Squall imports without it, and squall.templates says what to install."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap

# jinja2 made unimportable in a fresh interpreter (None in sys.modules blocks an import)
NO_JINJA2 = "import sys; sys.modules['jinja2'] = None\n"


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", NO_JINJA2 + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_squall_imports_without_jinja2() -> None:
    proc = run(
        """
        import pkgutil, importlib, squall
        import squall.web, squall.testing
        blamed = []
        for mod in pkgutil.walk_packages(squall.__path__, "squall."):
            if mod.name.startswith("squall.templates"):
                continue
            try:
                importlib.import_module(mod.name)
            except ImportError as exc:
                if "jinja2" in str(exc) or "templates" in str(exc):
                    blamed.append(mod.name)
        assert not blamed, blamed
        assert "squall.templates" not in sys.modules
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_templates_without_jinja2_names_the_extra() -> None:
    proc = run(
        """
        try:
            import squall.templates
        except ImportError as exc:
            print(exc, "|", exc.name)
        else:
            raise SystemExit("imported")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == (
        "squall.templates needs Jinja2: pip install squall[templates] | jinja2"
    )


def test_templates_imports_no_server_code() -> None:
    """A feature layer: the framework's public API only (no server, h1, runner, web)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, squall.templates; "
            "print(sorted({m.split('.')[1] for m in sys.modules if m.count('.') and "
            "m.startswith('squall.')}))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    loaded = set(ast.literal_eval(proc.stdout))
    assert {"framework", "templates"} <= loaded
    assert not loaded & {"server", "h1", "runner", "web", "testing", "prefork", "worker"}
