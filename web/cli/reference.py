"""docs/cli.md, generated from the commands themselves: `python -m web.cli.reference`
(`make docs`). A test regenerates it and fails when the checked-in page differs."""

from __future__ import annotations

from collections.abc import Iterator

import click

from web.cli import main
from web.cli.exits import EXIT_CODES
from web.cli.group import ENVIRONMENT_TEXT

WIDTH = 88
"""Help is rendered at a fixed width so that the page does not depend on a terminal."""

INTRO = """\
# The `ledger` command line

<!-- Generated from the commands by `python -m web.cli.reference`; run `make docs`
     after changing a command (a test fails while this page is out of date). -->

`ledger` is installed with the server (`make run` or `pip install -e .`); `ledger
COMMAND -h` (or `--help`) prints the section below for that command, `ledger
--version` the version.

Every command except `ledger init`, `ledger demo` and `ledger verify-bundle` refuses
to run where there is no ledger, and creates nothing there: a mistyped
`LEDGER_DATA_DIR` gives the one-line error *no ledger at DIR; set LEDGER_DATA_DIR
or run `ledger init`* and exit code 2, never a new empty ledger. `ledger init`
creates one and says where; run on an existing ledger it says so, changes nothing
and exits 0.
`ledger demo` creates the ledger too when there is none. `ledger verify` on an empty
log exits 1.
"""


def _walk(
    command: click.Command, name: str, parent: click.Context | None
) -> Iterator[tuple[str, click.Context]]:
    settings = {**command.context_settings, "terminal_width": WIDTH, "max_content_width": WIDTH}
    ctx = click.Context(command, info_name=name, parent=parent, **settings)
    yield ctx.command_path, ctx
    if isinstance(command, click.Group):
        for sub_name in command.list_commands(ctx):
            sub = command.get_command(ctx, sub_name)
            if sub is not None and not sub.hidden:
                yield from _walk(sub, sub_name, ctx)


def render() -> str:
    """The whole page, as Markdown."""
    pages = list(_walk(main, "ledger", None))
    out = [INTRO, "## Environment\n", ENVIRONMENT_TEXT + "\n", "## Exit codes\n"]
    out.append("| code | meaning |\n|---|---|")
    out.extend(f"| {code} | {meaning} |" for code, meaning in EXIT_CODES)
    out.append(
        "\nErrors are one line on stderr, `error: <message>` (a failed verification: "
        "`FAILED: <reason>`), never a traceback.\n"
    )
    out.append("## Commands\n")
    for path, _ctx in pages[1:]:
        anchor = path.replace(" ", "-")
        out.append(f"- [`{path}`](#{anchor})")
    out.append("")
    for path, ctx in pages:
        out.append(f"## {path}\n")
        out.append("```text")
        out.append(ctx.command.get_help(ctx))
        out.append("```\n")
    return "\n".join(out).rstrip("\n") + "\n"


if __name__ == "__main__":
    click.echo(render(), nl=False)
