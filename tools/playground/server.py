"""The moto server of the playground, in this process (so that moto_gaps.py can reach its
backends), and the stacks of a config created in it."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import boto3
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from stacks.settings import PlatformSettings
from tools.assembly import Assembly
from tools.rehearsal import Rehearsal, create_stacks

from . import samples
from .endpoints import EndpointAnswers
from .moto_gaps import fill_in_skipped, honour_names, make_executable
from .replies import endpoint_replies
from .report import Report

HOST = "127.0.0.1"


class Playground:
    """A moto server on 127.0.0.1 that serves each request in a thread."""

    def __init__(self, server: BaseWSGIServer, endpoints: EndpointAnswers) -> None:
        self._server = server
        self._endpoints = endpoints
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    @classmethod
    def start(cls, port: int, account: str) -> Playground:
        """Listen on `port` (0: a free one), as moto's `account`. Raises OSError when the
        port is taken."""
        endpoints = EndpointAnswers(
            DomainDispatcherApplication(create_backend_app), account=account
        )
        server = make_server(
            HOST, port, endpoints, threaded=True, request_handler=MotoRequestHandler
        )
        playground = cls(server, endpoints)
        # Every AWS call of this process goes to the server.
        os.environ["AWS_ENDPOINT_URL"] = playground.url
        # moto's Step Functions interpreter calls the services of a server on MOTO_PORT.
        os.environ["MOTO_PORT"] = str(server.server_port)
        return playground

    @property
    def url(self) -> str:
        """The server's endpoint URL."""
        return f"http://{HOST}:{self._server.server_port}"

    def deploy(
        self,
        assembly: Assembly,
        settings: PlatformSettings,
        region: str,
        workdir: Path,
    ) -> Report:
        """Create the stacks, fill in moto's gaps, put the sample inputs in place."""
        report = Report(rehearsal=Rehearsal(label=settings.name_prefix))
        honour_names()
        created = create_stacks(assembly, report.rehearsal)
        if not report.ok:
            return report
        session = boto3.Session(region_name=region)
        skipped = {s.stack: s.skipped for s in report.rehearsal.stacks}
        fill_in_skipped(created, skipped, report.gaps)
        make_executable(session, report.gaps)
        sagemaker = session.client("sagemaker")
        deployed = {e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]}
        for name, reply in endpoint_replies(settings).items():
            if name in deployed:
                self._endpoints.replies[name] = reply
                report.gaps.endpoints.append(name)
        for _, stack_id, stack_session in created:
            described = stack_session.client("cloudformation").describe_stacks(StackName=stack_id)[
                "Stacks"
            ][0]
            for output in described.get("Outputs", []):
                key, value = output["OutputKey"], output["OutputValue"]
                if ":stateMachine:" in value:
                    report.workflows[value.rsplit(":", 1)[1]] = key.removesuffix("Arn")
                if key == "DataBucketName" and described["StackName"].endswith("-Foundation"):
                    report.manifest_key = samples.upload_manifest(session, value)
        report.series = samples.write_series(workdir)
        return report

    def stop(self) -> None:
        """Stop serving and wait for the server's thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
