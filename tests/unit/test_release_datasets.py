"""`datasets.load_dataset(EXPORT_DIR, CONFIG)` for cpu, cuda and paired, in JSONL and in
Parquet: every split of the card loads with the card's features and the manifest's counts, and
the Parquet and JSONL exports hold the same records."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_export import build, target_mb

from curator.cli import main

datasets = pytest.importorskip("datasets")
yaml = pytest.importorskip("yaml")
pq = pytest.importorskip("pyarrow.parquet")

CONFIGS = ("cpu", "cuda", "paired")


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hf")
    db = build(tmp / "s.db", per_cat=50)
    outs = {}
    for fmt in ("jsonl", "parquet"):
        outs[fmt] = tmp / fmt
        res = CliRunner().invoke(
            main,
            [
                "export",
                "--db",
                str(db),
                "--out",
                str(outs[fmt]),
                "--target-mb",
                str(target_mb(db, 0.4)),
                "--splits",
                "train=0.8,validation=0.1,test=0.1",
                "--paired",
                "--format",
                fmt,
                "--dedup",
            ],
        )
        assert res.exit_code == 0, res.output
    return tmp, outs


def card_yaml(out) -> dict:
    return yaml.safe_load((out / "README.md").read_text().split("---\n")[1])


def load(tmp, out, config):
    return datasets.load_dataset(str(out), config, cache_dir=str(tmp / "hf-cache"))


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_every_config_and_split_loads_with_the_cards_features(exports, fmt):
    tmp, outs = exports
    out = outs[fmt]
    front, manifest = card_yaml(out), json.loads((out / "manifest.json").read_text())
    assert [c["config_name"] for c in front["configs"]] == list(CONFIGS)
    infos = {i["config_name"]: i for i in front["dataset_info"]}
    for cfg in front["configs"]:
        name = cfg["config_name"]
        ds = load(tmp, out, name)
        assert list(ds) == [f["split"] for f in cfg["data_files"]] == ["train", "validation", "test"]
        features = datasets.Features._from_yaml_list(infos[name]["features"])
        for split, part in ds.items():
            assert part.features == features, (name, split)
            assert part.num_rows == manifest["configs"][name]["splits"][split]["records"] > 0
        if name == "paired":
            row = ds["train"][0]
            assert "device" not in row and row["cpu_forward"] and row["cuda_forward"]


def test_parquet_and_jsonl_hold_the_same_records(exports):
    _tmp, outs = exports
    mj = json.loads((outs["jsonl"] / "manifest.json").read_text())
    mp = json.loads((outs["parquet"] / "manifest.json").read_text())
    for config in CONFIGS:
        for split, sj in mj["configs"][config]["splits"].items():
            sp = mp["configs"][config]["splits"][split]
            lines = [json.loads(x) for x in (outs["jsonl"] / sj["file"]).read_text(encoding="utf-8").splitlines()]
            table = pq.read_table(outs["parquet"] / sp["file"])
            assert table.to_pylist() == lines, (config, split)  # same records, same order, same values
            assert sp["bytes"] == sj["bytes"] == (outs["jsonl"] / sj["file"]).stat().st_size
            assert sp["file_bytes"] == (outs["parquet"] / sp["file"]).stat().st_size
            meta = pq.ParquetFile(outs["parquet"] / sp["file"]).metadata
            assert meta.num_rows == len(lines)
