"""The manifest every report carries, so that a report can be reproduced and audited."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime

from .. import __version__
from .resources import schema_path


def _sha256_file(path) -> str | None:
    if not path:
        return None
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _loaded_sha256(loaded, path) -> str | None:
    digest = getattr(loaded, "sha256", None)
    return digest or _sha256_file(path)


def now() -> datetime:
    """The report time; SOURCE_DATE_EPOCH fixes it for reproducible builds and golden files."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.now(UTC).replace(microsecond=0)


def build_manifest(*, rule_pack_sha256: str, rules: int, snapshot_sha256: str | None, waivers_path: str | None,
                   config_path: str | None, fail_on: str, waivers=None, config_doc=None,
                   sarif_category: str | None = None, name_config: bool = True) -> dict:
    """What reproduces a report: the tool, the hashes of every input, and when it was made.
    `waivers` and `config_doc`, when loaded, give the hashes of the bytes the run read; the
    configuration used (given or found) is named by its path; `sarif_category` (`--sarif-category`)
    is the SARIF run's automationDetails.id, which the SARIF writer reads from here."""
    manifest = {
        "tool_version": __version__,
        "rule_pack_sha256": rule_pack_sha256,
        "schema_sha256": _sha256_file(schema_path("snapshot.schema.json")),
        "snapshot_sha256": snapshot_sha256,
        # from the bytes the run read (a FIFO or a pipe cannot be read twice)
        "waivers_sha256": _loaded_sha256(waivers, waivers_path),
        "config_sha256": _loaded_sha256(config_doc, config_path),
        "rules": rules,
        "fail_on": fail_on,
        "generated": now().isoformat().replace("+00:00", "Z"),
    }
    if config_path and name_config:
        manifest["config_path"] = config_path
    if sarif_category:
        manifest["sarif_category"] = sarif_category
    return manifest
