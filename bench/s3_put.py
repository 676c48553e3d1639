"""The local S3 store's write cost against what it holds (issue 19): the median 1 KB PUT on an
empty store, then again with 1 GB stored, through the product's own `S3Provider` (its server
process, guard and journal), signed with the key the provider issued.

Target: the PUT with 1 GB stored <= 1.2x the same PUT on the empty store.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from bench.cleanup import Cleanup
from bench.model import S3_PUT_EMPTY, S3_PUT_FULL, Measurement, Report
from bench.proc import SCRUB
from devtools.ports import free_port

STORED_MB = 1024
FILL_OBJECT_MB = 16  # 64 objects of 16 MB: moto spills bodies over 8 MB to temp files
PUTS = 40  # timed 1 KB PUTs per store and sample; their median is the sample


def _timed_put(client: Any, key: str) -> float:
    body = os.urandom(1024)
    start = time.perf_counter()
    client.put_object(Bucket="bench", Key=key, Body=body)
    return time.perf_counter() - start


def _medians(empty_store: Any, full_store: Any, tag: str) -> tuple[float, float]:
    """One sample: PUTS PUTs to each store, one after the other in turn, so a burst of load on
    the shared machine hits both alike; the median of each."""
    empty, full = [], []
    for n in range(PUTS):
        empty.append(_timed_put(empty_store, f"bench/{tag}/{n}"))
        full.append(_timed_put(full_store, f"bench/{tag}/{n}"))
    return sorted(empty)[PUTS // 2], sorted(full)[PUTS // 2]


def _store(cleanup: Cleanup, base: Path, name: str) -> Any:
    """A store of the product's own provider, deleted at cleanup; a signed client for it."""
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    from components.local.s3_server import S3Provider

    provider, port = S3Provider(), free_port()
    props = {"port": port, "data_dir": str(base / name), "bucket": "bench", "region": "us-east-1"}
    outs = dict(provider.create(props).outs)
    SCRUB.add(outs["secret_access_key"])
    cleanup.push(f"delete the S3 bench store {name}", lambda: provider.delete(f"s3-{port}", outs))
    return boto3.client(
        "s3",
        endpoint_url=outs["endpoint"],
        region_name="us-east-1",
        aws_access_key_id=outs["access_key_id"],
        aws_secret_access_key=outs["secret_access_key"],
        config=Config(read_timeout=120, retries={"max_attempts": 1}),
    )


def s3_put_cost(report: Report, cleanup: Cleanup, base: Path, samples: int) -> None:
    """Two stores, one empty and one holding 1 GB; their 1 KB PUTs timed in turn."""
    empty_store, full_store = _store(cleanup, base, "s3-empty"), _store(cleanup, base, "s3-full")
    chunk = os.urandom(FILL_OBJECT_MB << 20)
    for n in range(STORED_MB // FILL_OBJECT_MB):
        body = chunk[:-8] + n.to_bytes(8, "big")
        full_store.put_object(Bucket="bench", Key=f"fill/{n}", Body=body)
    empty = report.add(Measurement(S3_PUT_EMPTY, "S3: 1 KB PUT, empty store", group="storage"))
    label = f"S3: 1 KB PUT, {STORED_MB} MB stored"
    full = report.add(Measurement(S3_PUT_FULL, label, group="storage"))
    for n in range(samples):
        on_empty, on_full = _medians(empty_store, full_store, f"sample-{n}")
        empty.samples.append(on_empty)
        full.samples.append(on_full)
