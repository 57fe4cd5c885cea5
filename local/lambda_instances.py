"""Lambda instances as worker processes, for the gateway emulator.

Each instance is a Python process that imports the handler when it starts (its own cold
start, which its first invocation waits for) and then runs one invocation at a time, as a
Lambda execution environment does; module state (the resolver's current event, cached
clients) is the instance's own. `FunctionInstances` starts a new instance when every
running one is busy, up to its concurrency, and queues an invocation behind a busy one
beyond that.

Parent and instance speak one JSON line each way per invocation over the instance's stdin
and a copy of its stdout; the handler's own stdout (Powertools' logs) goes to stderr.
`python -m local.lambda_instances HANDLER NAME ARN` is the instance side. Only the
standard library at the top: an instance imports this module before the handler.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any

from local.lambda_context import LocalLambdaContext

STOP_GRACE_SECONDS = 1.0
# Lambda gives an instance's init (the handler's import) its own 10 s, apart from the
# function's timeout; several instances importing at once on a busy 2-core machine can
# take longer, so offline their init may take a minute.
INIT_TIMEOUT_SECONDS = 60.0


class FunctionError(Exception):
    """The handler raised: API Gateway answers 500, as for an unhandled Lambda error."""


class InvocationTimedOut(FunctionError):
    """No response within the function's timeout: the instance is killed, as Lambda ends
    it, and the invocation is an error."""


@dataclass(frozen=True)
class FunctionSpec:
    handler: str  # "lambdas.api.handler.lambda_handler"
    name: str
    arn: str
    timeout_seconds: int


class LambdaInstance:
    """One worker process; `invoke` is called by one thread at a time (the pool's)."""

    def __init__(self, spec: FunctionSpec, environment: Mapping[str, str]):
        self.spec = spec
        self._initialised = False
        self._process = subprocess.Popen(
            [sys.executable, "-m", "local.lambda_instances", spec.handler, spec.name, spec.arn],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=dict(environment),
            text=True,
        )

    @property
    def pid(self) -> int:
        return self._process.pid

    def invoke(self, event: Mapping[str, Any]) -> dict[str, Any]:
        if not self._initialised:  # the cold start: the first invocation waits for it
            try:
                self._reply(INIT_TIMEOUT_SECONDS)
            except FunctionError:
                self.stop()  # it exits after a failed init; never reused
                raise
            self._initialised = True
        stdin, _ = self._pipes()
        request = {"event": event, "timeout_seconds": self.spec.timeout_seconds}
        stdin.write(json.dumps(request) + "\n")
        stdin.flush()
        response: dict[str, Any] = self._reply(self.spec.timeout_seconds)["response"]
        return response

    def _reply(self, timeout_seconds: float) -> dict[str, Any]:
        _, stdout = self._pipes()
        # One line expected at a time, so nothing is left in the reader's buffer meanwhile.
        ready, _, _ = select.select([stdout], [], [], timeout_seconds)
        if not ready:
            self.stop(grace_seconds=0)
            raise InvocationTimedOut(f"{self.spec.name} timed out")
        line = stdout.readline()
        if not line:
            raise FunctionError(f"{self.spec.name}: the instance exited ({self._process.wait()})")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise FunctionError(reply["error"])
        return reply

    def alive(self) -> bool:
        return self._process.poll() is None

    def ask_to_stop(self) -> None:
        """Closing stdin ends the instance's loop once it is idle."""
        if self._process.stdin and not self._process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self._process.stdin.close()

    def stop(self, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        """Asks, then kills a busy or stuck instance after `grace_seconds`."""
        self.ask_to_stop()
        try:
            self._process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        assert self._process.stdin is not None and self._process.stdout is not None
        return self._process.stdin, self._process.stdout


class FunctionInstances:
    """Up to `concurrency` instances of one function, each started on first need."""

    def __init__(
        self,
        spec: FunctionSpec,
        environment: Callable[[], Mapping[str, str]],
        concurrency: int,
    ):
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.spec = spec
        self.concurrency = concurrency
        self._environment = environment  # read when an instance starts, as Lambda does
        self._idle: list[LambdaInstance] = []
        self._all: list[LambdaInstance] = []
        self._starting = 0
        self._stopped = False
        self._changed = threading.Condition()

    def invoke(self, event: Mapping[str, Any]) -> dict[str, Any]:
        instance = self._take()
        try:
            return instance.invoke(event)
        finally:
            self._give_back(instance)

    def pids(self) -> list[int]:
        with self._changed:
            return [instance.pid for instance in self._all]

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            instances, self._all, self._idle = self._all, [], []
            self._changed.notify_all()
        for instance in instances:  # all asked first, then waited for: one grace in all
            instance.ask_to_stop()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for instance in instances:
            instance.stop(grace_seconds=max(0.0, deadline - time.monotonic()))

    def _take(self) -> LambdaInstance:
        with self._changed:
            while True:
                if self._stopped:
                    raise FunctionError(f"{self.spec.name}: the gateway is stopping")
                if self._idle:
                    return self._idle.pop()
                if len(self._all) + self._starting < self.concurrency:
                    self._starting += 1
                    break
                self._changed.wait()
        try:
            instance = LambdaInstance(self.spec, self._environment())
        finally:
            with self._changed:
                self._starting -= 1
        with self._changed:
            self._all.append(instance)
        return instance

    def _give_back(self, instance: LambdaInstance) -> None:
        with self._changed:
            if instance.alive() and not self._stopped:
                self._idle.append(instance)
            elif instance in self._all:
                self._all.remove(instance)
                instance.stop(grace_seconds=0)
            self._changed.notify()


# --- the instance's side --------------------------------------------------------------------


def serve(handler_path: str, function_name: str, function_arn: str) -> int:
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # the handler's prints go to stderr
    module_name, _, attribute = handler_path.rpartition(".")
    try:  # the init phase: the cold start
        handler: Callable[[Any, Any], Any] = getattr(
            importlib.import_module(module_name), attribute
        )
    except Exception as error:
        traceback.print_exc()
        _write(replies, {"error": f"init: {type(error).__name__}: {error}"})
        return 1
    _write(replies, {"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        context = LocalLambdaContext(
            function_name, function_arn, timeout_seconds=request["timeout_seconds"]
        )
        try:
            reply = {"response": handler(request["event"], context)}
        except Exception as error:
            traceback.print_exc()
            reply = {"error": f"{type(error).__name__}: {error}"}
        _write(replies, reply)
    return 0


def _write(replies: IO[str], reply: Mapping[str, Any]) -> None:
    replies.write(json.dumps(reply) + "\n")
    replies.flush()


if __name__ == "__main__":
    sys.exit(serve(*sys.argv[1:4]))
