"""The regulator's verifier on its own: with the server's packages and dependencies
made unimportable, `ledger_verify` imports, `python -m ledger_verify` and the
zipapp verify a real bundle and name what was tampered with; `make verifier`
builds a wheel that requires only cryptography; usage errors take one line."""

from __future__ import annotations

import email.parser
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_verify import __version__
from ledger_verify.checkpoints import verifier_key
from tests.verifier.conftest import ExportedBundle

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BLOCKED = (
    "eventsourcing",
    "flask",
    "flask_smorest",
    "apscheduler",
    "marshmallow",
    "psycopg",
    "click",
    "jwt",
    "domain",
    "security",
    "projections",
    "scheduler",
    "web",
    "demo",
)
# Run as `python -I launcher.py TARGET ARGS...`: the finder is installed before
# anything else is imported, then TARGET runs as `python -m TARGET` (a module name),
# as `python TARGET` (a .pyz), or `import-all` imports every module of ledger_verify.
LAUNCHER = """\
import sys

BLOCKED = frozenset(sys.argv[1].split(","))


class Blocker:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked: the verifier must not need it")
        return None


early = sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
if early:
    sys.exit(f"imported before the blocker: {early}")
sys.meta_path.insert(0, Blocker())

import importlib, pkgutil, runpy

target, args = sys.argv[2], sys.argv[3:]
if target.endswith(".pyz"):
    sys.path.insert(0, target)
import ledger_verify

origin = ledger_verify.__file__
if target.endswith(".pyz") and not origin.startswith(target):
    sys.exit(f"ledger_verify came from {origin}, not from {target}")
if target == "import-all":
    for module in pkgutil.walk_packages(ledger_verify.__path__, "ledger_verify."):
        if module.name != "ledger_verify.__main__":
            importlib.import_module(module.name)
    print("imported", origin)
    sys.exit(0)
sys.argv = [target, *args]
if target.endswith(".pyz"):
    runpy.run_path(target, run_name="__main__")
else:
    runpy.run_module(target, run_name="__main__", alter_sys=True)
"""


@pytest.fixture(scope="module")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("launcher") / "launcher.py"
    path.write_text(LAUNCHER, "utf-8")
    return path


def blocked_run(launcher: Path, target: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run `target` in a fresh interpreter (isolated mode: no PYTHONPATH, no current
    folder on sys.path) in which the server's packages cannot be imported."""
    return subprocess.run(
        [sys.executable, "-I", str(launcher), ",".join(BLOCKED), target, *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=launcher.parent,
        timeout=300,
    )


def tampered(bundle: Path, tmp_path: Path, name: str, line: int, after: str) -> Path:
    """A copy of the bundle with one byte changed in line `line` of file `name`, in
    the first character following `after` on that line."""
    copy = tmp_path / f"tampered-{name}"
    shutil.copytree(bundle, copy)
    path = copy / name
    data = bytearray(path.read_bytes())
    start = 0
    for _ in range(line):
        start = data.index(b"\n", start) + 1
    at = data.index(after.encode(), start) + len(after)
    data[at] = ord("B") if data[at] != ord("B") else ord("C")
    path.write_bytes(bytes(data))
    return copy


def nth_line_seq(bundle: Path, name: str, line: int) -> int:
    return int(json.loads((bundle / name).read_text("utf-8").splitlines()[line])["seq"])


def test_ledger_verify_imports_without_the_server_or_its_dependencies(launcher: Path) -> None:
    result = blocked_run(launcher, "import-all")
    assert result.returncode == 0, result.stderr
    assert "imported" in result.stdout


def test_python_m_ledger_verify_verifies_a_real_bundle_without_the_server(
    launcher: Path, exported_bundle: ExportedBundle
) -> None:
    result = blocked_run(
        launcher, "ledger_verify", exported_bundle.path, "--trusted-vkey", exported_bundle.vkey
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok" in result.stdout.lower()


@pytest.mark.parametrize(
    ("name", "line", "after"),
    [
        ("leaves.jsonl", 40, '"ciphertext":"'),
        ("events.jsonl", 7, '"event_type":"'),
        ("keys.jsonl", 3, '"key":"'),
    ],
)
def test_one_changed_byte_fails_naming_the_file_and_seq(
    launcher: Path,
    exported_bundle: ExportedBundle,
    tmp_path: Path,
    name: str,
    line: int,
    after: str,
) -> None:
    seq = nth_line_seq(exported_bundle.path, name, line)
    copy = tampered(exported_bundle.path, tmp_path, name, line, after)
    result = blocked_run(launcher, "ledger_verify", copy, "--trusted-vkey", exported_bundle.vkey)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"  {name}: its SHA-256 differs from manifest.json" in result.stderr
    assert f" seq {seq}: " in result.stderr  # the checks that follow name the event


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make verifier` run on a copy of the sources (so the worktree's dist/ is left
    alone) with this test's own virtual environment; returns the copy's dist/."""
    work = tmp_path_factory.mktemp("make-verifier")
    shutil.copy2(ROOT / "Makefile", work / "Makefile")
    shutil.copy2(ROOT / "pyproject.toml", work / "pyproject.toml")
    shutil.copytree(
        ROOT / "verifier",
        work / "verifier",
        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"),
    )
    venv = Path(sys.prefix)
    stamp = venv / ".installed-run"
    assert stamp.exists(), "run `make .venv/.installed-dev` first"
    result = subprocess.run(
        ["make", "--no-print-directory", f"VENV={venv}", "-o", str(stamp), "verifier"],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return work / "dist"


def test_make_verifier_builds_a_wheel_that_requires_only_cryptography(built: Path) -> None:
    wheel = built / f"crm_ledger_verify-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata_name = f"crm_ledger_verify-{__version__}.dist-info/METADATA"
        metadata = email.parser.Parser().parsestr(archive.read(metadata_name).decode("utf-8"))
        entry_points = archive.read(
            f"crm_ledger_verify-{__version__}.dist-info/entry_points.txt"
        ).decode("utf-8")
    requires = metadata.get_all("Requires-Dist") or []
    assert [r.split(">")[0].split("=")[0].split(";")[0].strip() for r in requires] == [
        "cryptography"
    ]
    assert "ledger-verify = ledger_verify.cli:run" in entry_points
    tops = {name.split("/")[0] for name in names}
    assert tops == {"ledger_verify", f"crm_ledger_verify-{__version__}.dist-info"}
    assert "ledger_verify/py.typed" in names
    assert "ledger-verify" in (metadata.get_payload() or ""), "the README is the description"


def test_the_zipapp_verifies_the_bundle_without_the_server(
    built: Path, launcher: Path, exported_bundle: ExportedBundle, tmp_path: Path
) -> None:
    pyz = built / "ledger-verify.pyz"
    with zipfile.ZipFile(pyz) as archive:
        assert {name.split("/")[0] for name in archive.namelist()} == {
            "ledger_verify",
            "__main__.py",
        }
    ok = blocked_run(
        launcher, str(pyz), exported_bundle.path, "--trusted-vkey", exported_bundle.vkey
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    copy = tampered(exported_bundle.path, tmp_path, "leaves.jsonl", 12, '"nonce":"')
    seq = nth_line_seq(exported_bundle.path, "leaves.jsonl", 12)
    bad = blocked_run(launcher, str(pyz), copy, "--trusted-vkey", exported_bundle.vkey)
    assert bad.returncode == 1 and f" seq {seq}: " in bad.stderr
    version = blocked_run(launcher, str(pyz), "--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"ledger-verify {__version__}")


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ledger_verify", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("--bogus",),
        ("a", "b"),
        ("--trusted-vkey",),
        ("{bundle}", "--trusted-vkey", "{missing}"),
        ("{missing}",),
        ("{bundle}", "--trusted-vkey", "{garbage}"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    args: tuple[str, ...], exported_bundle: ExportedBundle, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.vkey"
    garbage.write_text("not a key\n", "utf-8")
    values = {"bundle": exported_bundle.path, "missing": tmp_path / "nope", "garbage": garbage}
    result = run_cli(*(arg.format(**values) for arg in args))
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ledger-verify: error: "), result.stderr


def test_version_and_help(exported_bundle: ExportedBundle) -> None:
    version = run_cli("--version")
    assert (version.returncode, version.stdout) == (0, f"ledger-verify {__version__}\n")
    helped = run_cli("--help")
    assert helped.returncode == 0 and "exit status" in helped.stdout


def test_without_a_trusted_key_it_verifies_and_says_what_that_proves(
    exported_bundle: ExportedBundle,
) -> None:
    result = run_cli(exported_bundle.path)
    assert result.returncode == 0
    assert "--trusted-vkey" in result.stderr


def test_another_trusted_key_fails(exported_bundle: ExportedBundle, tmp_path: Path) -> None:
    name = exported_bundle.vkey.read_text("utf-8").split("+", 1)[0]
    path = tmp_path / "other.vkey"
    path.write_text(verifier_key(name, Ed25519PrivateKey.generate().public_key()) + "\n")
    result = run_cli(exported_bundle.path, "--trusted-vkey", path)
    assert result.returncode == 1, result.stderr
    assert "log.vkey" in result.stderr
