"""Rebuild the console's catalogs: messages.pot from the sources, each language's .po
updated from it, and the compiled .mo the app reads (committed: no build step).

    .venv/bin/python -m web.console.translations.build
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
CONSOLE = HERE.parent


def main() -> None:
    pybabel = [sys.executable, "-m", "babel.messages.frontend"]
    pot = HERE / "messages.pot"
    subprocess.run(
        [*pybabel, "extract", "-F", str(CONSOLE / "babel.cfg"), "-k", "_l", "--omit-header",
         "--no-location", "-o", str(pot), str(CONSOLE)],
        check=True,
    )  # fmt: skip
    subprocess.run(
        [*pybabel, "update", "--no-fuzzy-matching", "-i", str(pot), "-d", str(HERE)], check=True
    )
    subprocess.run([*pybabel, "compile", "-d", str(HERE)], check=True)


if __name__ == "__main__":
    main()
