"""What the store's journal reads from and writes back into moto, through moto's public backend
API only (`moto.s3.models.s3_backends`, its backends' methods and its models' public attributes).

Values are plain JSON (str, int, bool, lists, dicts): the journal never holds a Python object.
"""

from __future__ import annotations

import datetime
from typing import Any

PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def _backends() -> Any:
    from moto.s3.models import s3_backends

    return s3_backends


def _backend(bucket: str) -> Any | None:
    owner = _backends().bucket_accounts.get(bucket)
    if owner is None:
        return None
    partition, account = owner
    return _backends()[account][partition]


def request_target(environ: dict[str, Any]) -> tuple[str, str]:
    """(bucket, key) a path-style request names ("" where absent); the local store is always
    reached by address (127.0.0.1), so clients use path-style URLs."""
    raw = environ.get("PATH_INFO", "")
    path = raw.encode("latin-1").decode("utf-8", "replace")  # WSGI: bytes as latin-1
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


def object_keys(bucket: str) -> set[str]:
    """The keys moto holds in `bucket` (none when the bucket is gone)."""
    backend = _backend(bucket)
    if backend is None or bucket not in backend.buckets:
        return set()
    return set(backend.buckets[bucket].keys.keys())


def object_entry(bucket: str, key: str) -> tuple[dict[str, Any], bytes] | None:
    """The latest version of `key` as a journal entry (without its blob name) and its bytes."""
    backend = _backend(bucket)
    if backend is None or bucket not in backend.buckets:
        return None
    found = backend.get_object(bucket, key)
    if found is None:
        return None
    value = found.value
    entry = {
        "etag": found.etag,
        "size": len(value),
        "last_modified": found.last_modified.isoformat(),
        "metadata": dict(found.metadata),
        "tags": backend.tagger.flatten_tag_list(backend.get_object_tagging(found).get("Tags", [])),
        "storage_class": found.storage_class,
    }
    return entry, value


def bucket_settings(bucket: str) -> dict[str, Any] | None:
    """The bucket's owner, region, policy, public access block and CORS rules; None if gone."""
    backend = _backend(bucket)
    if backend is None or bucket not in backend.buckets:
        return None
    found = backend.buckets[bucket]
    block = found.public_access_block
    return {
        "account": found.account_id,
        "partition": found.partition,
        "region": found.region_name,
        "policy": found.policy.decode() if found.policy else None,
        "public_access_block": None
        if block is None
        else dict(
            zip(
                PAB_FLAGS,
                (
                    block.block_public_acls,
                    block.ignore_public_acls,
                    block.block_public_policy,
                    block.restrict_public_buckets,
                ),
                strict=True,
            )
        ),
        "cors": [
            {
                "AllowedMethod": rule.allowed_methods,
                "AllowedOrigin": rule.allowed_origins,
                "AllowedHeader": rule.allowed_headers or [],
                "ExposeHeader": rule.exposed_headers or [],
                **({"MaxAgeSeconds": str(rule.max_age_seconds)} if rule.max_age_seconds else {}),
                **({"ID": rule.id_} if rule.id_ else {}),
            }
            for rule in found.cors
        ],
    }


def restore_bucket(bucket: str, settings: dict[str, Any]) -> None:
    """Create `bucket` in moto with the settings `bucket_settings` read."""
    backend = _backends()[settings["account"]][settings["partition"]]
    backend.create_bucket(bucket, settings["region"])
    if settings["policy"]:
        backend.put_bucket_policy(bucket, settings["policy"].encode())
    if settings["public_access_block"]:
        backend.put_public_access_block(bucket, settings["public_access_block"])
    if settings["cors"]:
        backend.put_bucket_cors(bucket, settings["cors"])


def restore_object(bucket: str, key: str, entry: dict[str, Any], value: bytes) -> None:
    """Put `key` back into moto as `object_entry` read it (same ETag, date, metadata, tags)."""
    backend = _backend(bucket)
    if backend is None:
        raise ValueError(f"the journal holds {bucket}/{key} but no bucket {bucket}")
    restored = backend.put_object(
        bucket,
        key,
        value,
        storage=entry["storage_class"],
        etag=entry["etag"].strip('"'),
        disable_notification=True,
    )
    restored.set_metadata(dict(entry["metadata"]))
    restored.last_modified = datetime.datetime.fromisoformat(entry["last_modified"])
    if entry["tags"]:
        backend.put_object_tagging(restored, entry["tags"])
