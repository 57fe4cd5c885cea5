"""`python rusage_child.py OUT.json -- COMMAND...`: runs COMMAND, writes its resource usage.

A small interpreter in between because Linux carries a process's resident-set high-water
mark across exec: a command started straight from the benchmark (hundreds of MiB, with moto
in it) would report at least the benchmark's own size as its peak memory. Started from this
small process, FFmpeg reports its own (as it does under the transcoder's runner).
Standard library only, run with `python -I`.
"""

from __future__ import annotations

import json
import os
import sys
import time

_MAXRSS_BYTES = 1024  # Linux reports ru_maxrss in KiB


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    out, command = argv[0], argv[2:]
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child becomes the command
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.monotonic() - started
    with open(out, "w") as report:
        json.dump(
            {
                "wall_seconds": wall,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "peak_memory_bytes": usage.ru_maxrss * _MAXRSS_BYTES,
            },
            report,
        )
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
