"""Plain-script starts of the stack's other servers, with the providers' settings but none of
their machinery: `redis-server -`, the moto server module + boto3 provisioning, the Inngest Dev
Server binary, Bugsink (conf, one-time setup, gunicorn, team/project: the error tracker's own
module-level steps), uvicorn.

`FloorServers.stop` stops whatever was started and is safe at any point (even mid-start).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.floor_pg import HOST, FloorPostgres, poll, run
from bench.proc import SCRUB, BenchError
from bench.project import port_open
from devtools.project import REPO, free_port

BUCKET, APP_USER = "mentora-videos", "mentora-app"
SERVICES = ("postgres", "redis", "storage", "jobs", "errors", "app")
_POLICY = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*",'
    f'"Resource":["arn:aws:s3:::{BUCKET}","arn:aws:s3:::{BUCKET}/*"]}}]}}'
)


@dataclass
class FloorServers:
    """One set of floor servers in `base`, on free ports, with generated passwords."""

    base: Path
    ports: dict[str, int] = field(default_factory=lambda: {k: free_port() for k in SERVICES})
    redis_pw: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    bugsink_pw: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    keys: dict[str, str] = field(default_factory=dict)
    # What Bugsink's one-time setup reported: {"token", "migrate_s", "snappea_s"}, then "dsn"...
    bugsink: dict[str, str] = field(default_factory=dict)
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    pg: FloorPostgres = field(init=False)

    def __post_init__(self) -> None:
        SCRUB.add(self.redis_pw, self.bugsink_pw)
        self.pg = FloorPostgres(self.base / "pg", self.ports["postgres"])

    def redis_start(self) -> None:
        """`redis-server -` with the provider's config (AOF fsync always, ACL password hash)."""
        folder = self.base / "redis"
        folder.mkdir(mode=0o700)
        digest = hashlib.sha256(self.redis_pw.encode()).hexdigest()
        config = "\n".join(
            [
                f"port {self.ports['redis']}",
                f"bind {HOST}",
                "daemonize yes",
                f'dir "{folder}"',
                f'pidfile "{folder / "redis.pid"}"',
                f'logfile "{folder / "redis.log"}"',
                "appendonly yes",
                "appendfsync always",
                f"user default on #{digest} ~* &* +@all",
                "",
            ]
        )
        binary = shutil.which("redis-server")
        if binary is None:
            raise BenchError("floor: redis-server is not installed (scripts/bootstrap.sh)")
        run([binary, "-"], "redis-server", stdin=config, new_session=True)
        poll("redis", lambda: port_open(self.ports["redis"]))

    def _spawn(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        with open(log, "ab") as out:
            self.children[name] = subprocess.Popen(
                args,
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def s3_start(self) -> None:
        """The provider's server process: `python -m components.local.s3_server PORT DIR`."""
        port = self.ports["storage"]
        env = {**os.environ, "PYTHONPATH": str(REPO), "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
        (self.base / "s3").mkdir()
        args = [
            sys.executable,
            "-m",
            "components.local.s3_server",
            str(port),
            str(self.base / "s3"),
        ]
        self._spawn("storage", args, env, self.base / "s3" / "moto.log")
        poll("the S3 store", lambda: port_open(port))

    def s3_provision(self) -> None:
        """The provider's calls: IAM user, key and policy, then the private bucket."""
        import boto3

        endpoint = f"http://{HOST}:{self.ports['storage']}"

        def client(service: str, key: str, secret: str) -> Any:
            return boto3.client(
                service,
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id=key,
                aws_secret_access_key=secret,
            )

        iam = client("iam", "bootstrap", "bootstrap")
        iam.create_user(UserName=APP_USER)
        key = iam.create_access_key(UserName=APP_USER)["AccessKey"]
        iam.put_user_policy(UserName=APP_USER, PolicyName="video-bucket", PolicyDocument=_POLICY)
        self.keys = {
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        }
        SCRUB.add(*self.keys.values())
        s3 = client("s3", key["AccessKeyId"], key["SecretAccessKey"])
        s3.create_bucket(Bucket=BUCKET)
        flags = (
            "BlockPublicAcls",
            "IgnorePublicAcls",
            "BlockPublicPolicy",
            "RestrictPublicBuckets",
        )
        s3.put_public_access_block(
            Bucket=BUCKET, PublicAccessBlockConfiguration=dict.fromkeys(flags, True)
        )

    def jobs_start(self) -> None:
        """The Dev Server with the provider's own `command()`, until `GET /dev` answers."""
        from components.local import inngest_server

        port, folder = self.ports["jobs"], self.base / "inngest"
        folder.mkdir(mode=0o700)
        args = inngest_server.command(port, f"http://{HOST}:{self.ports['app']}/api/inngest")
        self._spawn("jobs", args, dict(os.environ), folder / "inngest.log")

        def answers() -> bool:
            if self.children["jobs"].poll() is not None:
                raise BenchError(f"floor: the Dev Server exited; see {folder}/inngest.log")
            return inngest_server.probe(port, timeout_s=0.5) is not None

        poll("the Inngest Dev Server", answers)

    def _bugsink_props(self) -> dict[str, Any]:
        return {
            "port": self.ports["errors"],
            "data_dir": str(self.base / "bugsink"),
            "team": "mentora",
            "project": "mentora-app",
        }

    def errors_conf(self) -> None:
        """`bugsink-create-conf --template=local` + the SQLite paths (error_tracker.configure)."""
        from components.local import error_tracker

        (self.base / "bugsink").mkdir(mode=0o700)
        error_tracker.configure(self._bugsink_props())

    def errors_setup(self) -> None:
        """Migrations of both databases, superuser, API token: one process (bugsink_setup)."""
        from components.local import error_tracker

        out = error_tracker.setup_once(self._bugsink_props(), self.bugsink_pw)
        self.bugsink = {k: str(v) for k, v in out.items()}
        SCRUB.add(self.bugsink["token"])

    def errors_start(self) -> None:
        """gunicorn (one worker) until the authenticated API answers (error_tracker.start)."""
        from components.local import error_tracker

        error_tracker.start(self._bugsink_props(), self.bugsink["token"])

    def errors_project(self) -> None:
        """Team and project through Bugsink's API; the project's DSN."""
        from components.local import error_tracker

        props = self._bugsink_props()
        self.bugsink["project_id"], dsn = error_tracker.create_project(props, self.bugsink["token"])
        self.bugsink["dsn"] = dsn
        SCRUB.add(dsn)

    def app_env(self) -> dict[str, str]:
        """The env names the stack gives the app (values of this floor)."""
        redis, app = self.ports["redis"], self.ports["app"]
        errors = f"http://{HOST}:{self.ports['errors']}"
        return {
            "INNGEST_DEV": "1",
            "INNGEST_BASE_URL": f"http://{HOST}:{self.ports['jobs']}",
            "SENTRY_DSN": self.bugsink.get("dsn", ""),
            "SENTRY_AUTH_TOKEN": self.bugsink.get("token", ""),
            "SENTRY_API_URL": errors,
            "SENTRY_PROJECT": self.bugsink.get("project_id", ""),
            "DATABASE_URL": self.pg.app_url(),
            "REDIS_URL": f"redis://default:{self.redis_pw}@{HOST}:{redis}/0",
            "AWS_REGION": "us-east-1",
            "AWS_S3_BUCKET": BUCKET,
            "AWS_ENDPOINT_URL_S3": f"http://{HOST}:{self.ports['storage']}",
            "NEXT_PUBLIC_APP_URL": f"http://{HOST}:{app}",
            "NODE_ENV": "development",
            "LOG_LEVEL": "debug",
            **self.keys,
        }

    def env_file(self) -> None:
        """`.env.local`: every env name, mode 0600 from birth."""
        fd = os.open(self.base / ".env.local", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.writelines(f"{k}={v}\n" for k, v in sorted(self.app_env().items()))

    def app_start(self) -> None:
        """uvicorn with the reference app, until /api/health answers (the provider's test)."""
        port = self.ports["app"]
        env = {**os.environ, **self.app_env(), "PORT": str(port), "RATE_LIMIT_CHAT_PER_MIN": "20"}
        args = [sys.executable, "-m", "uvicorn", "reference_app.main:app"]
        self._spawn("app", [*args, "--host", HOST, "--port", str(port)], env, self.base / "app.log")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        def answers() -> bool:  # any answer but a 5xx other than 503, like the provider
            try:
                with opener.open(f"http://{HOST}:{port}/api/health", timeout=2) as response:
                    return bool(response.status < 500)
            except urllib.error.HTTPError as exc:
                return exc.code == 503
            except OSError:
                if self.children["app"].poll() is not None:
                    raise BenchError(f"floor: the app exited; see {self.base}/app.log") from None
                return False

        poll("the app", answers)

    def stop(self) -> None:
        """Stop every server this object started; the folder is left to the caller."""
        from components.local import error_tracker
        from components.local.processes import read_pid, stop_pid

        for child in self.children.values():
            stop_pid(child.pid)
            child.wait(timeout=10)
        stop_pid(read_pid(self.base / "redis" / "redis.pid"))
        error_tracker.stop({"data_dir": str(self.base / "bugsink"), "port": self.ports["errors"]})
        self.pg.stop()
