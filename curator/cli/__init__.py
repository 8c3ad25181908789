"""The `curator` command line: a click group whose commands live one per module here.

Exit codes: 0 success, 1 a failure the message explains, 2 bad usage (wrong option or
value), 130 interrupted (Ctrl-C or SIGTERM; committed work is kept and a rerun resumes).
"""

from __future__ import annotations

import click

from curator import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="curator")
def main() -> None:
    """Make paired datasets of NVIDIA Warp kernels and the C++/CUDA Warp generates for them."""


def _register() -> None:
    from curator.cli import generate, stats

    for module in (generate, stats):
        main.add_command(module.command)


_register()
