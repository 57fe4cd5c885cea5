"""Fixtures for the unit tests of the offline stack's changes to moto."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws


@pytest.fixture
def dynamodb_in_memory() -> Iterator[Any]:
    """A DynamoDB client of moto in memory. An offline stack in this session keeps its state
    in the same moto backends, so they are neither reset before nor removed after; use
    table names of the test's own. No retries: a test sees each answer moto gives."""
    mock = mock_aws()
    mock.start(reset=False)
    try:
        yield boto3.client(
            "dynamodb",
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(retries={"total_max_attempts": 1}),
        )
    finally:
        mock.stop(remove_data=False)
