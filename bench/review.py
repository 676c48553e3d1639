"""`python -m bench.review`: issue 22's targets for local review stacks, on a throwaway project.

Rows (docs/benchmarks.md, "Review stacks"), with the base stack `local` up first (review stacks
keep their database, bucket and error project in its servers):
- cold `review up` of one review stack (deploy + smoke gate), wall time;   target <= 12 s
- idle memory of that additional stack: how much the RSS of every server process of the
  project (the base's, whose Postgres runs the stack's sessions, and the stack's own) grew
  once it sits idle (`IDLE_S`: the app closes idle database connections), with the stack's own
  servers listed, and PSS beside it;                                       target <= 200 MB
- `review down` of it, wall time;                                          target <= 5 s
- `local` plus 5 review stacks brought up at once: how many are smoke-green (a cold gate that
  failed is updated once more, warm, and counted green only if that is green); target 6 of 6
- `review sweep` of the 5 (all PRs closed), wall time and what the system still has;
                                                                           target <= 20 s, nothing
Every command is the product's own CLI, run as a user would (`mentora-infra review ...`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.memory import descendants, parent_map, tree_rss_mb
from devtools.project import REPO, CommandResult, LocalProject
from review import pulumi_cli
from review.state import Paths
from review.teardown import leftovers as left
from review.tenant import Tenant

FLEET = (11, 12, 13, 14, 15)
IDLE_S = 40.0  # reference_app/db_probe.py: MAX_IDLE_S 30 + REAP_EVERY_S 5, and a margin
TIMEOUT_S = 600.0


def review(project: LocalProject, *args: str) -> CommandResult:
    return project.gate("review", *args, timeout=TIMEOUT_S)


def pss_mb(pid: int) -> float:
    """Proportional set size of one process (shared pages split between their users)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return 0.0


def stack_memory(servers: Path) -> dict[str, dict[str, float]]:
    """service folder -> RSS and PSS (MB) of its server's process tree, from ownership records."""
    parents = parent_map()
    found: dict[str, dict[str, float]] = {}
    for record in sorted(servers.glob(".*.owner.json")):
        pid = int(json.loads(record.read_text())["pid"])
        rss, count = tree_rss_mb(pid, parents)
        pss = sum(pss_mb(p) for p in descendants(pid, parents))
        name = record.name.removeprefix(".").removesuffix(".owner.json")
        found[name] = {"rss_mb": round(rss, 1), "pss_mb": round(pss, 1), "processes": count}
    return found


def project_memory(root: Path) -> dict[str, float]:
    """RSS and PSS (MB) of every server process tree of the project: the base's and every
    review stack's, from their ownership records."""
    folders = [root / ".pulumi-local" / "servers"]
    folders += sorted((root / ".pulumi-local" / "review").glob("pr-*/servers"))
    trees = [stack_memory(folder) for folder in folders if folder.is_dir()]
    return {
        key: round(sum(m[key] for tree in trees for m in tree.values()), 1)
        for key in ("rss_mb", "pss_mb")
    }


def at_once(actions: dict[str, Any]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    threads = [
        threading.Thread(target=lambda k=k, a=a: results.update({k: a()}))
        for k, a in actions.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT_S)
    return results


def leftovers(project: LocalProject, stack: str) -> list[str]:
    """What the system still has of `stack`: its own, and what it kept in the base's servers."""
    paths = Paths(project.root, stack)
    tenant = Tenant.of(paths)
    return (
        left(paths, {}, pulumi_cli.review_stacks(project.root))
        + [str(p) for p in (paths.record,) if p.exists()]
        + (tenant.left() if tenant else [])
    )


def run(out: Path) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="mentora-bench-review-"))
    base.chmod(0o755)
    rows: dict[str, Any] = {"started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    project = LocalProject.create(base)
    try:
        rows["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
        start = time.monotonic()
        base_up = project.run("up", "--yes", "--skip-preview", check=False)
        rows["base_up_s"], rows["base_up_exit"] = (
            round(time.monotonic() - start, 2),
            base_up.returncode,
        )
        time.sleep(IDLE_S)
        before = project_memory(project.root)
        start = time.monotonic()
        up = review(project, "up", "1")
        rows["cold_review_up_s"] = round(time.monotonic() - start, 2)
        rows["cold_review_up_exit"] = up.returncode
        rows["cold_review_up_tail"] = up.output[-400:]
        time.sleep(IDLE_S)
        after = project_memory(project.root)
        rows["memory_own_servers"] = stack_memory(
            project.root / ".pulumi-local" / "review" / "pr-1" / "servers"
        )
        rows["memory_project_before_after"] = [before, after]
        rows["idle_rss_mb"] = round(after["rss_mb"] - before["rss_mb"], 1)
        rows["idle_pss_mb"] = round(after["pss_mb"] - before["pss_mb"], 1)
        start = time.monotonic()
        down = review(project, "down", "1")
        rows["review_down_s"] = round(time.monotonic() - start, 2)
        rows["review_down_exit"] = down.returncode
        rows["review_down_left"] = leftovers(project, "pr-1")

        start = time.monotonic()
        actions: dict[str, Any] = {
            "local": lambda: project.run("up", "--yes", "--skip-preview", check=False)
        }
        actions.update({f"pr-{pr}": (lambda pr=pr: review(project, "up", str(pr))) for pr in FLEET})
        fleet = at_once(actions)
        rows["fleet_up_s"] = round(time.monotonic() - start, 2)
        time.sleep(IDLE_S)
        rows["fleet_idle_rss_mb_each"] = round(
            (project_memory(project.root)["rss_mb"] - before["rss_mb"]) / len(FLEET), 1
        )
        rows["fleet_cold_exits"] = {k: v.returncode for k, v in fleet.items()}
        smoke = project.smoke()
        green = {"local": smoke.returncode == 0}
        retry = {
            f"pr-{pr}": (lambda pr=pr: review(project, "up", str(pr)))
            for pr in FLEET
            if fleet[f"pr-{pr}"].returncode != 0
        }
        again = at_once(retry)
        for pr in FLEET:
            name = f"pr-{pr}"
            green[name] = (again[name] if name in again else fleet[name]).returncode == 0
        rows["fleet_green"] = green
        rows["fleet_green_count"] = sum(green.values())
        start = time.monotonic()
        swept = review(project, "sweep", "--open", "")
        rows["sweep_5_s"] = round(time.monotonic() - start, 2)
        rows["sweep_exit"] = swept.returncode
        rows["sweep_left"] = {f"pr-{pr}": leftovers(project, f"pr-{pr}") for pr in FLEET}
    finally:
        review(project, "sweep", "--open", "")
        project.run("destroy", "--yes", "--skip-preview", check=False)
        shutil.rmtree(base, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.review", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--json", type=Path, default=REPO / "reports" / "bench-review.json")
    args = parser.parse_args(argv)
    rows = run(args.json)
    print(json.dumps({k: v for k, v in rows.items() if k != "cold_review_up_tail"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
