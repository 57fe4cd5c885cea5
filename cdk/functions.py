"""One way to make the project's Lambda functions: role, log group, tracing, Powertools.

The zip functions share one bundle: `lambdas/` at the root plus the pip-installed
`lambdas/requirements.txt`, built for arm64 on this machine with pip (no Docker). The probe
needs `ffprobe`, so it is a container image built from `lambdas/probe.Dockerfile` at deploy
time; Finalise runs in the same image (FFmpeg remuxes the MP4 download).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import BundlingOptions, Duration, ILocalBundling, RemovalPolicy, Size
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk import constants
from cdk.settings import Settings

ZIP_RUNTIME = lambda_.Runtime.PYTHON_3_12
_PYTHON_VERSION = "3.12"
# Lambda's Python 3.12 runs on Amazon Linux 2023 (glibc 2.34): both tags are safe.
_WHEEL_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
_IGNORED = ("__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache")


@jsii.implements(ILocalBundling)
class PipBundling:
    """Bundles `source` (the `lambdas/` package) with its requirements, without Docker.

    jsii calls `try_bundle(output_dir, options)` positionally, whatever the generated
    Python stub says.
    """

    def __init__(self, source: Path) -> None:
        self._source = source

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:
        out = Path(output_dir)
        command = [
            sys.executable, "-m", "pip", "install",
            "--quiet", "--disable-pip-version-check",
            "--no-compile",  # compiled below, by a Python of the runtime's version
            *[arg for platform in _WHEEL_PLATFORMS for arg in ("--platform", platform)],
            "--implementation", "cp",
            "--python-version", _PYTHON_VERSION,
            "--only-binary=:all:",
            "--target", str(out),
            "-r", str(self._source / "requirements.txt"),
        ]  # fmt: skip
        subprocess.run(command, check=True)
        shutil.copytree(
            self._source, out / self._source.name, ignore=shutil.ignore_patterns(*_IGNORED)
        )
        interpreter = runtime_interpreter()
        if interpreter is None:
            print(
                f"no Python {_PYTHON_VERSION} on this machine: the Lambda bundle ships without "
                "bytecode, so each cold start compiles what it imports",
                file=sys.stderr,
            )
        else:
            compile_bytecode(out, interpreter)
        return True  # never fall back to Docker: a failed pip install fails the synth


def runtime_interpreter() -> str | None:
    """A Python of the zip runtime's version, to compile the bundle with (bytecode is
    version-specific); None when this machine has none."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == _PYTHON_VERSION:
        return sys.executable
    candidate = shutil.which(f"python{_PYTHON_VERSION}")
    if candidate is None:
        return None
    # A version manager's shim may be on the PATH for a version it has not installed.
    version = "import sys; print('%d.%d' % sys.version_info[:2])"
    try:
        ran = subprocess.run(
            [candidate, "-c", version], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    return candidate if ran.returncode == 0 and ran.stdout.strip() == _PYTHON_VERSION else None


def compile_bytecode(root: Path, interpreter: str) -> None:
    """Writes every module's bytecode under `root`. Lambda's /var/task is read-only, so a
    module shipped without it is compiled again at every cold start. Unchecked-hash files
    stay valid whatever times the asset's zip gives the sources; the bundle never changes
    after it is built."""
    subprocess.run(
        [interpreter, "-m", "compileall", "-q", "-j", "0",
         "--invalidation-mode", "unchecked-hash", str(root)],
        check=True,
    )  # fmt: skip


_BUNDLER = PipBundling(constants.LAMBDAS_DIR)  # one instance: one cache key, one pip run


def zip_code() -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(constants.LAMBDAS_DIR),
        exclude=[f"**/{pattern}" for pattern in _IGNORED],
        bundling=BundlingOptions(
            image=ZIP_RUNTIME.bundling_image,  # required by the API, unused: bundling is local
            local=_BUNDLER,  # type: ignore[arg-type]  # jsii's protocol stub has the wrong signature
        ),
    )


def probe_image_code(settings: Settings, handler: str | None = None) -> lambda_.DockerImageCode:
    """The probe's image (Python and FFmpeg); `handler` runs another function of `lambdas/`
    in the same image (Finalise remuxes the MP4 download with FFmpeg)."""
    # The build context is the repository root (the image needs `lambdas/`); everything
    # else stays out of it.
    return lambda_.DockerImageCode.from_image_asset(
        str(constants.REPO_ROOT),
        file=constants.PROBE_DOCKERFILE,
        platform=image_platform(settings),
        exclude=["*", "!lambdas", *[f"lambdas/**/{pattern}" for pattern in _IGNORED]],
        cmd=[handler] if handler else None,
    )


def image_platform(settings: Settings) -> ecr_assets.Platform:
    if settings.architecture == "arm64":
        return ecr_assets.Platform.LINUX_ARM64
    return ecr_assets.Platform.LINUX_AMD64


def image_architecture(settings: Settings) -> lambda_.Architecture:
    if settings.architecture == "arm64":
        return lambda_.Architecture.ARM_64
    return lambda_.Architecture.X86_64


def python_function(
    scope: Construct,
    id: str,
    *,
    settings: Settings,
    service: str,
    environment: dict[str, str],
    memory_size: int,
    timeout: Duration,
    description: str,
    handler: str | None = None,
    image: lambda_.DockerImageCode | None = None,
    ephemeral_storage_mib: int | None = None,
) -> lambda_.Function:
    """A zip function running `handler`, or a container-image function from `image`."""
    log_group = logs.LogGroup(
        scope,
        f"{id}Logs",
        retention=settings.log_retention,
        removal_policy=RemovalPolicy.DESTROY,
    )
    # An own role instead of AWSLambdaBasicExecutionRole: logs go to this log group only.
    role = iam.Role(scope, f"{id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    log_group.grant_write(role)
    env = {
        "POWERTOOLS_SERVICE_NAME": service,
        "POWERTOOLS_METRICS_NAMESPACE": constants.METRICS_NAMESPACE,
        "LOG_LEVEL": "INFO",
        **environment,
    }
    if image is not None:
        return lambda_.DockerImageFunction(
            scope,
            id,
            code=image,
            architecture=image_architecture(settings),
            role=role,
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
            memory_size=memory_size,
            timeout=timeout,
            environment=env,
            description=description,
            ephemeral_storage_size=Size.mebibytes(ephemeral_storage_mib)
            if ephemeral_storage_mib
            else None,
        )
    if handler is None:
        raise ValueError(f"{id}: give a handler (zip function) or an image")
    return lambda_.Function(
        scope,
        id,
        code=zip_code(),
        handler=handler,
        runtime=ZIP_RUNTIME,
        architecture=lambda_.Architecture.ARM_64,
        role=role,
        log_group=log_group,
        tracing=lambda_.Tracing.ACTIVE,
        memory_size=memory_size,
        timeout=timeout,
        environment=env,
        description=description,
    )
