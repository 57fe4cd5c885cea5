import json

from lambdas.pipeline.contract import JOB_ENV_VAR
from lambdas.pipeline.failure import StepError, describe_failure


def test_a_rejected_source_keeps_the_probes_message_and_code() -> None:
    cause = json.dumps(
        {"errorType": "NotAVideo", "errorMessage": "The uploaded file is not a video."}
    )
    failure = describe_failure(StepError.model_validate({"Error": "NotAVideo", "Cause": cause}))
    assert failure.code == "NOT_A_VIDEO"
    assert failure.message == "The uploaded file is not a video."


def test_a_failed_transcoder_task_names_the_rendition_and_exit_code() -> None:
    job = json.dumps({"rendition": {"name": "480p"}})
    task = {
        "TaskArn": "arn:aws:ecs:us-east-1:1:task/c/abc",
        "Containers": [{"ExitCode": 1}],
        "Overrides": {
            "ContainerOverrides": [{"Environment": [{"Name": JOB_ENV_VAR, "Value": job}]}]
        },
    }
    error = StepError.model_validate({"Error": "States.TaskFailed", "Cause": json.dumps(task)})
    failure = describe_failure(error)
    assert failure.code == "TRANSCODE_FAILED"
    assert "480p rendition" in failure.message and "exit code 1" in failure.message
    assert "arn:aws:ecs:us-east-1:1:task/c/abc" in failure.message


def test_a_timeout_says_so() -> None:
    failure = describe_failure(StepError.model_validate({"Error": "States.Timeout", "Cause": ""}))
    assert failure.code == "TIMEOUT"
    assert "time limit" in failure.message


def test_anything_else_is_an_internal_error_with_the_execution_reference() -> None:
    failure = describe_failure(
        StepError.model_validate({"Error": "Lambda.Unknown", "Cause": "boom"}), "arn:exec:1"
    )
    assert failure.code == "INTERNAL_ERROR"
    assert "Lambda.Unknown" in failure.message and "arn:exec:1" in failure.message


def test_a_failed_grouped_task_names_every_rendition_of_its_group() -> None:
    job = json.dumps(
        {"rendition": {"name": "480p"}, "group": [{"name": "360p"}, {"name": "audio"}]}
    )
    task = {
        "TaskArn": "arn:aws:ecs:us-east-1:1:task/c/def",
        "Containers": [{"ExitCode": 1}],
        "Overrides": {
            "ContainerOverrides": [{"Environment": [{"Name": JOB_ENV_VAR, "Value": job}]}]
        },
    }
    for error_name, code in (("States.TaskFailed", "TRANSCODE_FAILED"), ("States.Timeout", "")):
        error = StepError.model_validate({"Error": error_name, "Cause": json.dumps(task)})
        failure = describe_failure(error)
        assert failure.code == (code or "TRANSCODE_TIMEOUT")
        assert "the 480p, 360p and audio renditions (one task)" in failure.message
