from datetime import UTC, datetime


def utc_now_iso() -> str:
    """ISO-8601 UTC with milliseconds and a Z, the format Step Functions uses for times too."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
