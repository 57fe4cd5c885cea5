"""CloudFront: the web app, and the media behind signed URLs (key group + Secrets Manager)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from aws_cdk import Annotations, Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from cdk.nag import acknowledge
from cdk.settings import Settings
from cdk.storage import Storage

# The public half of a key pair whose private half was thrown away: a stack synthesized
# without `cdnPublicKeyPem` deploys a media CDN that refuses every request (fails closed).
PLACEHOLDER_PUBLIC_KEY = Path(__file__).with_name("placeholder_cdn_public_key.pem")

_DISTRIBUTION_FINDINGS = {
    "AwsSolutions-CFR1": "The audience is not limited to some countries; nothing to geo-restrict.",
    "AwsSolutions-CFR2": "No WAF: static files and signed, expiring media URLs; a web ACL "
    "costs more than this service's traffic. Add one with web_acl_id if needed.",
    "AwsSolutions-CFR4": "The default *.cloudfront.net certificate is used; its minimum TLS "
    "version cannot be raised without a custom domain and certificate.",
}


class Delivery(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: Settings,
        storage: Storage,
    ) -> None:
        super().__init__(scope, id)

        self.web_distribution = cloudfront.Distribution(
            self,
            "WebCdn",
            comment="StreamForge web app",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(storage.web),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self._web_headers(),
            ),
            default_root_object="index.html",
            # A single-page app: unknown paths are client-side routes.
            error_responses=[
                cloudfront.ErrorResponse(
                    http_status=status,
                    response_http_status=200,
                    response_page_path="/index.html",
                    ttl=Duration.seconds(0),
                )
                for status in (403, 404)
            ],
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=storage.logs,
            log_file_prefix="cloudfront/web/",
        )
        self.web_url = f"https://{self.web_distribution.distribution_domain_name}"
        self.web_origins = [self.web_url, *settings.allowed_origins]

        # Signed URLs: CloudFront checks them with the public key; the API signs them with
        # the private key it reads from this secret (created empty, filled by hand).
        # CloudFront cannot change a public key in place: a new PEM is a new resource (its
        # id and name carry the key's hash), and the key group moves over to it.
        pem = settings.cdn_public_key_pem or self._placeholder_key()
        key_hash = hashlib.sha256(pem.encode()).hexdigest()[:12]
        self.public_key = cloudfront.PublicKey(
            self,
            f"CdnPublicKey{key_hash}",
            public_key_name=regional_name(self, f"cdn-key-{key_hash}"),
            encoded_key=pem,
            comment="StreamForge media URL signing key",
        )
        self.key_group = cloudfront.KeyGroup(
            self,
            "CdnKeyGroup",
            key_group_name=regional_name(self, "cdn-keys"),
            items=[self.public_key],
        )
        self.private_key_secret = secretsmanager.Secret(
            self,
            "CdnPrivateKey",
            description="PEM private key that signs StreamForge media URLs "
            "(put it in with `aws secretsmanager put-secret-value`, see docs/deploy.md)",
            removal_policy=RemovalPolicy.DESTROY,
        )
        # No generated value: the secret starts empty and only ever holds the PEM.
        secret_resource = self.private_key_secret.node.default_child
        assert isinstance(secret_resource, secretsmanager.CfnSecret)
        secret_resource.add_property_deletion_override("GenerateSecretString")
        acknowledge(
            self.private_key_secret,
            "AwsSolutions-SMG4",
            "A CloudFront key pair is rotated by hand (new public key in the key group, "
            "then the new PEM here); no rotation Lambda can do that.",
        )

        # hls.js fetches playlists and segments with XHR from the web app's origin.
        media_cors = cloudfront.ResponseHeadersPolicy(
            self,
            "MediaCors",
            response_headers_policy_name=regional_name(self, "media-cors"),
            cors_behavior=cloudfront.ResponseHeadersCorsBehavior(
                access_control_allow_origins=self.web_origins,
                access_control_allow_methods=["GET", "HEAD", "OPTIONS"],
                access_control_allow_headers=["*"],
                access_control_allow_credentials=False,
                access_control_max_age=Duration.minutes(10),
                origin_override=True,
            ),
        )
        self.media_distribution = cloudfront.Distribution(
            self,
            "MediaCdn",
            comment="StreamForge media (signed URLs only)",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(storage.media),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
                cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD_OPTIONS,
                # The signature's query string is checked by CloudFront, then left out of
                # the cache key: every viewer shares the cached segments.
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=media_cors,
                trusted_key_groups=[self.key_group],
            ),
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=storage.logs,
            log_file_prefix="cloudfront/media/",
        )
        for rule, reason in _DISTRIBUTION_FINDINGS.items():
            acknowledge([self.web_distribution, self.media_distribution], rule, reason)

    def _web_headers(self) -> cloudfront.ResponseHeadersPolicy:
        """The web app's CSP and security headers. The API, the uploads bucket, the media
        distribution and Cognito all name the web origin (CORS, callbacks), so naming them
        here would be a dependency cycle: each is allowed by its AWS host pattern in this
        region instead. local/webapp.py serves the same directives offline."""
        region = Aws.REGION
        connect = [
            "'self'",
            f"https://*.execute-api.{region}.amazonaws.com",  # the HTTP API
            f"https://*.s3.{region}.amazonaws.com",  # presigned upload URLs
            "https://*.s3.amazonaws.com",
            f"https://*.auth.{region}.amazoncognito.com",  # the Hosted UI's token endpoint
            "https://*.cloudfront.net",  # media: playlists and segments
        ]
        directives = {
            "default-src": "'none'",
            "script-src": "'self'",
            "style-src": "'self'",
            "img-src": "'self' data: blob: https://*.cloudfront.net",
            # data: for hls.js's caption <track> elements (src "data:,WEBVTT"; the cues it
            # adds itself from the signed WebVTT)
            "media-src": "blob: data: https://*.cloudfront.net",
            "worker-src": "blob:",  # hls.js's transmuxing worker
            "connect-src": " ".join(connect),
            "font-src": "'self'",
            "manifest-src": "'self'",
            "base-uri": "'none'",
            "form-action": "'self'",
            "frame-ancestors": "'none'",
        }
        policy = "; ".join(f"{name} {value}" for name, value in directives.items())
        return cloudfront.ResponseHeadersPolicy(
            self,
            "WebHeaders",
            response_headers_policy_name=regional_name(self, "web-headers"),
            comment="StreamForge web app: CSP and security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=policy, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365),
                    include_subdomains=True,
                    override=True,
                ),
            ),
        )

    def _placeholder_key(self) -> str:
        Annotations.of(self).add_warning_v2(
            "streamforge:cdnPublicKeyPem",
            "No cdnPublicKeyFile in the context: the media CDN trusts a placeholder key "
            "nobody holds, so no video will play. Deploy with "
            "-c cdnPublicKeyFile=path/to/cdn_public.pem (see docs/deploy.md).",
        )
        return PLACEHOLDER_PUBLIC_KEY.read_text()


def regional_name(scope: Construct, suffix: str) -> str:
    """CloudFront names are global to the account: the stack's region keeps a second
    region's deployment from colliding with the first."""
    return f"{Stack.of(scope).stack_name}-{Aws.REGION}-{suffix}"
