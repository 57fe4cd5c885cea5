"""A Lambda handler for the tests of the gateway's instances (local/lambda_instances.py): it
answers with its process and how many invocations its module has served, and with
`rendezvous` waits until `count` invocations have arrived there (at most `wait_seconds`),
so a test can tell that two of them ran at the same time without measuring time."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

served = 0  # module state: the instance's own


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global served  # noqa: PLW0603 - what the test observes
    served += 1
    if event.get("fail"):
        raise RuntimeError("asked to fail")
    met = None
    if rendezvous := event.get("rendezvous"):
        folder = Path(rendezvous)
        (folder / f"{os.getpid()}-{served}").touch()
        deadline = time.monotonic() + float(event.get("wait_seconds", 10))
        while len(list(folder.iterdir())) < event["count"] and time.monotonic() < deadline:
            time.sleep(0.01)
        met = len(list(folder.iterdir())) >= event["count"]
    return {
        "pid": os.getpid(),
        "served": served,
        "met": met,
        "function": context.function_name,
        "stdout_is_stderr": os.path.samestat(os.fstat(1), os.fstat(2)),
    }
