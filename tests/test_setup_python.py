"""The setup finds Python 3.10 by itself, and says clearly what to install when it cannot."""

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "find_python.sh"


def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env)


def test_finds_a_python_3_10_here() -> None:
    import os

    result = run(dict(os.environ))
    assert result.returncode == 0
    found = result.stdout.strip()
    version = subprocess.run([found, "--version"], capture_output=True, text=True).stdout
    assert version.startswith("Python 3.10")


def test_missing_python_fails_with_what_to_install(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "none"),
           "SAFEMIG_PYTHON": str(tmp_path / "nope")}
    result = run(env)
    if Path("/usr/bin/python3.10").exists():  # a machine with a system 3.10 would find it
        assert result.returncode == 0
        return
    assert result.returncode != 0
    assert "Python 3.10 was not found" in result.stderr
    assert "pyenv install 3.10" in result.stderr
    assert result.stdout == ""


def test_a_wrong_version_on_path_is_not_accepted(tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "python3.10"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexec /usr/bin/env python3 \"$@\"\n")  # really 3.11
    fake.chmod(0o755)
    env = {"PATH": f"{fake.parent}:/usr/bin:/bin", "HOME": str(tmp_path),
           "PYENV_ROOT": str(tmp_path / "none")}
    result = run(env)
    assert str(fake) not in result.stdout
