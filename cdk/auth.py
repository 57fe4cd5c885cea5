"""Cognito: the user pool, the web app's client (authorization code + PKCE) and the hosted UI."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from cdk.nag import acknowledge
from cdk.settings import Settings


class Auth(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: Settings,
        app_urls: Sequence[str],
    ) -> None:
        """`app_urls`: where the web app runs (its CloudFront URL first), for the redirects."""
        super().__init__(scope, id)

        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=settings.self_sign_up,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            removal_policy=RemovalPolicy.RETAIN,  # the users are data
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG2",
            "MFA is optional (TOTP): accounts are created by an administrator, and a "
            "deployment can require MFA by changing one setting.",
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG8",
            "Threat protection needs the Plus feature plan, billed per monthly active "
            "user; sign-up is off by default and accounts are admin-created.",
        )

        callback_urls = [f"{url}/" for url in app_urls]
        self.client = self.user_pool.add_client(
            "WebClient",
            generate_secret=False,  # a browser app cannot keep a secret: PKCE instead
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
                callback_urls=callback_urls,
                logout_urls=callback_urls,
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )

        prefix = settings.auth_domain_prefix or (
            f"streamforge-{settings.environment_name}-{Aws.ACCOUNT_ID}"
        )
        self.domain = self.user_pool.add_domain(
            "HostedUi", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix)
        )
        self.hosted_ui_url = self.domain.base_url()

        # JWT authorizer: issuer = this pool, audience = the web client.
        self.authorizer = authorizers.HttpUserPoolAuthorizer(
            "CognitoAuthorizer",
            self.user_pool,
            user_pool_clients=[self.client],
            identity_source=["$request.header.Authorization"],
        )
