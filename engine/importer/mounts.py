"""`mount -p`: the file systems mounted on the VSP, one per line in /etc/fstab form.

HP-UX mount(1M): `-p` reports the mounted file systems "in the /etc/fstab format":
`SPECIAL DIRECTORY TYPE OPTIONS BACKUP PASS` (fstab(4)), e.g.
`nfssrv:/export/hpvm /hpvm/nfs nfs rsize=32768,wsize=32768,NFSv3,proto=tcp,hard 0 0`. NFS file
systems (type `nfs`) give `nfs_mounts`; the others are read and not kept. Since V6.1.5 an
NFS-backed guest moves online when both VSPs mount the file system with identical syntax and
options (V6.1.5 guide 9.2.2.4), so the options are kept as printed. A file system mounted at a
directory hides what was mounted at it or below it before: the mounts in effect are kept, and a
file lies on the file system of the deepest mount point above it (a local one mounted below an
NFS mount holds its own files).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._text import Problems, Source, number


@dataclass
class MountTable:
    """The file systems in effect: the NFS ones as snapshot entries, and the directories of the others (a local
    file system mounted below an NFS one holds its files itself)."""

    nfs: list[dict] = field(default_factory=list)
    local: list[str] = field(default_factory=list)


def parse_mounts(source: Source) -> tuple[MountTable, list]:
    """The mounts in effect (`MountTable`), and the problems."""
    problems = Problems(source.file)
    effect: dict[str, dict | None] = {}  # directory -> its NFS entry, or None for another type, in mount order
    for no, text in source.numbered():
        fields = text.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) not in (4, 6) or not fields[1].startswith("/") or (
                len(fields) == 6 and (number(fields[4]) is None or number(fields[5]) is None)):
            problems.at(no, 1, f"expected a `mount -p` line `SPECIAL DIRECTORY TYPE OPTIONS [BACKUP PASS]`, "
                        f"found `{text.strip()}`")
            continue
        if fields[2] == "nfs" and ":" not in fields[0]:
            problems.at(no, 1, f"expected an NFS resource `server:/path`, found `{fields[0]}`")
            continue
        directory = fields[1]
        # a mount hides what was mounted at its directory or below it
        for hidden in [d for d in effect if d == directory or d.startswith(directory.rstrip("/") + "/")]:
            del effect[hidden]
        effect[directory] = ({"mount_point": directory, "source": fields[0], "options": fields[3]}
                             if fields[2] == "nfs" else None)
    return MountTable([m for m in effect.values() if m is not None],
                      [d for d, m in effect.items() if m is None]), problems.items


def on_nfs(path: str, mounts: MountTable) -> bool:
    """Whether `path` lies on an NFS file system: the deepest mount point it is under (of any type) is NFS."""
    def under(point: str) -> bool:
        return path.startswith(point.rstrip("/") + "/")
    deepest_nfs = max((len(m["mount_point"]) for m in mounts.nfs if under(m["mount_point"])), default=-1)
    deepest_local = max((len(d) for d in mounts.local if under(d)), default=-1)
    return deepest_nfs > deepest_local
