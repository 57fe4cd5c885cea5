# The probe Lambda as a container image: the Lambda Python runtime has no ffprobe.
# Built by `cdk deploy` (DockerImageCode.from_image_asset) with the repository root as the
# build context; cdk/functions.py keeps everything but lambdas/ out of that context.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /var/task

# Dependencies first: they change less often than the code.
COPY lambdas/requirements.txt lambdas/requirements.txt
RUN pip install awslambdaric==4.2.2 -r lambdas/requirements.txt

COPY lambdas/ lambdas/
# Bytecode at build time: Lambda's file system is read-only, so what a cold start compiles
# is not kept for the next.
RUN python -m compileall -q lambdas/

# Lambda runs the image as an unprivileged user with /var/task as the working directory.
ENTRYPOINT ["python", "-m", "awslambdaric"]
CMD ["lambdas.pipeline.probe_handler.lambda_handler"]
