"""`curator export`: a category-balanced file per device (JSONL; formats in ``formats``), a
manifest and a dataset card.  ``run`` does the work; this package's names are its public face."""

from curator.export.run import CARD, MANIFEST, ExportError, ExportOptions, ExportResult, export
from curator.export.shortfall import DeviceShortfall, generate_command, shortfall_message, shortfall_summary
from curator.records import MIB

__all__ = [
    "CARD",
    "MANIFEST",
    "MIB",
    "DeviceShortfall",
    "ExportError",
    "ExportOptions",
    "ExportResult",
    "export",
    "generate_command",
    "shortfall_message",
    "shortfall_summary",
]
