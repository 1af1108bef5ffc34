"""The hand checks of docs/export-format.md §7 and of the bundle's README.txt run as
written, with a POSIX shell, openssl and Python with `cryptography`, on a real
bundle, and pass."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.verifier.conftest import ExportedBundle

pytestmark = pytest.mark.e2e

DOC = Path(__file__).resolve().parents[2] / "docs" / "export-format.md"


def run_shell(script: str, folder: Path) -> subprocess.CompletedProcess[str]:
    # `python3` is this interpreter, which has `cryptography`
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "PATH": path},
    )


def test_the_pages_openssl_steps_pass_on_a_real_bundle(
    exported_bundle: ExportedBundle, tmp_path: Path
) -> None:
    section = DOC.read_text("utf-8").split("## 7. Verifying by hand", 1)[1]
    script = section.split("```sh\n", 1)[1].split("```", 1)[0]
    bundle = tmp_path / "bundle"
    shutil.copytree(exported_bundle.path, bundle)
    result = run_shell(script, bundle)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout.split("\n")
    assert out.count("Signature Verified Successfully") == 2, result.stdout
    keys = [line for line in out if len(line) == 44 and line.endswith("=")]
    assert len(keys) == 2 and keys[0] == keys[1]  # log.pub and log.vkey: the same key
    key_id = (bundle / "log.vkey").read_text("utf-8").split("+")[1]
    assert out.count(key_id) == 2
    digest, listed = out[-3], out[-2].split()[0]
    assert digest == listed and re.fullmatch("[0-9a-f]{64}", digest)


def test_the_readme_scripts_pass_on_a_real_bundle(
    exported_bundle: ExportedBundle, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(exported_bundle.path, bundle)
    readme = (bundle / "README.txt").read_text("utf-8")
    assert "@@" not in readme
    scripts = re.findall(r"^python3 - <<'EOF'\n.*?^EOF\n", readme, flags=re.M | re.S)
    assert len(scripts) == 2
    included = run_shell(scripts[0], bundle)
    assert included.returncode == 0, included.stderr
    assert included.stdout == "all leaves are included in the checkpoint\n"
    decrypted = run_shell(scripts[1], bundle)
    assert decrypted.returncode == 0, decrypted.stderr
    decrypted_lines = decrypted.stdout.splitlines()
    assert len(decrypted_lines) == len((bundle / "keys.jsonl").read_bytes().splitlines())
    step1 = re.search(r"^   (python3 -c .*sha256sum -c --quiet)$", readme, flags=re.M)
    assert step1 is not None
    hashes = run_shell(step1.group(1), bundle)
    assert (hashes.returncode, hashes.stdout) == (0, ""), hashes.stderr
