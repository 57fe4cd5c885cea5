"""`python -m local smoke`, the check users run against their deployed stack, run as a
command against the offline stack: it passes on a working stack and fails on a refusal."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from local.config import REPO_ROOT
from local.stack import OfflineStack


def smoke(stack: OfflineStack, token: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "local", "smoke", "--api", stack.api_url, "--token", token]
    return subprocess.run(
        [*command, "--timeout", "300"],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )


@pytest.mark.slow
def test_smoke_uploads_a_clip_plays_back_a_signed_segment_and_the_poster_then_deletes_it(
    offline_stack: OfflineStack,
) -> None:
    done = smoke(offline_stack, offline_stack.token("smoke-user"))

    assert done.returncode == 0, done.stderr
    summary = done.stdout.splitlines()
    assert summary[0] == "smoke test passed"
    video_id = summary[1].split()[1]
    assert " COMPLETED after " in summary[1]
    fetched = [line for line in summary if line.startswith("fetched")]
    assert [line.split()[1] for line in fetched] == ["master", "playlist", "segment", "poster"]
    assert all(int(line.rsplit("(", 1)[1].split()[0]) > 0 for line in fetched)
    assert summary[-1] == "deleted  yes"
    gone = requests.get(
        f"{offline_stack.api_url}/videos/{video_id}",
        headers={"Authorization": f"Bearer {offline_stack.token('smoke-user')}"},
        timeout=10,
    )
    assert gone.status_code == 404 or gone.json()["status"] == "DELETED"


def test_smoke_fails_with_exit_code_1_naming_the_refusal(offline_stack: OfflineStack) -> None:
    done = smoke(offline_stack, "not-a-token")

    assert done.returncode == 1
    assert "smoke test FAILED: HTTP 401" in done.stderr
