"""Names shared by the constructs, the tests and the code they deploy."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDAS_DIR = REPO_ROOT / "lambdas"
PROBE_DOCKERFILE = "lambdas/probe.Dockerfile"  # relative to REPO_ROOT, the build context
TRANSCODER_DIR = REPO_ROOT / "transcoder_image"
STATE_MACHINE_ASL = REPO_ROOT / "stepfunctions" / "pipeline.asl.json"
WEB_DIST_DIR = REPO_ROOT / "web" / "dist"

APP_NAME = "StreamForge"
METRICS_NAMESPACE = "StreamForge"
EVENT_SOURCE = "streamforge"  # `source` of the VideoReady / VideoFailed events

# Lambda handlers (module paths inside the bundle, whose root holds `lambdas/`)
API_HANDLER = "lambdas.api.handler.lambda_handler"
PROBE_HANDLER = "lambdas.pipeline.probe_handler.lambda_handler"  # the image's CMD
FINALISE_HANDLER = "lambdas.pipeline.finalise_handler.lambda_handler"
RECORD_FAILURE_HANDLER = "lambdas.pipeline.failure_handler.lambda_handler"

# Powertools service names, one per function
API_SERVICE = "api"
PROBE_SERVICE = "probe"
FINALISE_SERVICE = "finalise"
RECORD_FAILURE_SERVICE = "record-failure"

TRANSCODER_CONTAINER_NAME = "transcoder"

# Data layout (lambdas/core/models.py reads the same names)
TABLE_PARTITION_KEY = "pk"
TABLE_SORT_KEY = "sk"
BY_OWNER_INDEX = "by_owner"
PUBLIC_CATALOG_INDEX = "public_catalog"
ACTIVE_BY_OWNER_INDEX = "active_by_owner"
UPLOAD_SOURCE_SUFFIX = "/source"  # uploads are stored at `{videoId}/source`
UPLOAD_SOURCE_PATTERN = "*/source"
# Caption files the owner uploads (lambdas/core/captions.py), and what publishing them
# writes and rewrites in the media bucket
UPLOAD_CAPTIONS_PATTERN = "*/captions/*"
MEDIA_CAPTION_TRACKS_PATTERN = "*/hls/subs/*"
MEDIA_MANIFEST_PATTERNS = ("*/hls/master.m3u8", "*/dash/manifest.mpd")
# Sources carry this tag until `complete` has checked them (lambdas/core/uploads.py)
PENDING_UPLOAD_TAG = ("upload", "pending")

# The rule Step Functions manages for `ecs:runTask.sync`; its role must be allowed to
# create it and point it at the execution.
ECS_SYNC_MANAGED_RULE = "StepFunctionsGetEventsForECSTaskRule"

# Every ${Placeholder} in the ASL file; the state machine construct fills exactly these.
ASL_PLACEHOLDERS = (
    "VideosTableName",
    "ProbeFunctionArn",
    "FinaliseFunctionArn",
    "RecordFailureFunctionArn",
    "DeadLetterQueueUrl",
    "ClusterArn",
    "TaskDefinitionArn",
    "ContainerName",
    "SubnetId1",
    "SubnetId2",
    "SecurityGroupId",
    "CapacityProvider",
    "SpotFallback",
)

# API Gateway default stage throttling (requests per second, burst)
API_RATE_LIMIT = 50
API_BURST_LIMIT = 100

# Keys of the web app's config.json (web/ reads them at start-up)
WEB_CONFIG_FILE = "config.json"
