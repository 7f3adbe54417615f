"""The moto server of the playground, in this process (so that moto_gaps.py can reach its
backends), and the stacks of a config created in it."""

from __future__ import annotations

import os
import socket
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
from .environment import HOST
from .history import SyncHistory
from .lambdas import find_functions, run_in_process
from .moto_gaps import deploy_bucket_files, fill_in_skipped, honour_names, make_executable
from .replies import endpoint_replies
from .report import Report


class Playground:
    """A moto server on 127.0.0.1 that serves each request in a thread."""

    def __init__(self, server: BaseWSGIServer, endpoints: EndpointAnswers) -> None:
        self._server = server
        self._endpoints = endpoints
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    @classmethod
    def start(cls, listener: socket.socket, account: str) -> Playground:
        """Serve on `listener` (bound and listening, see `listen`), as moto's `account`."""
        endpoints = EndpointAnswers(
            SyncHistory(DomainDispatcherApplication(create_backend_app)), account=account
        )
        # Given a socket: werkzeug would print its own message and exit on a port in use.
        server = make_server(
            HOST,
            listener.getsockname()[1],
            endpoints,
            threaded=True,
            request_handler=MotoRequestHandler,
            fd=listener.fileno(),
        )
        # The server holds its own copy of the socket.
        listener.close()
        playground = cls(server, endpoints)
        # Every AWS call of this process goes to the server.
        os.environ["AWS_ENDPOINT_URL"] = playground.url
        # moto's Step Functions interpreter calls the services of a server on MOTO_PORT.
        os.environ["MOTO_PORT"] = str(playground.port)
        return playground

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The server's endpoint URL."""
        return f"http://{HOST}:{self.port}"

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
        deploy_bucket_files(created, report.gaps)
        report.gaps.functions = find_functions(created)
        run_in_process(report.gaps.functions)
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
                    label = key.removesuffix("Arn").removesuffix("StateMachine")
                    machine = value.rsplit(":", 1)[1]
                    # The stack's own output names it; CDK's cross-stack outputs
                    # (PublishOutputRef...) only when nothing else does.
                    if not key.startswith("PublishOutputRef") or machine not in report.workflows:
                        report.workflows[machine] = label
                if key == "DataBucketName" and described["StackName"].endswith("-Foundation"):
                    report.manifest_key = samples.upload_manifest(session, value)
        report.series = samples.write_series(workdir)
        return report

    def stop(self) -> None:
        """Stop serving and wait for the server's thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
