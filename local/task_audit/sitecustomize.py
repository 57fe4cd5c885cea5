"""Python imports this at start-up in an offline transcoder task while the IAM audit is on
(local/iam_audit.py puts this folder first on the task's PYTHONPATH): the task role's calls
are recorded without the transcoder knowing."""

from local import iam_audit

iam_audit.install_from_environment()
