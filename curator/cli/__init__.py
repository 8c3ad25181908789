"""The `curator` command line: a click group whose commands live one per module here.

Exit codes: 0 success, 1 a failure the message explains, 2 bad usage (wrong option or
value), 130 interrupted (Ctrl-C or SIGTERM; committed work is kept and a rerun resumes).
"""

from __future__ import annotations

import sqlite3

import click

from curator import __version__
from curator.errors import CuratorError, WarpDriftError


class CuratorGroup(click.Group):
    """The one place errors become messages: a ``CuratorError`` (and storage errors that escape a
    command) turns into one line and exit code 1; Warp drift is named as curator's fault."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CuratorError as exc:
            raise click.ClickException(str(exc)) from None
        except WarpDriftError as exc:
            raise click.ClickException(f"internal error, please report it: {exc}") from None
        except sqlite3.OperationalError as exc:
            msg = str(exc)
            if "locked" in msg or "busy" in msg:
                raise click.ClickException(f"the store is busy (another curator command is writing): {msg}") from None
            if "full" in msg:
                raise click.ClickException(f"the disk is full ({msg}); everything committed before is kept") from None
            if "readonly" in msg or "read-only" in msg:
                raise click.ClickException(f"the store is read-only ({msg}); nothing was changed") from None
            raise click.ClickException(f"store error: {msg}") from None
        except sqlite3.DatabaseError as exc:
            raise click.ClickException(f"the store is corrupt or unreadable: {exc}") from None
        except OSError as exc:
            if exc.errno is None:
                raise
            raise click.ClickException(f"{exc.strerror}: {exc.filename or ''}".rstrip(": ")) from None


@click.group(cls=CuratorGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="curator")
def main() -> None:
    """Make paired datasets of NVIDIA Warp kernels and the C++/CUDA Warp generates for them."""


def _register() -> None:
    from curator.cli import browse, dedup, export, generate, ingest, merge, report, stats, verify
    from curator.cli import eval as eval_command

    for module in (generate, ingest, verify, merge, dedup, export, eval_command, report, stats, browse):
        main.add_command(module.command)


_register()
