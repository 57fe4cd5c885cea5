"""The functions' settings come from their environment alone, validated at cold start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lambdas.core.settings import ApiSettings, Settings

BASE = {"VIDEOS_TABLE_NAME": "videos", "UPLOADS_BUCKET": "up", "MEDIA_BUCKET": "media"}


def test_fields_are_read_from_upper_case_variables_and_typed() -> None:
    settings = Settings.from_environment(
        {**BASE, "HEVC_LADDER": "true", "CHUNK_SECONDS": "60", "JOB_STRATEGY": "balanced"}
    )

    assert (settings.videos_table_name, settings.media_bucket) == ("videos", "media")
    assert settings.hevc_ladder is True and settings.chunk_seconds == 60
    assert settings.job_strategy == "balanced"
    assert settings.ladder_max_height == 1440  # unset: the default


def test_a_missing_required_variable_fails_naming_it() -> None:
    with pytest.raises(ValidationError, match="media_bucket"):
        Settings.from_environment({"VIDEOS_TABLE_NAME": "videos", "UPLOADS_BUCKET": "up"})


def test_an_invalid_value_fails_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="chunk_seconds"):
        Settings.from_environment({**BASE, "CHUNK_SECONDS": "-4"})
    with pytest.raises(ValidationError, match="job_strategy"):
        Settings.from_environment({**BASE, "JOB_STRATEGY": "fastest"})


def test_the_api_needs_its_own_variables_besides_the_shared_ones() -> None:
    with pytest.raises(ValidationError, match="state_machine_arn"):
        ApiSettings.from_environment(BASE)


def test_settings_are_frozen() -> None:
    settings = Settings.from_environment(BASE)
    with pytest.raises(ValidationError):
        settings.media_bucket = "other"  # type: ignore[misc]
