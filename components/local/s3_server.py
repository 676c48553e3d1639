"""`S3Server`: an S3-compatible store (moto) on 127.0.0.1 with IAM auth and a private bucket.

moto keeps everything in memory: a restart of the server (after a crash, on `pulumi up
--refresh`) issues new credentials and an empty bucket; objects do NOT survive a restart of the
local store. Dependents (the env file, the app) pick the new keys up: they are outputs here.

The server process is `python -m components.local.s3_server PORT`: moto's WSGI app behind a guard
that answers 403 to unsigned requests (moto itself crashes with a 500 on an anonymous LIST/PUT)
and to `/moto-api/*` (unauthenticated: it could dump every key or switch IAM auth off).
moto checks IAM auth on header-signed requests only: presigned URLs get a 501 here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    UpdateResult,
)

from components.local import processes
from components.local.errors import LocalServerError, ServerStartError
from components.local.server_provider import LocalServerProvider, LocalServerResource

SERVICE = "storage"
PID_FILE = "moto.pid"  # inside the data dir
APP_USER = "mentora-app"
SECRET_OUTPUTS = ("access_key_id", "secret_access_key")
_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>'
)
_DENIED = ("403 Forbidden", _XML % (b"AccessDenied", b"Access Denied"))
_PRESIGNED = (
    "501 Not Implemented",
    _XML % (b"NotImplemented", b"The local store (moto with IAM auth) cannot check presigned URLs"),
)
# IAM calls that run before auth is enforced: create user, create access key, put user policy.
UNAUTHENTICATED_BOOTSTRAP_CALLS = 3


def _client(service: str, props: dict[str, Any], key: str, secret: str) -> Any:
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    return boto3.client(
        service,
        endpoint_url=f"http://{processes.HOST}:{int(props['port'])}",
        region_name=props["region"],
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 2}),
    )


def _bucket_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                }
            ],
        }
    )


class S3Provider(LocalServerProvider):
    """Starts moto's server, creates the app's IAM user and key, and the private bucket."""

    REPLACE_KEYS = ("port", "data_dir", "bucket", "region")

    def _start(self, props: dict[str, Any]) -> dict[str, str]:
        data_dir = processes.guarded_data_dir(SERVICE, props["data_dir"])
        port = int(props["port"])
        command = [sys.executable, "-m", "components.local.s3_server", str(port)]
        # The server runs this very module: from the checkout the provider was loaded from.
        root = str(Path(__file__).resolve().parents[2])
        python_path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
        env = {
            **os.environ,
            "PYTHONPATH": python_path,
            "INITIAL_NO_AUTH_ACTION_COUNT": str(UNAUTHENTICATED_BOOTSTRAP_CALLS),
        }
        with open(data_dir / "moto.log", "ab") as log:
            # A session of its own: the engine kills the provider's process group when it exits.
            proc = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
                cwd=data_dir,
            )
        (data_dir / PID_FILE).write_text(str(proc.pid))
        hint = f"see {data_dir / 'moto.log'}"

        def ready() -> bool:
            if proc.poll() is not None:  # fail fast instead of waiting out the deadline
                raise ServerStartError(f"storage: the S3 store exited ({proc.returncode}); {hint}")
            return processes.port_open(port)

        processes.wait_until(SERVICE, ready, f"a connection on {processes.HOST}:{port}", hint=hint)
        return self._provision(props)

    def _provision(self, props: dict[str, Any]) -> dict[str, str]:
        iam = _client("iam", props, "bootstrap", "bootstrap")
        iam.create_user(UserName=APP_USER)
        key = iam.create_access_key(UserName=APP_USER)["AccessKey"]
        iam.put_user_policy(
            UserName=APP_USER,
            PolicyName="video-bucket",
            PolicyDocument=_bucket_policy(props["bucket"]),
        )
        s3 = _client("s3", props, key["AccessKeyId"], key["SecretAccessKey"])
        bucket = props["bucket"]
        if props["region"] == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": props["region"]}
            )
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        return {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}

    def _pid(self, props: dict[str, Any]) -> int | None:
        return processes.read_pid(Path(props["data_dir"]) / PID_FILE)

    def _running(self, props: dict[str, Any]) -> bool:
        return processes.pid_alive(self._pid(props)) and processes.port_open(int(props["port"]))

    def _outputs(self, props: dict[str, Any], keys: dict[str, str]) -> dict[str, Any]:
        return {
            "port": int(props["port"]),
            "data_dir": props["data_dir"],
            "bucket": props["bucket"],
            "region": props["region"],
            "endpoint": f"http://{processes.HOST}:{int(props['port'])}",
            **keys,
            "running": True,
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        processes.require_free_port(SERVICE, int(props["port"]), "storagePort")
        processes.claim_data_dir(SERVICE, props["data_dir"])
        try:
            keys = self._start(props)
        except BaseException as exc:
            # Free the port; the folder stays for its log (the next create empties it).
            processes.stop_pid(self._pid(props))
            if isinstance(exc, LocalServerError) or not isinstance(exc, Exception):
                raise
            raise LocalServerError(
                f"storage: provisioning the local S3 store failed: {exc}"
            ) from None
        return CreateResult(id_=f"s3-{int(props['port'])}", outs=self._outputs(props, keys))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if self._running(news):
            keys = {k: olds[k] for k in SECRET_OUTPUTS}
        else:
            processes.stop_pid(self._pid(news))
            keys = self._start(news)
        return UpdateResult(outs=self._outputs(news, keys))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        processes.stop_pid(self._pid(props))
        processes.remove_data_dir(SERVICE, props["data_dir"])


class S3Server(LocalServerResource):
    """A local S3-compatible store holding one private bucket and the app's key pair for it."""

    endpoint: pulumi.Output[str]
    region: pulumi.Output[str]
    bucket: pulumi.Output[str]
    access_key_id: pulumi.Output[str]
    secret_access_key: pulumi.Output[str]
    running: pulumi.Output[bool]

    def __init__(
        self,
        name: str,
        *,
        port: int,
        data_dir: str,
        bucket: str,
        region: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        inputs = {"port": port, "data_dir": data_dir, "bucket": bucket, "region": region}
        outputs = ("endpoint", "running")
        super().__init__(S3Provider(), name, inputs, outputs, SECRET_OUTPUTS, opts)


def _guard(app: Any) -> Any:
    """WSGI middleware: 403 for unsigned requests and for moto's own control API."""

    def guarded(environ: dict[str, Any], start_response: Any) -> Any:
        control_api = environ.get("PATH_INFO", "").startswith("/moto-api")
        if "HTTP_AUTHORIZATION" in environ and not control_api:
            return app(environ, start_response)
        presigned = "Signature=" in environ.get("QUERY_STRING", "")
        status, body = _PRESIGNED if presigned else _DENIED
        start_response(
            status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return guarded


def serve(port: int) -> None:
    """Run the guarded moto server on 127.0.0.1:`port` until SIGTERM (the store's process)."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    os.environ.setdefault("MOTO_PORT", str(port))
    app = _guard(DomainDispatcherApplication(create_backend_app))
    run_simple(processes.HOST, port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
