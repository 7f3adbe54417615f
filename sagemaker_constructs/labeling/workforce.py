"""The private workforce of Ground Truth: Cognito-backed (the kit creates the user pool),
OIDC-backed (your identity provider), or an existing one (there is only one private
workforce per account and region; creating a second fails on deploy).

Each kind answers `member_definition(team)`: who belongs to a work team.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from aws_cdk import CfnResource, CustomResource, Duration, Fn, RemovalPolicy, SecretValue, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ..common import Problems, PythonFunction, acknowledge
from ..foundation import NetworkPlacement

RUNTIME = Path(__file__).parent / "runtime"

MemberDefinition = sagemaker.CfnWorkteam.MemberDefinitionProperty


class Workforce(Protocol):
    """A private workforce work teams can be made of (CognitoWorkforce, OidcWorkforce,
    ExistingWorkforce)."""

    @property
    def workforce_name(self) -> str:
        """Name of the workforce (work teams name it)."""
        ...

    @property
    def portal_url(self) -> str | None:
        """`https://<subdomain>` of the labeling portal, where known."""
        ...

    @property
    def resource(self) -> CfnResource | None:
        """The workforce resource, where this config creates it (work teams depend on it)."""
        ...

    def member_definition(self, team: str, groups: Sequence[str] = ()) -> MemberDefinition:
        """Who belongs to work team `team` (`groups`: its identity-provider groups)."""
        ...


def client_config(client_name: str) -> dict[str, Any]:
    """The app client's settings, in UpdateUserPoolClient's terms (the template uses the
    same names). Both the client and the URL custom resource are built from this one
    dict, so the custom resource always sends the whole configuration."""
    return {
        "ClientName": client_name,
        "ExplicitAuthFlows": [
            "ALLOW_CUSTOM_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
            "ALLOW_USER_SRP_AUTH",
        ],
        "SupportedIdentityProviders": ["COGNITO"],
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthScopes": ["email", "openid", "profile"],
        "AllowedOAuthFlowsUserPoolClient": True,
        "PreventUserExistenceErrors": "ENABLED",
        "EnableTokenRevocation": True,
        "AccessTokenValidity": 60,
        "IdTokenValidity": 60,
        "RefreshTokenValidity": 12,
        "TokenValidityUnits": {
            "AccessToken": "minutes",
            "IdToken": "minutes",
            "RefreshToken": "hours",
        },
        "AuthSessionValidity": 3,
    }


def _vpc_config(
    network: NetworkPlacement | None,
) -> sagemaker.CfnWorkforce.WorkforceVpcConfigRequestProperty | None:
    if network is None:
        return None
    return sagemaker.CfnWorkforce.WorkforceVpcConfigRequestProperty(
        vpc_id=network.vpc_id,
        subnets=list(network.subnet_ids),
        security_group_ids=list(network.security_group_ids),
    )


def _check_common(
    problems: Problems, workforce_name: str, source_ip_cidrs: Sequence[str], network: Any
) -> None:
    problems.check(
        1 <= len(workforce_name) <= 63
        and workforce_name[:1].isalnum()
        and all(c.isalnum() or c == "-" for c in workforce_name),
        f"workforce_name must be 1-63 letters, digits and hyphens (got {workforce_name!r})",
    )
    problems.check(
        len(source_ip_cidrs) <= 10,
        f"source_ip_cidrs takes at most 10 ranges (got {len(source_ip_cidrs)})",
    )
    if network is not None:
        problems.check(
            1 <= len(network.security_group_ids) <= 5 and 1 <= len(network.subnet_ids) <= 16,
            "network must have 1-16 subnets and 1-5 security groups",
        )


class CognitoWorkforce(Construct):
    """A private workforce backed by a Cognito user pool this construct creates.

    - User pool: no self sign-up, e-mail as user name (verified), a strong password
      policy, MFA by authenticator app as chosen, e-mail-only account recovery,
      deletion protection, and an invitation e-mail that names the labeling portal
      (a custom-message trigger looks the portal up, since it exists only after the
      pool).
    - Sign-in domain (`https://<domain_prefix>.auth.<region>.amazoncognito.com`), an app
      client with a secret and the OAuth code flow (openid, email, profile), and one
      group per team.
    - `AWS::SageMaker::Workforce` on that pool, optionally limited to source CIDRs and
      placed in a VPC.
    - After the workforce exists, a custom resource points the client's callback and
      sign-out URLs at the portal (see runtime/workforce/client_urls.py).
    - Workers given by e-mail are invited (temporary password by e-mail) into their
      teams' groups. Removing one from `workers` deletes that sign-in.

    Stateful parts (pool, domain, client, groups, workforce) are retained when removed
    from the stack, unless `removal_policy` says otherwise.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        workforce_name: str,
        domain_prefix: str,
        teams: Sequence[str],
        encryption_key: kms.IKey,
        workers: Mapping[str, Sequence[str]] | None = None,
        mfa: cognito.Mfa = cognito.Mfa.REQUIRED,
        feature_plan: cognito.FeaturePlan = cognito.FeaturePlan.PLUS,
        source_ip_cidrs: Sequence[str] = (),
        network: NetworkPlacement | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        log_retention_days: int = 365,
    ) -> None:
        """
        :param workforce_name: Name of the workforce. 1-63 letters, digits and hyphens.
        :param domain_prefix: Prefix of the Cognito sign-in domain. 1-63 lower-case letters,
            digits and hyphens; unique in the region; no `aws`, `amazon` or `cognito`.
        :param teams: Team names; each gets a user pool group. At least one (a Cognito
            workforce needs a group).
        :param encryption_key: Key of the helper functions' logs and environment.
        :param workers: Team name -> e-mail addresses to invite into it. Default: none.
        :param mfa: Default: REQUIRED (authenticator app; no SMS). OFF or OPTIONAL allowed.
        :param feature_plan: Default: PLUS, with threat protection enforced (billed per
            monthly active user). ESSENTIALS allowed.
        :param source_ip_cidrs: Ranges workers may connect from. Default: any. At most 10.
        :param network: Put the workforce in this VPC (workers then reach the portal only
            from it). Default: none.
        :param removal_policy: Of the pool, domain, client, groups and workforce.
            Default: RETAIN.
        :param log_retention_days: Of the helper functions' logs. Default: 365.
        """
        super().__init__(scope, id_)
        workers = dict(workers or {})
        problems = Problems("CognitoWorkforce")
        _check_common(problems, workforce_name, source_ip_cidrs, network)
        problems.check(
            1 <= len(domain_prefix) <= 63
            and all(c.islower() or c.isdigit() or c == "-" for c in domain_prefix)
            and not domain_prefix.startswith("-")
            and not domain_prefix.endswith("-")
            and not any(w in domain_prefix for w in ("aws", "amazon", "cognito")),
            "domain_prefix must be 1-63 lower-case letters, digits and hyphens without "
            f"'aws', 'amazon' or 'cognito' (got {domain_prefix!r})",
        )
        problems.check(bool(teams), "teams needs at least one team (got none)")
        problems.check(len(set(teams)) == len(teams), f"teams must be unique (got {list(teams)})")
        unknown = sorted(set(workers) - set(teams))
        problems.check(not unknown, f"workers name teams that do not exist: {unknown}")
        problems.raise_if_any()

        stack = Stack.of(self)
        self.workforce_name = workforce_name
        workforce_arn = stack.format_arn(
            service="sagemaker", resource="workforce", resource_name=workforce_name
        )
        self.invite_message = PythonFunction(
            self,
            "InviteMessage",
            code_dir=RUNTIME,
            handler="workforce.invite_message.handler",
            description="Names the labeling portal in the invitation e-mail of new workers",
            encryption_key=encryption_key,
            timeout=Duration.seconds(5),
            environment={"WORKFORCE_NAME": workforce_name},
            log_retention_days=log_retention_days,
        )
        """Cognito custom-message trigger of the invitation e-mail."""
        self.invite_message.role.add_to_policy(
            iam.PolicyStatement(actions=["sagemaker:DescribeWorkforce"], resources=[workforce_arn])
        )

        plus = feature_plan == cognito.FeaturePlan.PLUS
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
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
                temp_password_validity=Duration.days(7),
            ),
            mfa=mfa,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=feature_plan,
            standard_threat_protection_mode=(
                cognito.StandardThreatProtectionMode.FULL_FUNCTION if plus else None
            ),
            deletion_protection=removal_policy == RemovalPolicy.RETAIN,
            removal_policy=removal_policy,
            lambda_triggers=cognito.UserPoolTriggers(custom_message=self.invite_message.function),
        )
        """The workers' user pool."""
        if mfa != cognito.Mfa.REQUIRED:
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG2",
                f"MFA of workers is {mfa.name.lower()} by configuration "
                "(labeling.workforce.mfa); the workforce can also be limited to source IP "
                "ranges and a VPC.",
            )
        if not plus:
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG8",
                "The Essentials feature plan is chosen in configuration "
                "(labeling.workforce.feature_plan); threat protection is off by that choice.",
            )

        self.domain = self.user_pool.add_domain(
            "Domain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=domain_prefix)
        )
        """The Cognito sign-in domain workers are sent to."""
        self.domain.apply_removal_policy(removal_policy)
        sign_in_url = f"https://{domain_prefix}.auth.{stack.region}.amazoncognito.com"

        self.client_settings = client_config(f"{workforce_name}-labeling-portal")
        """The app client's settings (UpdateUserPoolClient's names)."""
        self.client = cognito.CfnUserPoolClient(
            self, "Client", user_pool_id=self.user_pool.user_pool_id, generate_secret=True
        )
        """The app client of the labeling portal."""
        for name, value in self.client_settings.items():
            self.client.add_property_override(name, value)
        # Replaced by the portal's URLs as soon as the workforce exists (ClientUrls).
        self.client.add_property_override("CallbackURLs", [sign_in_url])
        self.client.add_property_override("LogoutURLs", [sign_in_url])
        self.client.apply_removal_policy(removal_policy)

        self.groups: dict[str, cognito.CfnUserPoolGroup] = {}
        """One user pool group per team, by team name."""
        for team in teams:
            group = cognito.CfnUserPoolGroup(
                self,
                f"Group-{team}",
                user_pool_id=self.user_pool.user_pool_id,
                group_name=team,
                description=f"Workers of the {team} work team",
            )
            group.apply_removal_policy(removal_policy)
            self.groups[team] = group

        self.workforce = sagemaker.CfnWorkforce(
            self,
            "Workforce",
            workforce_name=workforce_name,
            cognito_config=sagemaker.CfnWorkforce.CognitoConfigProperty(
                client_id=self.client.ref, user_pool=self.user_pool.user_pool_id
            ),
            source_ip_config=(
                sagemaker.CfnWorkforce.SourceIpConfigProperty(cidrs=list(source_ip_cidrs))
                if source_ip_cidrs
                else None
            ),
            workforce_vpc_config=_vpc_config(network),
        )
        """The private workforce."""
        self.workforce.apply_removal_policy(removal_policy)
        # A Cognito workforce needs at least one group in the pool.
        for group in self.groups.values():
            self.workforce.node.add_dependency(group)
        self.resource = self.workforce
        self.portal_url = Fn.join("", ["https://", self.workforce.attr_sub_domain])

        self.client_urls_function = PythonFunction(
            self,
            "ClientUrlsFunction",
            code_dir=RUNTIME,
            handler="workforce.client_urls.handler",
            description="Points the workforce's Cognito app client at the labeling portal",
            encryption_key=encryption_key,
            timeout=Duration.minutes(2),
            log_retention_days=log_retention_days,
        )
        """The custom resource's function."""
        self.client_urls_function.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cognito-idp:UpdateUserPoolClient"],
                resources=[self.user_pool.user_pool_arn],
            )
        )
        self.client_urls = CustomResource(
            self,
            "ClientUrls",
            service_token=self.client_urls_function.function.function_arn,
            resource_type="Custom::WorkforceClientUrls",
            properties={
                "UserPoolId": self.user_pool.user_pool_id,
                "ClientId": self.client.ref,
                "SubDomain": self.workforce.attr_sub_domain,
                "ClientConfig": json.dumps(self.client_settings, sort_keys=True),
            },
        )
        """Sets the client's callback and sign-out URLs from the workforce's subdomain."""

        self.workers: dict[str, cognito.CfnUserPoolUser] = {}
        """Invited workers by e-mail address."""
        for team, emails in workers.items():
            for email in emails:
                user = self.workers.get(email.lower())
                if user is None:
                    user = cognito.CfnUserPoolUser(
                        self,
                        f"Worker{_digest(email.lower())}",
                        user_pool_id=self.user_pool.user_pool_id,
                        username=email.lower(),
                        user_attributes=[
                            cognito.CfnUserPoolUser.AttributeTypeProperty(
                                name="email", value=email.lower()
                            ),
                            cognito.CfnUserPoolUser.AttributeTypeProperty(
                                name="email_verified", value="true"
                            ),
                        ],
                        desired_delivery_mediums=["EMAIL"],
                    )
                    # The invitation names the portal, which exists once the workforce does.
                    user.node.add_dependency(self.workforce)
                    self.workers[email.lower()] = user
                membership = cognito.CfnUserPoolUserToGroupAttachment(
                    self,
                    f"Member{_digest(team, email.lower())}",
                    user_pool_id=self.user_pool.user_pool_id,
                    group_name=self.groups[team].ref,
                    username=email.lower(),
                )
                membership.node.add_dependency(user)

    def member_definition(self, team: str, groups: Sequence[str] = ()) -> MemberDefinition:
        """The team's user pool group."""
        if team not in self.groups:
            raise ValueError(f"no team {team!r} in this workforce (teams: {sorted(self.groups)})")
        return MemberDefinition(
            cognito_member_definition=sagemaker.CfnWorkteam.CognitoMemberDefinitionProperty(
                cognito_client_id=self.client.ref,
                cognito_user_group=self.groups[team].ref,
                cognito_user_pool=self.user_pool.user_pool_id,
            )
        )


class OidcWorkforce(Construct):
    """A private workforce whose workers sign in with your OpenID Connect identity
    provider. Configure the provider's redirect URI as `<portal_url>/oauth2/idpresponse`
    after the first deploy. Teams are provider groups (the `sagemaker:groups` claim)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        workforce_name: str,
        issuer: str,
        authorization_endpoint: str,
        token_endpoint: str,
        user_info_endpoint: str,
        logout_endpoint: str,
        jwks_uri: str,
        client_id: str,
        client_secret_arn: str,
        client_secret_key: str | None = None,
        scope_: str | None = None,
        source_ip_cidrs: Sequence[str] = (),
        network: NetworkPlacement | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param workforce_name: Name of the workforce. 1-63 letters, digits and hyphens.
        :param issuer: The provider's issuer (https).
        :param authorization_endpoint: https URL.
        :param token_endpoint: https URL.
        :param user_info_endpoint: https URL.
        :param logout_endpoint: https URL.
        :param jwks_uri: https URL.
        :param client_id: The workforce's client id at the provider.
        :param client_secret_arn: Secrets Manager secret holding the client secret; resolved
            at deploy time, never written into the template.
        :param client_secret_key: JSON key inside the secret. Default: the whole string.
        :param scope_: OAuth scopes, space-separated. Default: the provider's.
        :param source_ip_cidrs: Ranges workers may connect from. Default: any. At most 10.
        :param network: Put the workforce in this VPC. Default: none.
        :param removal_policy: Default: RETAIN.
        """
        super().__init__(scope, id_)
        problems = Problems("OidcWorkforce")
        _check_common(problems, workforce_name, source_ip_cidrs, network)
        for name, url in (
            ("issuer", issuer),
            ("authorization_endpoint", authorization_endpoint),
            ("token_endpoint", token_endpoint),
            ("user_info_endpoint", user_info_endpoint),
            ("logout_endpoint", logout_endpoint),
            ("jwks_uri", jwks_uri),
        ):
            problems.check(url.startswith("https://"), f"{name} must be an https URL (got {url!r})")
        problems.check(
            bool(re.fullmatch(r"[\w+]{1,1024}", client_id)),
            "client_id must be 1-1024 letters, digits, underscores and plus signs "
            f"(CloudFormation's rule; got {client_id!r})",
        )
        problems.check(
            client_secret_arn.startswith("arn:") and ":secretsmanager:" in client_secret_arn,
            f"client_secret_arn must be a Secrets Manager ARN (got {client_secret_arn!r})",
        )
        problems.raise_if_any()
        self.workforce_name = workforce_name
        secret = SecretValue.secrets_manager(client_secret_arn, json_field=client_secret_key)
        self.workforce = sagemaker.CfnWorkforce(
            self,
            "Workforce",
            workforce_name=workforce_name,
            oidc_config=sagemaker.CfnWorkforce.OidcConfigProperty(
                issuer=issuer,
                authorization_endpoint=authorization_endpoint,
                token_endpoint=token_endpoint,
                user_info_endpoint=user_info_endpoint,
                logout_endpoint=logout_endpoint,
                jwks_uri=jwks_uri,
                client_id=client_id,
                # A dynamic reference: CloudFormation reads the secret at deploy time.
                client_secret=secret.unsafe_unwrap(),
                scope=scope_,
            ),
            source_ip_config=(
                sagemaker.CfnWorkforce.SourceIpConfigProperty(cidrs=list(source_ip_cidrs))
                if source_ip_cidrs
                else None
            ),
            workforce_vpc_config=_vpc_config(network),
        )
        """The private workforce."""
        self.workforce.apply_removal_policy(removal_policy)
        self.resource = self.workforce
        self.portal_url = Fn.join("", ["https://", self.workforce.attr_sub_domain])

    def member_definition(self, team: str, groups: Sequence[str] = ()) -> MemberDefinition:
        """The provider groups of the team (default: a group named like the team)."""
        return MemberDefinition(
            oidc_member_definition=sagemaker.CfnWorkteam.OidcMemberDefinitionProperty(
                oidc_groups=list(groups) or [team]
            )
        )


class ExistingWorkforce:
    """The account's private workforce in this region, made elsewhere (nothing is created).

    Cognito-backed: give `user_pool_id` and `client_id`; a team is one of the pool's
    groups. OIDC-backed: leave them out; a team is provider groups.
    """

    def __init__(
        self,
        *,
        workforce_name: str = "default",
        user_pool_id: str | None = None,
        client_id: str | None = None,
        portal_url: str | None = None,
    ) -> None:
        """
        :param workforce_name: Default: `default` (what the SageMaker console names it).
        :param user_pool_id: Cognito user pool of the workforce. Default: OIDC workforce.
        :param client_id: Its app client (with user_pool_id).
        :param portal_url: The labeling portal, for outputs. Default: unknown.
        """
        problems = Problems("ExistingWorkforce")
        _check_common(problems, workforce_name, (), None)
        problems.check(
            (user_pool_id is None) == (client_id is None),
            "user_pool_id and client_id go together (both for Cognito, neither for OIDC)",
        )
        problems.raise_if_any()
        self.workforce_name = workforce_name
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        self.portal_url = portal_url
        self.resource = None

    def member_definition(self, team: str, groups: Sequence[str] = ()) -> MemberDefinition:
        """A Cognito group (default: named like the team) or provider groups."""
        if self.user_pool_id is not None and self.client_id is not None:
            if len(groups) > 1:
                raise ValueError(f"team {team!r}: a Cognito work team is one group (got {groups})")
            return MemberDefinition(
                cognito_member_definition=sagemaker.CfnWorkteam.CognitoMemberDefinitionProperty(
                    cognito_client_id=self.client_id,
                    cognito_user_group=groups[0] if groups else team,
                    cognito_user_pool=self.user_pool_id,
                )
            )
        return MemberDefinition(
            oidc_member_definition=sagemaker.CfnWorkteam.OidcMemberDefinitionProperty(
                oidc_groups=list(groups) or [team]
            )
        )


def _digest(*parts: str) -> str:
    """A short, stable suffix for construct IDs made from e-mail addresses."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:10]
