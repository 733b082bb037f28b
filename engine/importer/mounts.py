"""`mount -p`: the file systems mounted on the VSP, one per line in /etc/fstab form.

HP-UX mount(1M): `-p` reports the mounted file systems "in the /etc/fstab format":
`SPECIAL DIRECTORY TYPE OPTIONS BACKUP PASS` (fstab(4)), e.g.
`nfssrv:/export/hpvm /hpvm/nfs nfs rsize=32768,wsize=32768,NFSv3,proto=tcp,hard 0 0`. NFS file
systems (type `nfs`) give `nfs_mounts`; the others are read and not kept. Since V6.1.5 an
NFS-backed guest moves online when both VSPs mount the file system with identical syntax and
options (V6.1.5 guide 9.2.2.4), so the options are kept as printed. A file system mounted over
another at the same directory hides it: the last line of a directory is the one in effect, and an
NFS mount hidden by a later one (of any type) is not kept.
"""

from __future__ import annotations

from ._text import Problems, Source, number


def parse_mounts(source: Source) -> tuple[list[dict], list]:
    """The NFS mounts as snapshot entries `{mount_point, source, options}`, and the problems."""
    problems = Problems(source.file)
    effect: dict[str, dict | None] = {}  # directory -> its NFS mount in effect (None: a later mount of another type)
    for no, text in source.numbered():
        fields = text.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) not in (4, 6) or not fields[1].startswith("/") or (
                len(fields) == 6 and (number(fields[4]) is None or number(fields[5]) is None)):
            problems.at(no, 1, f"expected a `mount -p` line `SPECIAL DIRECTORY TYPE OPTIONS [BACKUP PASS]`, "
                        f"found `{text.strip()}`")
            continue
        if fields[2] == "nfs":
            if ":" not in fields[0]:
                problems.at(no, 1, f"expected an NFS resource `server:/path`, found `{fields[0]}`")
                continue
            effect[fields[1]] = {"mount_point": fields[1], "source": fields[0], "options": fields[3]}
        else:
            effect[fields[1]] = None
    mounts = [m for m in effect.values() if m is not None]
    return mounts, problems.items


def under_mount(path: str, mounts: list[dict]) -> bool:
    """Whether `path` lies on one of the NFS `mounts` (below its mount point)."""
    return any(path.startswith(m["mount_point"].rstrip("/") + "/") for m in mounts)
