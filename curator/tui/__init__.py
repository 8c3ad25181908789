"""The `curator browse` review TUI (Textual).  Only `curator.cli.browse` and the tests import it."""
