"""No bucket is public; media only through CloudFront with signed URLs."""

from __future__ import annotations

from typing import Any

from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from cdk import constants
from cdk.nag import logical_id
from cdk.settings import Settings
from cdk.storage import Storage
from lambdas.core import uploads
from tests.infrastructure.conftest import LOCAL_ORIGIN, Synthesized
from tests.infrastructure.policies import as_list

BLOCK_ALL = {
    "BlockPublicAcls": True,
    "BlockPublicPolicy": True,
    "IgnorePublicAcls": True,
    "RestrictPublicBuckets": True,
}


def _bucket_policy(synthesized: Synthesized, bucket_id: str) -> list[dict[str, Any]]:
    for policy in synthesized.of_type("AWS::S3::BucketPolicy").values():
        if policy["Properties"]["Bucket"] == {"Ref": bucket_id}:
            statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
            return statements
    raise AssertionError(f"{bucket_id} has no bucket policy")


def test_every_bucket_is_private_encrypted_and_tls_only(synthesized: Synthesized) -> None:
    buckets = synthesized.of_type("AWS::S3::Bucket")
    assert len(buckets) == 4  # uploads, media, web, logs
    for bucket_id, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == BLOCK_ALL, bucket_id
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], bucket_id
        statements = _bucket_policy(synthesized, bucket_id)
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ), bucket_id
        # Policies let in only AWS services (CloudFront OAC, log delivery) and this
        # stack's own roles (the web bucket's auto-delete), never an account or "*".
        for statement in statements:
            if statement["Effect"] == "Allow":
                principal = statement["Principal"]
                own_role = principal.get("AWS", {}).get("Fn::GetAtt", [None])[0]
                assert "Service" in principal or own_role in synthesized.resources, statement


def test_uploads_cors_is_limited_to_the_web_app_and_exposes_etag(
    synthesized: Synthesized,
) -> None:
    delivery = synthesized.stack.delivery
    uploads = synthesized.resources[logical_id(synthesized.stack.storage.uploads)]
    (rule,) = uploads["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rule["ExposedHeaders"] == ["ETag"]
    assert sorted(rule["AllowedMethods"]) == ["GET", "HEAD", "POST", "PUT"]
    web_domain = {"Fn::GetAtt": [logical_id(delivery.web_distribution), "DomainName"]}
    assert rule["AllowedOrigins"] == [
        {"Fn::Join": ["", ["https://", web_domain]]},
        LOCAL_ORIGIN,
    ]
    lifecycle = uploads["Properties"]["LifecycleConfiguration"]["Rules"]
    assert {"DaysAfterInitiation": 1} in [
        r.get("AbortIncompleteMultipartUpload") for r in lifecycle
    ]


def test_media_is_served_only_through_cloudfront_with_signed_urls(
    synthesized: Synthesized,
) -> None:
    delivery = synthesized.stack.delivery
    media_id = logical_id(synthesized.stack.storage.media)
    distribution = synthesized.resources[logical_id(delivery.media_distribution)]
    config = distribution["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": [media_id, "RegionalDomainName"]}
    assert "OriginAccessControlId" in origin
    behavior = config["DefaultCacheBehavior"]
    assert behavior["TrustedKeyGroups"] == [{"Ref": logical_id(delivery.key_group)}]
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    assert "ResponseHeadersPolicyId" in behavior  # CORS for hls.js

    _, public_key = synthesized.one("AWS::CloudFront::PublicKey")
    encoded = public_key["Properties"]["PublicKeyConfig"]["EncodedKey"]
    assert encoded.strip() == synthesized.public_key_pem.strip()

    reads = [
        s
        for s in _bucket_policy(synthesized, media_id)
        if s["Effect"] == "Allow" and "s3:GetObject" in as_list(s["Action"])
    ]
    assert [s["Principal"] for s in reads] == [{"Service": "cloudfront.amazonaws.com"}]


def test_the_private_key_never_enters_the_template(synthesized: Synthesized) -> None:
    _, secret = synthesized.one("AWS::SecretsManager::Secret")
    assert "SecretString" not in secret["Properties"]
    assert "GenerateSecretString" not in secret["Properties"]
    assert "PRIVATE KEY" not in synthesized.template_path.read_text()


def test_the_web_app_is_a_spa_behind_cloudfront(synthesized: Synthesized) -> None:
    delivery = synthesized.stack.delivery
    distribution = synthesized.resources[logical_id(delivery.web_distribution)]
    config = distribution["Properties"]["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    assert {
        (r["ErrorCode"], r["ResponseCode"], r["ResponsePagePath"])
        for r in config["CustomErrorResponses"]
    } == {(403, 200, "/index.html"), (404, 200, "/index.html")}
    (origin,) = config["Origins"]
    assert "OriginAccessControlId" in origin


def _uploads_rules(resources: dict[str, Any], uploads_id: str) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = resources[uploads_id]["Properties"]["LifecycleConfiguration"][
        "Rules"
    ]
    return rules


def test_unfinished_uploads_expire_parts_and_unconfirmed_sources(synthesized: Synthesized) -> None:
    rules = _uploads_rules(synthesized.resources, logical_id(synthesized.stack.storage.uploads))
    # The tag the API writes every source with and removes at `complete` is the one the
    # expiry rule looks for.
    assert constants.PENDING_UPLOAD_TAG == (uploads.PENDING_TAG_KEY, uploads.PENDING_TAG_VALUE)
    (pending,) = [r for r in rules if "TagFilters" in r]
    assert pending["TagFilters"] == [{"Key": "upload", "Value": "pending"}]
    assert pending["ExpirationInDays"] == 1 and pending["Status"] == "Enabled"
    assert "Prefix" not in pending  # every source, whatever its video
    # Expiring a current version leaves it noncurrent: this rule removes the bytes.
    assert any(r.get("NoncurrentVersionExpiration") for r in rules)


def test_unfinished_upload_days_is_the_setting_for_both_rules() -> None:
    stack = Stack(App(), "StorageOnly")
    storage = Storage(stack, "Storage", settings=Settings(unfinished_upload_days=5))
    resources = Template.from_stack(stack).to_json()["Resources"]
    rules = _uploads_rules(resources, logical_id(storage.uploads))
    assert {"DaysAfterInitiation": 5} in [r.get("AbortIncompleteMultipartUpload") for r in rules]
    assert [r["ExpirationInDays"] for r in rules if "TagFilters" in r] == [5]


def test_media_cors_allows_the_web_apps_origin_only_and_passes_the_download_header(
    synthesized: Synthesized,
) -> None:
    # Given the media distribution and the response headers policy it attaches
    delivery = synthesized.stack.delivery
    distribution = synthesized.resources[logical_id(delivery.media_distribution)]
    behavior = distribution["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    policy_id = behavior["ResponseHeadersPolicyId"]["Ref"]
    config = synthesized.resources[policy_id]["Properties"]["ResponseHeadersPolicyConfig"]
    cors = config["CorsConfig"]
    # Then CORS answers the web app's own CloudFront origin (and the origins the context
    # adds, here a local dev server) with read-only methods and no credentials ...
    web_domain = {"Fn::GetAtt": [logical_id(delivery.web_distribution), "DomainName"]}
    origins = cors["AccessControlAllowOrigins"]["Items"]
    assert len(origins) == 2 and LOCAL_ORIGIN in origins
    assert {"Fn::Join": ["", ["https://", web_domain]]} in origins
    assert "*" not in origins
    assert sorted(cors["AccessControlAllowMethods"]["Items"]) == ["GET", "HEAD", "OPTIONS"]
    assert cors["AccessControlAllowCredentials"] is False
    assert cors["OriginOverride"] is True
    # ... and removes no header: S3's stored Content-Disposition reaches the browser
    assert "RemoveHeadersConfig" not in config
