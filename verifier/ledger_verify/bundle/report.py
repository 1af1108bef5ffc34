"""The outcome of verifying a bundle: each failed check, the counts, the summary text."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Failure:
    """One check that did not hold: the file it concerns, the seq if any, what."""

    file: str
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.seq is None else f"{self.file} seq {self.seq}"
        return f"{where}: {self.message}"


@dataclass
class BundleReport:
    """The outcome of `verify_bundle`: `ok` only if no check failed."""

    events: int = 0
    decrypted: int = 0
    erased: int = 0
    origin: str = ""
    checkpoint_size: int = 0
    key: str = ""
    bundle_digest: str = ""
    cosigned_by: list[str] = field(default_factory=list)
    scope: str = ""
    """What the bundle was proven complete for: the whole log, its customers (by id),
    or "" (a window alone: every event of its log range)."""
    window: tuple[int, int] | None = None
    """A window bundle's proven log range [start, end) (window.json)."""
    window_recorded: tuple[str, str] = ("", "")
    """When the firm's log recorded the window's two checkpoints (window.json)."""
    window_attested: list[str] = field(default_factory=list)
    """Trusted witnesses that cosigned the window's `from` checkpoint by its start."""
    failures: list[Failure] = field(default_factory=list)
    failure_count: int = 0
    max_failures: int = 200

    @property
    def ok(self) -> bool:
        return self.failure_count == 0

    def fail(self, file: str, seq: int | None, message: str) -> None:
        self.failure_count += 1
        if len(self.failures) < self.max_failures:
            self.failures.append(Failure(file, seq, message))


class SeqSet:
    """A set of ints in [0, limit) as a bitmap: one bit per possible seq, so memory
    is bounded by the limit (the checkpoint's size), never by a number a bundle
    states."""

    def __init__(self, limit: int = 1 << 40) -> None:
        self.bits = bytearray()
        self.limit = limit

    def add(self, seq: int) -> bool:
        """Add `seq`; False if it was already there; ValueError if it is not in
        [0, limit) (callers check against the checkpoint's size first)."""
        if not 0 <= seq < self.limit:
            raise ValueError(f"seq {seq} is not below {self.limit}")
        byte, bit = divmod(seq, 8)
        if byte >= len(self.bits):
            self.bits.extend(bytes(byte + 1 - len(self.bits)))
        if self.bits[byte] >> bit & 1:
            return False
        self.bits[byte] |= 1 << bit
        return True

    def __contains__(self, seq: int) -> bool:
        byte, bit = divmod(seq, 8)
        return byte < len(self.bits) and bool(self.bits[byte] >> bit & 1)


def summary(report: BundleReport) -> str:
    """The one-paragraph outcome printed by `ledger verify-bundle`."""
    if report.ok:
        return (
            f"ok: {report.events} events ({report.decrypted} decrypted, {report.erased} "
            f"erased) verified against checkpoint {report.origin} size "
            f"{report.checkpoint_size}, key {report.key}\n"
            + (
                f"cosigned by {len(report.cosigned_by)} trusted witness(es): "
                f"{', '.join(report.cosigned_by)}\n"
                if report.cosigned_by
                else ""
            )
            + (
                f"complete for {report.scope}: every event of "
                + (
                    "the log below the checkpoint size\n"
                    if report.scope == "the whole log"
                    else "each up to the checkpoint (through the subject map it signs)\n"
                )
                if report.scope and report.window is None
                else ""
            )
            + (
                "complete for the window's log range"
                + (f" and {report.scope}" if report.scope else "")
                + ": every event of its scope with a seq "
                f"in [{report.window[0]}, {report.window[1]}), between the checkpoints "
                f"'from' ({report.window_recorded[0]}) and 'to' ({report.window_recorded[1]}, "
                "by the firm's clock)\n"
                if report.window is not None
                else ""
            )
            + (
                "the window's start is attested by trusted witness(es) that cosigned its "
                f"'from' checkpoint by then: {', '.join(report.window_attested)}\n"
                if report.window_attested
                else ""
            )
            + f"bundle digest (SHA-256 of manifest.json): {report.bundle_digest}"
        )
    lines = [f"FAILED: {report.failure_count} check(s) did not hold"]
    lines += [f"  {failure}" for failure in report.failures]
    if report.failure_count > len(report.failures):
        lines.append(f"  ... and {report.failure_count - len(report.failures)} more")
    return "\n".join(lines)
