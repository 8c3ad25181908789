"""`curator export`: category-balanced files per config (cpu, cuda, paired) and split, in one
format (``formats``), a sealed manifest and a dataset card.  ``run`` does the work;
this package's names are its public face."""

from curator.export.release import CARD, MANIFEST, CheckResult, NotAnExport, check, load_manifest
from curator.export.run import ExportError, ExportOptions, ExportResult, export
from curator.export.shortfall import DeviceShortfall, generate_command, shortfall_message, shortfall_summary
from curator.export.splits import SplitError, parse_splits
from curator.records import MIB

__all__ = [
    "CARD",
    "MANIFEST",
    "MIB",
    "CheckResult",
    "DeviceShortfall",
    "ExportError",
    "ExportOptions",
    "ExportResult",
    "NotAnExport",
    "SplitError",
    "check",
    "export",
    "generate_command",
    "load_manifest",
    "parse_splits",
    "shortfall_message",
    "shortfall_summary",
]
