"""The HTTP API's routes and authorizer, Cognito, and the web app's config.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

from cdk.nag import logical_id
from cdk.settings import Settings
from cdk.web import WebApp
from local import gateway
from tests.infrastructure.conftest import Synthesized


def _routes(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        route["Properties"]["RouteKey"]: route["Properties"]
        for route in synthesized.of_type("AWS::ApiGatewayV2::Route").values()
    }


def test_owner_routes_need_a_jwt_and_public_routes_do_not(synthesized: Synthesized) -> None:
    routes = _routes(synthesized)
    owner = {
        f"{method} {path}"
        for path in ("/videos", "/videos/{proxy+}")
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
    }
    public = {"GET /catalog", "GET /catalog/{proxy+}", "GET /openapi.json"}
    assert set(routes) == owner | public
    for key in owner:
        assert routes[key]["AuthorizationType"] == "JWT", key
    for key in public:
        assert routes[key].get("AuthorizationType", "NONE") == "NONE", key
    # No OPTIONS or ANY route: API Gateway answers CORS preflights itself.
    assert not [key for key in routes if key.startswith(("OPTIONS", "ANY"))]


def test_the_offline_gateway_routes_exactly_what_the_http_api_routes(
    synthesized: Synthesized,
) -> None:
    routes = _routes(synthesized)
    emulated = {route.key: route for route in gateway.ROUTES}
    assert set(emulated) == set(routes)
    for key, route in emulated.items():
        assert route.needs_token == (routes[key].get("AuthorizationType") == "JWT"), key


def test_the_authorizer_trusts_the_user_pool_for_the_web_client(
    synthesized: Synthesized,
) -> None:
    auth = synthesized.stack.auth
    _, authorizer = synthesized.one("AWS::ApiGatewayV2::Authorizer")
    jwt = authorizer["Properties"]["JwtConfiguration"]
    assert jwt["Audience"] == [{"Ref": logical_id(auth.client)}]
    assert {"Ref": logical_id(auth.user_pool)} in jwt["Issuer"]["Fn::Join"][1]


def test_the_stage_is_throttled_logged_and_cors_is_the_web_origin(
    synthesized: Synthesized,
) -> None:
    _, stage = synthesized.one("AWS::ApiGatewayV2::Stage")
    props = stage["Properties"]
    assert props["StageName"] == "$default"
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    assert "$context.requestId" in props["AccessLogSettings"]["Format"]
    _, api = synthesized.one("AWS::ApiGatewayV2::Api")
    cors = api["Properties"]["CorsConfiguration"]
    assert "*" not in json.dumps(cors["AllowOrigins"])
    assert "Authorization" in cors["AllowHeaders"]


def test_the_user_pool_and_its_client(synthesized: Synthesized) -> None:
    synthesized.template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
            "UsernameAttributes": ["email"],
            "Policies": {"PasswordPolicy": Match.object_like({"MinimumLength": 12})},
        },
    )
    synthesized.template.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {
            "GenerateSecret": False,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthFlowsUserPoolClient": True,
        },
    )
    synthesized.template.resource_count_is("AWS::Cognito::UserPoolDomain", 1)


def _unquote(value: Any) -> Any:
    """json_data wraps each token as `"` + token + `"`; strip that back to the token."""
    parts = list(value["Fn::Join"][1])
    parts[0] = parts[0][1:]
    parts[-1] = parts[-1][:-1]
    parts = [part for part in parts if part != ""]
    return parts[0] if len(parts) == 1 else {"Fn::Join": ["", parts]}


def test_the_web_config_points_at_the_stack_outputs(synthesized: Synthesized) -> None:
    # Given the web app's deployment and the config.json it carries
    _, deployment = synthesized.one("Custom::CDKBucketDeployment")
    props = deployment["Properties"]
    configs = [
        (key, markers)
        for key, markers in zip(props["SourceObjectKeys"], props["SourceMarkers"], strict=True)
        if (synthesized.outdir / f"asset.{key.removesuffix('.zip')}" / "config.json").exists()
    ]
    assert len(configs) == 1
    key, markers = configs[0]
    text = (synthesized.outdir / f"asset.{key.removesuffix('.zip')}" / "config.json").read_text()
    # When the deploy-time markers are replaced by what CloudFormation resolves
    for marker, value in markers.items():
        text = text.replace(marker, json.dumps(_unquote(value)))
    config = json.loads(text)
    # Then every entry is the very value the stack outputs
    outputs = {
        name: output["Value"] for name, output in synthesized.template_json["Outputs"].items()
    }
    assert config == {
        "apiUrl": outputs["ApiUrl"],
        "region": {"Ref": "AWS::Region"},
        "userPoolId": outputs["UserPoolId"],
        "userPoolClientId": outputs["UserPoolClientId"],
        "authUrl": outputs["HostedUiUrl"],
        # the browser checks sizes against the API's own limit
        "maxUploadBytes": 50 * 1024**3,  # the default limit
    }
    assert outputs["ApiUrl"] == {
        "Fn::GetAtt": [logical_id(synthesized.stack.api.http_api), "ApiEndpoint"]
    }


def test_outputs(synthesized: Synthesized) -> None:
    assert {
        "ApiUrl",
        "WebUrl",
        "MediaCdnDomain",
        "UserPoolId",
        "UserPoolClientId",
        "StateMachineArn",
        "DeadLetterQueueUrl",
    } <= set(synthesized.template_json["Outputs"])


def test_without_a_web_build_nothing_is_deployed_and_synth_warns(tmp_path: Path) -> None:
    # Given a stack with a web bucket and distribution but no built app
    stack = cdk.Stack(cdk.App(), "WebOnly")
    bucket = s3.Bucket(stack, "Web")
    distribution = cloudfront.Distribution(
        stack,
        "Cdn",
        default_behavior=cloudfront.BehaviorOptions(
            origin=origins.S3BucketOrigin.with_origin_access_control(bucket)
        ),
    )
    # When the web app is added from an empty dist folder
    WebApp(
        stack,
        "WebApp",
        settings=Settings(),
        dist_dir=tmp_path,
        bucket=bucket,
        distribution=distribution,
        config={"apiUrl": "https://example.invalid"},
    )
    # Then no deployment is synthesized, and a warning says why
    Template.from_stack(stack).resource_count_is("Custom::CDKBucketDeployment", 0)
    Annotations.from_stack(stack).has_warning(
        "/WebOnly/WebApp", Match.string_like_regexp("no index.html")
    )


def test_the_web_app_gets_a_csp_and_the_security_headers(synthesized: Synthesized) -> None:
    policies = synthesized.of_type("AWS::CloudFront::ResponseHeadersPolicy").values()
    configs = [p["Properties"]["ResponseHeadersPolicyConfig"] for p in policies]
    web = [c for c in configs if "web app" in c.get("Comment", "")]
    assert len(web) == 1
    headers = web[0]["SecurityHeadersConfig"]
    csp = json.dumps(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'",
                      "worker-src blob:", "media-src blob: data:",  # data: caption <track>s
                      "frame-ancestors 'none'"):  # fmt: skip
        assert directive in csp, directive
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
