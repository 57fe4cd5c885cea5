from __future__ import annotations

from pathlib import Path
from typing import Any


def download_media(s3: Any, bucket: str, video_id: str, out_dir: Path) -> int:
    """Copies a video's published media (not the jobs' bookkeeping) into out_dir."""
    copied = 0
    prefix = f"{video_id}/"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            relative = item["Key"][len(prefix) :]
            if relative.startswith("jobs/"):
                continue
            target = out_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, item["Key"], str(target))
            copied += 1
    return copied
