"""Settings from CDK context: defaults, conversions from `-c` strings, and refusals."""

from __future__ import annotations

import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from pydantic import ValidationError

from cdk.settings import Settings
from lambdas.core.settings import Settings as FunctionSettings
from lambdas.core.settings import loudness_setting
from tests.infrastructure.conftest import generate_public_key_pem


def test_defaults_synthesize_a_small_deployment() -> None:
    settings = Settings()
    assert (settings.fargate_cpu, settings.fargate_memory_mib) == (2048, 4096)
    assert settings.fargate_spot is False
    assert settings.self_sign_up is False
    assert settings.allowed_origins == ()


def test_command_line_strings_are_converted() -> None:
    # `cdk deploy -c fargateCpu=4096 -c fargateMemoryMib=8192 -c fargateSpot=true ...`
    settings = Settings.model_validate(
        {
            "fargateCpu": "4096",
            "fargateMemoryMib": "8192",
            "fargateSpot": "true",
            "allowedOrigins": "https://app.example.com, http://localhost:5173",
            "logRetentionDays": "90",
        }
    )
    assert (settings.fargate_cpu, settings.fargate_memory_mib) == (4096, 8192)
    assert settings.fargate_spot is True
    assert settings.allowed_origins == ("https://app.example.com", "http://localhost:5173")
    assert settings.log_retention_days == 90


def test_a_json_list_of_origins_is_accepted() -> None:
    settings = Settings.model_validate({"allowedOrigins": '["https://a.example"]'})
    assert settings.allowed_origins == ("https://a.example",)


@pytest.mark.parametrize(
    "context",
    [
        {"fargateCpu": 2048, "fargateMemoryMib": 2048},  # too little memory for 2 vCPU
        {"fargateCpu": 3000},
        {"allowedOrigins": "https://app.example.com/"},  # an origin has no path
        {"logRetentionDays": 10},
        {"environmentName": "Prod"},
        {"x264Preset": "placebo"},
        {"jobStrategy": "fastest"},
        {"architecture": "ppc64"},
        {"cdnPublicKeyPem": "not a key"},
        {"unknownKey": 1},
    ],
)
def test_invalid_context_fails_synth(context: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate(context)


def test_a_required_cdn_key_must_be_given() -> None:
    with pytest.raises(ValidationError, match="-c cdnPublicKeyFile="):
        Settings.model_validate({"requireCdnKey": "true"})


def test_a_pem_cut_at_its_first_newline_is_refused_naming_the_file_form() -> None:
    # `-c cdnPublicKeyPem="$(cat cdn_public.pem)"`: the CLI keeps only the first line
    with pytest.raises(
        ValidationError, match=re.escape("-c cdnPublicKeyFile=path/to/cdn_public.pem")
    ):
        Settings.model_validate({"cdnPublicKeyPem": "-----BEGIN PUBLIC KEY-----"})


def test_the_public_key_is_read_from_cdn_public_key_file_under_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pem = generate_public_key_pem()
    (tmp_path / "cdn_public.pem").write_text(pem)
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = Settings.model_validate(
        {"cdnPublicKeyFile": "~/cdn_public.pem", "requireCdnKey": "true"}
    )
    assert settings.cdn_public_key_pem == pem


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"cdnPublicKeyFile": "/nonexistent/cdn_public.pem"}, "/nonexistent/cdn_public.pem"),
        ({"cdnPublicKeyFile": __file__}, "must be a PEM public key"),
        ({"cdnPublicKeyFile": __file__, "cdnPublicKeyPem": "x"}, "not both"),
    ],
)
def test_a_bad_cdn_public_key_file_is_refused(context: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings.model_validate(context)


def test_spot_with_arm64_is_refused_because_spot_runs_only_x86() -> None:
    with pytest.raises(ValidationError, match="fargateSpot runs only x86_64"):
        Settings.model_validate({"fargateSpot": "true", "architecture": "arm64"})
    assert Settings.model_validate({"fargateSpot": "true"}).architecture == "x86_64"


def test_parallel_jobs_default_fits_a_new_accounts_fargate_quota() -> None:
    # Two 2-vCPU tasks: 4 vCPUs, within the smallest quotas new accounts are given.
    settings = Settings()
    assert settings.max_parallel_jobs * settings.fargate_cpu / 1024 <= 4


def test_a_pem_passed_with_escaped_newlines_is_restored() -> None:
    pem = generate_public_key_pem()
    settings = Settings.model_validate({"cdnPublicKeyPem": pem.strip().replace("\n", "\\n")})
    assert settings.cdn_public_key_pem == pem


def test_context_is_read_by_its_camel_case_keys_and_near_misses_fail() -> None:
    app = cdk.App(context={"fargateCpu": "4096", "fargateMemoryMib": 8192, "aws:cdk:x": 1})
    assert Settings.from_node(app.node).fargate_cpu == 4096
    with pytest.raises(ValueError, match="did you mean 'fargateCpu'"):
        Settings.from_node(cdk.App(context={"fargatecpu": "4096"}).node)


def test_the_job_strategy_defaults_to_one_job_per_rung_and_accepts_balanced() -> None:
    assert Settings().job_strategy == "per_rung"
    assert Settings.model_validate({"jobStrategy": "balanced"}).job_strategy == "balanced"
    ladder = Settings.model_validate({"jobStrategy": "chunk_ladder"})
    assert ladder.job_strategy == "chunk_ladder"


def test_the_av1_ladder_is_off_and_the_native_top_rung_on_unless_the_context_says() -> None:
    assert (Settings().av1_ladder, Settings().native_top_rung) == (False, True)
    app = cdk.App(context={"av1Ladder": "true", "nativeTopRung": "false"})
    given = Settings.from_node(app.node)
    assert (given.av1_ladder, given.native_top_rung) == (True, False)


@pytest.mark.parametrize(("given", "environment"), [(None, "-16"), ("-14", "-14"), ("off", "off")])
def test_the_loudness_target_reaches_the_probe_as_a_number_or_off(
    given: str | None, environment: str
) -> None:
    # `-c loudnessTargetLufs=-14`, `-c loudnessTargetLufs=off`, or the default
    settings = Settings.model_validate({} if given is None else {"loudnessTargetLufs": given})

    assert loudness_setting(settings.loudness_target_lufs) == environment
    probe = FunctionSettings(
        videos_table_name="t", uploads_bucket="u", media_bucket="m",
        loudness_target_lufs=environment,
    )  # fmt: skip
    assert probe.loudness_target_lufs == (None if given == "off" else float(environment))
    with pytest.raises(ValidationError):
        Settings.model_validate({"loudnessTargetLufs": "0"})  # louder than any sane target
