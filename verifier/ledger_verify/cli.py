"""`ledger-verify BUNDLE [--trusted-vkey FILE]`: the regulator's offline check of a bundle.

Exit status: 0 every check held; 1 the bundle does not verify (each failure is
printed, naming file and seq); 2 usage error (bad arguments, unreadable key file,
not a bundle); 3 unexpected runtime error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from ledger_verify import __version__
from ledger_verify.bundle.verify import summary, verify_bundle

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_RUNTIME = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """Reports a usage error in one line (argparse's default adds the usage text)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments."""
    parser = _Parser(
        prog="ledger-verify",
        description=(
            "Verify a crm-ledger audit-trail bundle offline: manifest and its signature, "
            "the signed checkpoint, every leaf's inclusion proof (RFC 9162), every "
            "disclosed key, and the rendered events. Needs no database and no private key."
        ),
        epilog="exit status: 0 verified, 1 verification failed, 2 usage error, 3 runtime error",
    )
    parser.add_argument("bundle", help="bundle directory or .tar.gz")
    parser.add_argument(
        "--trusted-vkey",
        metavar="FILE",
        help="the log's verifier key as published by the firm; log.vkey must equal it",
    )
    parser.add_argument(
        "--witness-vkey",
        metavar="VKEY",
        action="append",
        default=[],
        help="a trusted witness's C2SP cosigner vkey (or a file holding one); repeatable",
    )
    parser.add_argument(
        "--witness-quorum",
        metavar="K",
        type=int,
        default=None,
        help="valid cosignatures of trusted witnesses the checkpoint needs (default: all)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def read_vkey(value: str) -> str:
    """A vkey given inline (`name+id+key`) or as the path of a file holding one."""
    if value.count("+") >= 2 and not Path(value).is_file():
        return value
    return Path(value).read_text("utf-8").strip()


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        vkey = Path(args.trusted_vkey).read_text("utf-8") if args.trusted_vkey else None
        witnesses = [read_vkey(value) for value in args.witness_vkey]
        report = verify_bundle(
            args.bundle,
            trusted_vkey=vkey,
            witness_vkeys=witnesses,
            witness_quorum=args.witness_quorum,
        )
    except (OSError, ValueError) as exc:
        print(f"ledger-verify: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a crash is reported in one line, never as a pass
        print(f"ledger-verify: runtime error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_RUNTIME
    print(summary(report), file=sys.stdout if report.ok else sys.stderr)
    if report.ok and vkey is None:
        print(
            "note: checked against the bundle's own key; compare log.vkey with the key the "
            "firm published, or pass --trusted-vkey",
            file=sys.stderr,
        )
    return EXIT_OK if report.ok else EXIT_FAILED


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
