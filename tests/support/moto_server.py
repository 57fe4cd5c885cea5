"""A real HTTP endpoint for AWS, served by moto on loopback, for tests that cross processes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer


@contextmanager
def moto_endpoint() -> Iterator[str]:
    """Start moto's server on a free loopback port; yield its URL; stop it afterwards.

    The server keeps its state in this process's moto backends, which `mock_aws`
    resets: do not enter `mock_aws` while the server is in use.
    """
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def aws_env(endpoint: str) -> dict[str, str]:
    """Environment variables that point any boto3 client, in any process, at `endpoint`."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        # S3 too: a value left by an offline stack in this process would otherwise win
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
