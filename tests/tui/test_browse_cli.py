"""`curator browse` refuses a missing store or a file that is not a store in one line."""

import hashlib

from click.testing import CliRunner

from curator.cli import main


def test_missing_store(tmp_path):
    res = CliRunner().invoke(main, ["browse", "--db", str(tmp_path / "nope.db")])
    assert res.exit_code == 1
    assert "no curator store" in res.output and "curator generate" in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "nope.db").exists()


def test_not_a_store_is_left_untouched(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 20)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    res = CliRunner().invoke(main, ["browse", "--db", str(path)])
    assert res.exit_code == 1 and "not an SQLite database" in res.output
    assert "Traceback" not in res.output
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_help():
    res = CliRunner().invoke(main, ["browse", "--help"])
    assert res.exit_code == 0 and "--db" in res.output
