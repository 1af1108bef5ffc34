"""A bundle as a .tar.gz: packed by the exporter (proofs in seq order, no owner
names or ids), unpacked safely by the verifier (no links, devices or paths that
leave the target)."""

from __future__ import annotations

import tarfile
from pathlib import Path

from ledger_verify.bundle.layout import OPTIONAL_FILES, TOP_FILES, proof_path


def pack(bundle: Path, name: str, digests: Path, dest: Path) -> None:
    """Write the bundle as a .tar.gz: proofs in seq order, no owner names or ids.
    `digests` lists the proofs, one `<seq> <sha256>` line each."""

    def anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    with tarfile.open(dest, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=name, recursive=False, filter=anonymous)
        optional = [top for top in OPTIONAL_FILES if (bundle / top).exists()]
        for top in ("manifest.json", "manifest.sig", *TOP_FILES, *optional):
            tar.add(bundle / top, arcname=f"{name}/{top}", filter=anonymous)
        tar.add(bundle / "proofs", arcname=f"{name}/proofs", recursive=False, filter=anonymous)
        with digests.open(encoding="ascii") as proofs:
            for line in proofs:
                path = proof_path(int(line.split()[0]))
                tar.add(bundle / path, arcname=f"{name}/{path}", filter=anonymous)


def is_archive(target: Path) -> bool:
    """True if `target` is a file that tarfile can open."""
    return target.is_file() and tarfile.is_tarfile(target)


def extract(archive: Path, into: Path) -> None:
    """Unpack `archive` into `into`. Raises tarfile.TarError or OSError if it cannot
    be unpacked safely."""
    with tarfile.open(archive, "r:*") as tar:
        # the "data" filter refuses links, devices, absolute and ../ paths
        tar.extractall(into, filter="data")


def bundle_root(unpacked: Path) -> Path:
    """The bundle directory of an unpacked archive: its single top directory, if it
    has one, else the unpacked directory itself."""
    inner = list(unpacked.iterdir())
    if len(inner) == 1 and inner[0].is_dir() and not inner[0].is_symlink():
        return inner[0]
    return unpacked
