"""`make bench` (`python -m bench`): cost, speed and quality of the pipeline against the
one-process FFmpeg ladder, in one run on one machine. Method: docs/benchmark.md."""
