"""RFC 6962 / RFC 9162 known-answer vectors (transparency-dev/merkle testdata).

Every file under ``tests/vectors/rfc9162/inclusion`` and ``.../consistency`` is run:
vectors with ``wantErr: false`` must verify, those with ``wantErr: true`` must be
rejected with :class:`ProofError`. Happy-path vectors are also regenerated with
:class:`MerkleTree` from the RFC 6962 reference leaves and must match exactly.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from ledger_verify.merkle import (
    MerkleTree,
    ProofError,
    leaf_hash,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

pytestmark = pytest.mark.unit

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "rfc9162"

# The leaves and roots of the RFC 6962 reference tree from which the vectors were made
# (transparency-dev/merkle proof/verify_test.go).
REFERENCE_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
REFERENCE_ROOTS = [
    bytes.fromhex(h)
    for h in (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]


def _files(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _proof(value: list[str] | None) -> list[bytes]:
    # Go marshals a nil slice as JSON null.
    return [_b64(p) for p in value or []]


INCLUSION = _files("inclusion")
CONSISTENCY = _files("consistency")


def _id(path: Path) -> str:
    return str(path.relative_to(VECTORS))


def test_all_vector_files_are_found() -> None:
    # Guards against a moved folder silently turning the parametrised tests into none.
    assert len(INCLUSION) >= 98
    assert len(CONSISTENCY) >= 98
    assert any(not _load(p)["wantErr"] for p in INCLUSION)
    assert any(_load(p)["wantErr"] for p in CONSISTENCY)


@pytest.mark.parametrize("path", INCLUSION, ids=_id)
def test_inclusion_vector(path: Path) -> None:
    v = _load(path)
    args = (_b64(v["leafHash"]), v["leafIdx"], v["treeSize"], _proof(v["proof"]), _b64(v["root"]))
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)
        assert root_from_inclusion_proof(*args[:4]) == args[4]


@pytest.mark.parametrize("path", CONSISTENCY, ids=_id)
def test_consistency_vector(path: Path) -> None:
    v = _load(path)
    args = (v["size1"], v["size2"], _proof(v["proof"]), _b64(v["root1"]), _b64(v["root2"]))
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_reference_tree_roots() -> None:
    tree = MerkleTree(leaf_hash(leaf) for leaf in REFERENCE_LEAVES)
    assert [tree.root(n) for n in range(1, 9)] == REFERENCE_ROOTS


@pytest.mark.parametrize("path", [p for p in INCLUSION if p.name == "happy-path.json"], ids=_id)
def test_generated_inclusion_proof_equals_vector(path: Path) -> None:
    v = _load(path)
    tree = MerkleTree(leaf_hash(leaf) for leaf in REFERENCE_LEAVES)
    assert tree.leaf_hash_at(v["leafIdx"]) == _b64(v["leafHash"])
    assert tree.root(v["treeSize"]) == _b64(v["root"])
    assert tree.inclusion_proof(v["leafIdx"], v["treeSize"]) == _proof(v["proof"])


@pytest.mark.parametrize(
    "path",
    [p for p in CONSISTENCY if p.name == "happy-path.json" and p.parent.name.isdigit()],
    ids=_id,
)
def test_generated_consistency_proof_equals_vector(path: Path) -> None:
    v = _load(path)
    tree = MerkleTree(leaf_hash(leaf) for leaf in REFERENCE_LEAVES)
    assert tree.root(v["size1"]) == _b64(v["root1"])
    assert tree.root(v["size2"]) == _b64(v["root2"])
    assert tree.consistency_proof(v["size1"], v["size2"]) == _proof(v["proof"])
