"""StreamForge's transcoder: one job from the environment, FFmpeg, outputs to S3."""
