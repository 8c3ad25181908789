"""Options and helpers shared by the commands."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path

import click

from curator.records import DEVICES, MIB
from curator.store import Store, StoreError

DEFAULT_DB = "curator.db"
DEVICE_CHOICES = (*DEVICES, "all")

db_option = click.option(
    "--db",
    type=click.Path(dir_okay=True, path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    help="The curator store (an SQLite file).",
)


def device_option(help_text: str = "Which generated code: CPU C++, CUDA C++, or both."):
    """The --device option every command shares (cpu, cuda or all; default all)."""
    return click.option("--device", type=click.Choice(DEVICE_CHOICES), default="all", show_default=True, help=help_text)


def devices_of(device: str) -> tuple[str, ...]:
    return DEVICES if device == "all" else (device,)


def seed_option(help_text: str):
    return click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help=help_text)


def workers_option(help_text: str):
    return click.option(
        "--workers", type=click.IntRange(min=1, max=256), default=None, help=f"{help_text}  [default: all cores]"
    )


def threshold_option(help_text: str):
    """--threshold of near-duplicate clusters; its default is the library's."""
    from curator.neardup import DEFAULT_THRESHOLD

    return click.option(
        "--threshold",
        type=click.FloatRange(min=0, max=1, min_open=True),
        default=DEFAULT_THRESHOLD,
        show_default=True,
        help=help_text,
    )


def json_option(help_text: str = "Print the figures as JSON."):
    return click.option("--json", "as_json", is_flag=True, help=help_text)


def category_option(help_text: str, param_type=None):
    return click.option("--category", "categories", type=param_type, multiple=True, help=help_text)


def open_store(path: Path, *, create: bool = False, readonly: bool = False) -> Store:
    """Open a store or exit with one clear line (exit code 1)."""
    try:
        return Store.open(path, create=create, readonly=readonly)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None


class Interrupted(click.ClickException):
    exit_code = 130


@contextlib.contextmanager
def interruptible(what: str) -> Iterator[None]:
    """Turn Ctrl-C and SIGTERM into one line and exit code 130; committed work stays."""

    def on_term(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(
            f"{what} interrupted; everything committed is kept, rerun the same command to resume"
        ) from None
    finally:
        signal.signal(signal.SIGTERM, old)


def mib(n: int | float) -> str:
    return f"{n / MIB:,.2f} MiB"
