"""The manifest every report carries, so that a report can be reproduced and audited."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from .. import __version__
from ..core.diagnostics import UsageError
from .reader import sha256_hex
from .resources import schema_path


def _sha256_file(path) -> str | None:
    if not path:
        return None
    with open(path, "rb") as f:
        return sha256_hex(f.read())


def _loaded_sha256(loaded, path) -> str | None:
    digest = getattr(loaded, "sha256", None)
    return digest or _sha256_file(path)


_LAST_EPOCH = 253402300799  # 9999-12-31T23:59:59Z, the last second a report's date can write


def now() -> datetime:
    """The report time; SOURCE_DATE_EPOCH fixes it for reproducible builds and golden files (and only the
    report's timestamps: which waivers have expired is decided on the real date, or `--as-of`).
    A SOURCE_DATE_EPOCH that is not a whole number of seconds from 1970 to 9999 is a `UsageError`."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None or epoch == "":
        return datetime.now(UTC).replace(microsecond=0)
    if not (epoch.isascii() and epoch.isdigit()) or int(epoch) > _LAST_EPOCH:
        raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r}: not a whole number of seconds since 1970-01-01 "
                         "(up to 9999-12-31); set it to `git log -1 --format=%ct`, or unset it")
    return datetime.fromtimestamp(int(epoch), tz=UTC)


def build_manifest(*, rule_pack_sha256: str, rules: int, snapshot_sha256: str | None, waivers_path: str | None,
                   config_path: str | None, fail_on: str, waivers=None, config_doc=None,
                   sarif_category: str | None = None, as_of=None) -> dict:
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
    if config_path:
        manifest["config_path"] = config_path
    if sarif_category:
        manifest["sarif_category"] = sarif_category
    if as_of is not None:  # `--as-of`: the day the waivers were judged on
        manifest["as_of"] = as_of.isoformat()
    return manifest
