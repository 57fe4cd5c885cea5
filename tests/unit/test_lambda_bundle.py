"""The Lambda bundle's bytecode: written by a Python of the runtime's version, valid
whatever times the asset's zip gives the sources; and the images compile their code."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from cdk import functions
from local.config import REPO_ROOT


def test_the_bundle_is_compiled_to_bytecode_that_ignores_source_times(tmp_path: Path) -> None:
    package = tmp_path / "lambdas" / "core"
    package.mkdir(parents=True)
    module = package / "clock.py"
    module.write_text("NOW = 1\n")

    functions.compile_bytecode(tmp_path, sys.executable)

    cached = Path(importlib.util.cache_from_source(str(module)))
    data = cached.read_bytes()
    flags = int.from_bytes(data[4:8], "little")
    assert flags == 0b01  # hash-based, not checked against the source


def test_the_runtime_interpreter_is_one_of_the_runtimes_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    monkeypatch.setattr(functions, "_PYTHON_VERSION", here)
    assert functions.runtime_interpreter() == sys.executable

    monkeypatch.setattr(functions, "_PYTHON_VERSION", "3.99")
    monkeypatch.setattr(functions.shutil, "which", lambda name: None)
    assert functions.runtime_interpreter() is None


def test_a_python_on_the_path_that_does_not_run_or_is_another_version_is_not_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shim = tmp_path / "python3.99"
    shim.write_text("#!/bin/sh\necho 'python3.99: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    monkeypatch.setattr(functions, "_PYTHON_VERSION", "3.99")
    monkeypatch.setattr(functions.shutil, "which", lambda name: str(shim))
    assert functions.runtime_interpreter() is None

    other = tmp_path / "python-other"
    other.symlink_to(sys.executable)  # runs, but reports this interpreter's version
    monkeypatch.setattr(functions.shutil, "which", lambda name: str(other))
    assert functions.runtime_interpreter() is None


@pytest.mark.parametrize(
    ("dockerfile", "package"),
    [("lambdas/probe.Dockerfile", "lambdas"), ("transcoder_image/Dockerfile", "transcoder")],
)
def test_each_image_compiles_its_code_after_copying_it(dockerfile: str, package: str) -> None:
    lines = (REPO_ROOT / dockerfile).read_text().splitlines()
    copied = lines.index(f"COPY {package}/ {package}/")
    assert f"RUN python -m compileall -q {package}/" in lines[copied + 1 :]


def test_a_bundle_made_without_a_runtime_python_says_it_has_no_bytecode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commands: list[list[str]] = []
    monkeypatch.setattr(functions, "runtime_interpreter", lambda: None)
    monkeypatch.setattr(functions.subprocess, "run", lambda command, **_: commands.append(command))
    monkeypatch.setattr(functions.shutil, "copytree", lambda *args, **kwargs: None)

    assert functions.PipBundling(tmp_path / "lambdas").try_bundle(str(tmp_path / "out"), None)

    assert "without bytecode" in capsys.readouterr().err
    assert [command[1:4] for command in commands] == [["-m", "pip", "install"]]  # no compile


def test_a_bundle_made_with_a_runtime_python_is_compiled_by_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    commands: list[list[str]] = []
    monkeypatch.setattr(functions, "runtime_interpreter", lambda: "/runtime/python3.12")
    monkeypatch.setattr(functions.subprocess, "run", lambda command, **_: commands.append(command))
    monkeypatch.setattr(functions.shutil, "copytree", lambda *args, **kwargs: None)

    functions.PipBundling(tmp_path / "lambdas").try_bundle(str(tmp_path / "out"), None)

    assert commands[-1][:3] == ["/runtime/python3.12", "-m", "compileall"]
    assert commands[-1][-1] == str(tmp_path / "out")
