"""Jobs: the guide's `video/upload.completed` event, sent with the inngest SDK, runs the app's
process-video function to Completed (the local Dev Server, or Inngest Cloud with the signing key).

The event carries a `smokeMarker` (`smoke:<run-id>:jobs`): the function writes its test rows
under that marker and deletes them in its last step; this check deletes whatever is left even
when the run fails (docs/app-contract.md, "Jobs").
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from smoke.checks import check, client
from smoke.checks.common import (
    Recorder,
    bounded,
    connect_postgres,
    fail_if_dependency_down,
    watching,
)
from smoke.clients import jobs_api
from smoke.failures import CheckFailed, CheckSkipped
from smoke.outputs import StackOutputs

FUNCTION = "process-video"
EVENT = "video/upload.completed"
SYNC_DEADLINE_S = 5.0  # the Dev Server syncs the app every second (--poll-interval 1)
RUN_DEADLINE_S = {True: 15.0, False: 60.0}  # dev / cloud (queueing and cold starts)
NAMES = ("INNGEST_DEV", "INNGEST_BASE_URL", "INNGEST_EVENT_KEY", "INNGEST_SIGNING_KEY",
         "INNGEST_API_BASE_URL", "INNGEST_EVENT_API_BASE_URL")  # fmt: skip
NO_APP = "stack has no app_url output: no app serves the job functions (docs/app-contract.md)"


def settings(outputs: StackOutputs) -> Mapping[str, str]:
    """The stack's env, then the caller's environment for names it lacks (CI secrets)."""
    return {**{k: os.environ[k] for k in NAMES if os.environ.get(k)}, **outputs.env}


@client
def app_url(outputs: StackOutputs) -> str:
    if not outputs.app_url:
        raise CheckSkipped(NO_APP)
    return outputs.app_url


@client
def marker(app_url: str, outputs: StackOutputs, timeout_s: float, run_id: str) -> Iterator[str]:
    """This check's namespace; its rows are deleted afterwards, whatever the outcome."""
    marker = f"smoke:{run_id}:jobs"
    yield marker
    if not outputs.database_url:
        return
    with (
        connect_postgres(outputs, timeout_s, {}, autocommit=True) as conn,
        bounded(conn, 2 * timeout_s, "database: cleanup of the jobs check's rows"),
    ):
        # The app names its rows by the marker (contract); cascades remove creator/video/chunks.
        conn.execute(
            "delete from auth.users where email = %s", (f"smoke-{run_id}-jobs@smoke.invalid",)
        )
        conn.execute("delete from public.videos where storage_key like %s", (f"{marker}%",))


def leftovers(outputs: StackOutputs, timeout_s: float, marker: str) -> int:
    """Rows of this run the function's cleanup step should have deleted."""
    with (
        connect_postgres(outputs, timeout_s, {}, autocommit=True) as conn,
        bounded(conn, timeout_s, "database: count of leftover rows"),
    ):
        row = conn.execute(
            "select count(*) from public.videos where storage_key like %s", (f"{marker}%",)
        ).fetchone()
    return int(row[0]) if row else 0


@check(writes=True)
def test_process_video_run_completes(
    outputs: StackOutputs,
    check: Recorder,
    timeout_s: float,
    marker: str,
) -> None:
    import httpx

    try:
        target = jobs_api.InngestTarget.from_env(settings(outputs))
    except jobs_api.JobsConfigError as exc:
        raise CheckFailed(str(exc)) from None
    # The run needs the app (it serves the function) and the database (its steps write there).
    needs = {"the app": outputs.app_url or "", "the database": outputs.database_url}
    fail_if_dependency_down("jobs", f"a {FUNCTION} run", needs, outputs)
    sleep = watching("jobs", f"a {FUNCTION} run", needs, outputs)
    with check.timed(target.runs_url("<event>")), httpx.Client(timeout=timeout_s) as client:
        try:
            if target.dev:
                jobs_api.wait_for_sync(client, target, FUNCTION, SYNC_DEADLINE_S, sleep=sleep)
            data = {"smokeMarker": marker, "videoId": None}
            event_id = jobs_api.send_event(target, EVENT, data, timeout_s)
            run, polls = jobs_api.wait_for_run(
                client, target, event_id, FUNCTION, RUN_DEADLINE_S[target.dev], sleep=sleep
            )
        except jobs_api.JobsError as exc:
            raise CheckFailed(str(exc)) from None
    check.attempts = polls
    check.record("run_id", run.run_id)  # junit and --json-report consumers see it too
    seen = f"jobs: {FUNCTION} run {run.run_id} Completed (event {event_id}, {polls} reads)"
    check.record("seen", seen)  # printed above the smoke summary
    left = leftovers(outputs, timeout_s, marker)
    assert left == 0, f"jobs: {FUNCTION} run {run.run_id} left {left} {marker} video row(s)"
