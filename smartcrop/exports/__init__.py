"""What leaves for downstream readers: the nightly manifest (CSV to S3/SFTP, rows
stamped exactly once), its check, and the dump snapshots (see docs/exports.md).

The public functions are named here; ``manifest_queue``, ``manifest_csv``,
``targets`` and ``neutralise`` serve them.
"""

from smartcrop.exports.dumps import MAX_DAYS, DumpResult, dump_snapshots, write_dumps
from smartcrop.exports.manifest import (
    ExportError,
    ExportResult,
    export_manifest,
    manifest_name,
)
from smartcrop.exports.manifest_queue import (
    completed_without_renditions,
    pending,
    prepare,
)
from smartcrop.exports.neutralise import neutralised
from smartcrop.exports.verify import Verification, verify_manifest

__all__ = [
    "MAX_DAYS",
    "DumpResult",
    "ExportError",
    "ExportResult",
    "Verification",
    "completed_without_renditions",
    "dump_snapshots",
    "export_manifest",
    "manifest_name",
    "neutralised",
    "pending",
    "prepare",
    "verify_manifest",
    "write_dumps",
]
