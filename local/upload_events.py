"""Starts a workflow execution for each S3 'Object Created' event, as the EventBridge rule's
state machine target does on AWS. Duplicates are started too: the workflow's Claim step is
what makes them harmless, offline as on AWS."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Any

log = logging.getLogger("streamforge.local.events")


def execution_name(event: dict[str, Any]) -> str:
    key = str(event.get("detail", {}).get("object", {}).get("key", "unknown"))
    prefix = "".join(c if c.isalnum() or c in "-_" else "-" for c in key.split("/", 1)[0])
    return f"{prefix[:60]}-{uuid.uuid4().hex[:12]}"


class UploadEventPump:
    def __init__(self, sqs: Any, stepfunctions: Any, queue_url: str, state_machine_arn: str):
        self._sqs = sqs
        self._sfn = stepfunctions
        self._queue_url = queue_url
        self._state_machine_arn = state_machine_arn
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="upload-events", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        """Starts no execution after the current poll; `stop` waits for that poll to end."""
        self._stopping.set()

    def stop(self) -> None:
        self.request_stop()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                # moto's long poll returns as soon as a message arrives: no added latency.
                self.pump_once(wait_seconds=1)
            except Exception:
                log.exception("upload event pump failed; retrying")
                self._stopping.wait(1)

    def pump_once(self, wait_seconds: int = 0) -> int:
        messages = self._sqs.receive_message(
            QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
        ).get("Messages", [])
        for message in messages:
            if self._stopping.is_set():  # left in the queue, as a stopped rule target would
                break
            event = json.loads(message["Body"])
            name = execution_name(event)
            self._sfn.start_execution(
                stateMachineArn=self._state_machine_arn, name=name, input=json.dumps(event)
            )
            log.info("started execution %s", name)
            self._sqs.delete_message(
                QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"]
            )
        return len(messages)
