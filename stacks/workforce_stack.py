"""The stateful side of Ground Truth: the private workforce (or the account's existing
one) and its work teams with their notification topics. Everything here is retained
when the stack is deleted."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_kms as kms
from constructs import Construct

from sagemaker_constructs.common import stable_logical_id
from sagemaker_constructs.foundation import NetworkPlacement
from sagemaker_constructs.labeling.work_team import NotificationKey, WorkTeam
from sagemaker_constructs.labeling.workforce import (
    CognitoWorkforce,
    ExistingWorkforce,
    OidcWorkforce,
    Workforce,
)

from .settings import PlatformSettings
from .settings.labeling import CognitoWorkforce as CognitoSettings
from .settings.labeling import OidcWorkforce as OidcSettings

# Logical IDs of the stateful resources. Never change one: CloudFormation would replace
# the resource (a new user pool loses every worker's sign-in; a new workforce gets a new
# portal address).
LOGICAL_IDS = {
    "user_pool": "WorkerUserPool",
    "user_pool_domain": "WorkerUserPoolDomain",
    "client": "LabelingPortalClient",
    "workforce": "PrivateWorkforce",
    "notification_key": "WorkTeamNotificationKey",
}


def team_logical_ids(team: str) -> dict[str, str]:
    """Logical IDs of one team's stateful resources."""
    name = "".join(part.capitalize() for part in team.split("-"))
    return {
        "group": f"WorkerGroup{name}",
        "workteam": f"WorkTeam{name}",
        "topic": f"WorkTeamTopic{name}",
    }


class WorkforceStack(Stack):
    """The private workforce and its work teams (stateful)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: PlatformSettings,
        encryption_key: kms.IKey,
        network: NetworkPlacement | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        labeling = settings.labeling
        assert labeling is not None
        config = labeling.workforce
        assert config is not None
        name = getattr(config, "name", None) or settings.name_prefix
        placement = network if getattr(config, "vpc_access", False) else None

        self.workforce: Workforce
        """The private workforce."""
        if isinstance(config, CognitoSettings):
            created = CognitoWorkforce(
                self,
                "Workforce",
                workforce_name=name,
                domain_prefix=config.domain_prefix,
                teams=[t.name for t in labeling.teams],
                workers={t.name: list(t.workers) for t in labeling.teams if t.workers},
                encryption_key=encryption_key,
                mfa=getattr(cognito.Mfa, config.mfa.upper()),
                feature_plan=getattr(cognito.FeaturePlan, config.feature_plan.upper()),
                source_ip_cidrs=list(config.source_ip_cidrs),
                network=placement,
            )
            stable_logical_id(created.user_pool, LOGICAL_IDS["user_pool"])
            stable_logical_id(created.domain, LOGICAL_IDS["user_pool_domain"])
            stable_logical_id(created.client, LOGICAL_IDS["client"])
            stable_logical_id(created.workforce, LOGICAL_IDS["workforce"])
            for team_name, group in created.groups.items():
                stable_logical_id(group, team_logical_ids(team_name)["group"])
            CfnOutput(
                self,
                "UserPoolId",
                value=created.user_pool.user_pool_id,
                description="Cognito user pool of the workers",
            )
            self.workforce = created
        elif isinstance(config, OidcSettings):
            oidc = OidcWorkforce(
                self,
                "Workforce",
                workforce_name=name,
                issuer=config.issuer,
                authorization_endpoint=config.authorization_endpoint,
                token_endpoint=config.token_endpoint,
                user_info_endpoint=config.user_info_endpoint,
                logout_endpoint=config.logout_endpoint,
                jwks_uri=config.jwks_uri,
                client_id=config.client_id,
                client_secret_arn=config.client_secret_arn,
                client_secret_key=config.client_secret_key,
                scope_=config.scope,
                source_ip_cidrs=list(config.source_ip_cidrs),
                network=placement,
            )
            stable_logical_id(oidc.workforce, LOGICAL_IDS["workforce"])
            self.workforce = oidc
        else:
            self.workforce = ExistingWorkforce(
                workforce_name=config.name,
                user_pool_id=config.user_pool_id,
                client_id=config.client_id,
                portal_url=config.portal_url,
            )

        self.teams: dict[str, WorkTeam] = {}
        """Work teams by team name."""
        if labeling.teams:
            key = NotificationKey(
                self, "NotificationKey", alias=f"alias/{settings.name_prefix}/work-teams"
            )
            stable_logical_id(key.key, LOGICAL_IDS["notification_key"])
        for team in labeling.teams:
            made = WorkTeam(
                self,
                f"Team-{team.name}",
                workteam_name=f"{settings.name_prefix}-{team.name}",
                workforce=self.workforce,
                team=team.name,
                notification_key=key.key,
                description=team.description,
                groups=list(team.groups),
                worker_emails=list(team.workers),
            )
            ids = team_logical_ids(team.name)
            stable_logical_id(made.workteam, ids["workteam"])
            stable_logical_id(made.topic, ids["topic"])
            self.teams[team.name] = made

        self._outputs(name)

    def _outputs(self, workforce_name: str) -> None:
        CfnOutput(
            self, "WorkforceName", value=workforce_name, description="Name of the private workforce"
        )
        if self.workforce.portal_url:
            CfnOutput(
                self,
                "LabelingPortalUrl",
                value=self.workforce.portal_url,
                description="Where workers sign in to label",
            )
        for team, made in self.teams.items():
            ids = team_logical_ids(team)
            CfnOutput(
                self,
                f"{ids['workteam']}Arn",
                value=made.workteam_arn,
                description=f"ARN of the {team} work team",
            )
            if made.portal_url:
                CfnOutput(
                    self,
                    f"{ids['workteam']}PortalUrl",
                    value=made.portal_url,
                    description=f"Labeling portal of the {team} work team",
                )
