"""The offline runtime patches moto only through `engine_hooks._replace`, which must refuse,
naming the target, whenever moto has moved what it patches; and moto must be the pinned one."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import types
from importlib.metadata import version
from pathlib import Path

import pytest

from local import engine_hooks
from local.engine_hooks import HookTargetError, _replace
from local.tasks import TaskLauncher

REPO_ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: installing changes moto for the whole process, and another test
# in this session may already have installed the hooks.
_INSPECT_INSTALL = """
import json, sys, tempfile
from pathlib import Path
from moto.core.config import default_user_config
from local import engine_hooks
from local.tasks import TaskLauncher

def state():
    rows = {}
    for hook in engine_hooks.hooks():
        current = getattr(hook.owner, hook.name)
        # data (a dict) has no __module__: it is the module's that holds it
        module = getattr(current, "__module__", None) or engine_hooks._dotted(hook.defined_on)
        rows[hook.target] = {
            "defined_on": engine_hooks._dotted(hook.defined_on),
            "from_moto": module.startswith("moto."),
            "installed": engine_hooks.is_installed(hook) and current is hook.new,
        }
        engine_hooks.check_target(hook)  # raises if moto moved it
    return rows

before = state()
launcher = TaskLauncher(endpoint_url="http://127.0.0.1:9", log_dir=Path(tempfile.mkdtemp()))
engine_hooks.install(launcher)
after = state()
engine_hooks.install(launcher)  # a second install changes nothing
again = state()
print(json.dumps({
    "before": before, "after": after, "again": again,
    "executes": default_user_config["stepfunctions"]["execute_state_machine"],
}))
"""

EXPECTED_TARGETS = {
    "LambdaFunction._invoke_lambda": "LambdaFunction",
    "StateTaskServiceEcs._eval_service_task": "StateTaskServiceEcs",
    "StateTaskServiceEcs._eval_integration_pattern": "StateTaskServiceCallback",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service."
    "state_task_service_ecs._SUPPORTED_API_PARAM_BINDINGS": (
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.service."
        "state_task_service_ecs"
    ),
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration."
    "iteration_worker.CustomErrorName": (
        "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iteration_worker"
    ),
}


def test_installed_moto_is_the_version_pinned_in_requirements() -> None:
    requirements = (REPO_ROOT / "requirements.txt").read_text()
    pin = re.search(r"^moto(?:\[[^\]]*\])?==(\S+)", requirements, re.MULTILINE)

    assert pin is not None, "requirements.txt must pin moto exactly"
    assert version("moto") == pin.group(1)


def test_every_target_is_moto_s_own_before_install_and_ours_after() -> None:
    # When
    result = subprocess.run(
        [sys.executable, "-c", _INSPECT_INSTALL],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    states = json.loads(result.stdout.splitlines()[-1])

    # Then: the module patches exactly these targets, each found where moto defines it,
    assert {target: row["defined_on"] for target, row in states["before"].items()} == (
        EXPECTED_TARGETS
    )
    assert all(row["from_moto"] and not row["installed"] for row in states["before"].values())
    # each replaced by its hook, once, and the interpreter now runs executions.
    assert all(row["installed"] for row in states["after"].values())
    assert states["again"] == states["after"]
    assert states["executes"] is True


class _Base:
    def inherited(self) -> str:
        return "base"


class _Child(_Base):
    def own(self) -> str:
        return "child"


def _replacement(self: object) -> str:
    return "patched"


def test_replace_sets_a_method_the_owner_defines() -> None:
    class Owner:
        def method(self) -> str:
            return "original"

    _replace(Owner, "method", _replacement)

    assert Owner().method() == "patched"


def test_replace_refuses_a_missing_attribute_and_names_it() -> None:
    with pytest.raises(HookTargetError, match=r"_Child\.renamed: moto no longer has it"):
        _replace(_Child, "renamed", _replacement)

    assert not hasattr(_Child, "renamed")


def test_replace_refuses_a_method_inherited_when_the_owner_should_define_it() -> None:
    # A method moved up to a base class: patching the subclass would shadow it silently.
    with pytest.raises(HookTargetError, match=r"_Child\.inherited: moto defines it on _Base"):
        _replace(_Child, "inherited", _replacement)

    assert "inherited" not in vars(_Child)


def test_replace_refuses_a_method_the_owner_now_overrides_itself() -> None:
    with pytest.raises(
        HookTargetError, match=r"_Child\.own: moto defines it on _Child, not on _Base"
    ):
        _replace(_Child, "own", _replacement, defined_on=_Base)


def test_replace_patches_a_subclass_for_a_method_its_base_defines() -> None:
    class Child(_Base):
        pass

    _replace(Child, "inherited", _replacement, defined_on=_Base)

    assert Child().inherited() == "patched"
    assert _Base().inherited() == "base"  # the base, and so its other subclasses, untouched


def test_replace_refuses_a_module_attribute_that_is_gone() -> None:
    module = types.ModuleType("moto_like")

    with pytest.raises(HookTargetError, match=r"moto_like\.CustomErrorName"):
        _replace(module, "CustomErrorName", _replacement)


def test_install_checks_every_target_before_replacing_any(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Moved:
        pass

    def hooks_with_a_moved_last_target() -> list[engine_hooks.Hook]:
        ours = engine_hooks.Hook(_Base, "inherited", _replacement, _Base)
        gone = engine_hooks.Hook(Moved, "gone", _replacement, Moved)
        return [ours, gone]

    monkeypatch.setattr(engine_hooks, "hooks", hooks_with_a_moved_last_target)

    with pytest.raises(HookTargetError, match=r"Moved\.gone"):
        engine_hooks.install(TaskLauncher("http://127.0.0.1:9", Path(".")))

    assert _Base().inherited() == "base"


def _function(name: str, variables: dict[str, str]) -> types.SimpleNamespace:
    """What the invoke hook reads of moto's LambdaFunction."""
    return types.SimpleNamespace(
        function_name=name,
        function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        memory_size=256,
        timeout=30,
        handler="json.dumps",  # never reached when the cold start fails
        environment_vars=variables,
    )


def test_a_function_missing_a_variable_fails_its_cold_start_naming_it() -> None:
    """The in-process handlers share one os.environ, which has every pipeline variable; the
    function's own configuration is what decides, as on Lambda."""
    function = _function("missing-media", {"VIDEOS_TABLE_NAME": "t", "UPLOADS_BUCKET": "u"})

    payload, errored, _ = engine_hooks._invoke_in_process(function, {})  # type: ignore[arg-type]

    body = json.loads(payload)
    assert errored and body["errorType"] == "ValidationError"
    assert "media_bucket" in body["errorMessage"]


def test_a_function_with_its_variables_starts_and_runs_the_handler() -> None:
    variables = {"VIDEOS_TABLE_NAME": "t", "UPLOADS_BUCKET": "u", "MEDIA_BUCKET": "m"}
    function = _function("complete", variables)
    function.handler = "tests.unit.test_engine_hooks.echo_handler"

    payload, errored, _ = engine_hooks._invoke_in_process(function, {"a": 1})  # type: ignore[arg-type]

    assert not errored and json.loads(payload) == {"echo": {"a": 1}}


def echo_handler(event: dict[str, object], context: object) -> dict[str, object]:
    return {"echo": event}
