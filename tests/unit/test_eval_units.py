"""`curator eval` parts that need no Warp: pass@k against a hand computation, the static screen,
the comparison's tolerances, prediction-file errors, the baselines' renaming and no-op body."""

from __future__ import annotations

import json

import numpy as np
import pytest

from curator.eval import EvalError
from curator.eval.baselines import mangled_name, noop, renamed
from curator.eval.compare import differs, first_difference
from curator.eval.passk import pass_at_k
from curator.eval.predictions import read_predictions
from curator.eval.screen import screen


def test_pass_at_k_matches_a_hand_count():
    # 5 samples, 2 correct, k=2: of the C(5,2)=10 pairs, the C(3,2)=3 of two wrong ones fail -> 7/10
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)
    assert pass_at_k(5, 2, 1) == pytest.approx(0.4)  # c/n
    assert pass_at_k(4, 3, 2) == 1.0  # a single wrong sample cannot fill a pair
    assert pass_at_k(10, 0, 5) == 0.0
    # 6 samples, 1 correct, k=3: the triples holding it, C(5,2)=10, of C(6,3)=20
    assert pass_at_k(6, 1, 3) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        pass_at_k(2, 1, 3)


@pytest.mark.parametrize(
    "code",
    [
        "#include <stdio.h>\nvoid f() {}",
        'void f() { FILE* fh = fopen("/etc/hostname", "r"); }',
        'extern "C" int creat(const char*, int);\nvoid f() { creat("/tmp/x", 0644); }',
        'void f() { asm("syscall"); }',
        'void f() { system ("rm -rf /"); }',
        'void f() { std::ofstream o("x"); }',
    ],
)
def test_screen_rejects_system_access(code):
    assert screen(code)


def test_screen_passes_warp_code_and_ignores_comments():
    code = 'extern "C" __global__ void k_cuda_kernel_forward()\n{\n    // open(x) in a comment\n'
    code += "    printf(var_1, var_0);\n}\n"
    assert screen(code, "cuda") == ""
    assert screen(code, "cpu")  # extern "C" is Warp's only on CUDA kernels


def test_compare_tolerances_nan_and_integers():
    a = np.array([1.0, np.nan, np.inf, 2.0], dtype=np.float32)
    assert differs(a, a.copy()) == ""
    assert differs(a, a * (1 + 1e-6)) == ""  # within float32 tolerance (NaN and Inf stay put)
    b = a.copy()
    b[1] = 0.0
    assert "flat index 1" in differs(a, b)  # a NaN must stay a NaN
    b = a.copy()
    b[3] = 2.01
    assert "flat index 3" in differs(a, b)
    i = np.arange(4, dtype=np.int32)
    assert differs(i, i + np.array([0, 0, 1, 0], dtype=np.int32)).startswith(
        "1 element(s) differ, first at flat index 2"
    )
    assert first_difference([{"x": i}], [{"x": i, "y": i}]).startswith("seed 0: arrays")


def _write(tmp_path, lines: list[str]):
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"id": "a", "forward": "x"}', "{not json"], "p.jsonl:2: bad JSON"),
        (['{"id": "zz", "forward": "x"}'], "p.jsonl:1: unknown id 'zz'"),
        (
            ['{"id": "a", "forward": "x", "sample": 1}', '{"id": "a", "forward": "y", "sample": 1}'],
            "p.jsonl:2: duplicate sample 1",
        ),
        (['{"id": "a"}'], "p.jsonl:1: missing field 'forward'"),
        (['{"forward": "x"}'], "p.jsonl:1: missing field 'id'"),
        (['{"id": "a", "forward": "x", "sample": -1}'], "p.jsonl:1: field 'sample'"),
    ],
)
def test_malformed_predictions_name_the_line(tmp_path, lines, message):
    with pytest.raises(EvalError) as info:
        read_predictions(_write(tmp_path, lines), {"a"}, ("forward",))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_predictions_with_samples(tmp_path):
    path = _write(tmp_path, [json.dumps({"id": "a", "forward": "x", "sample": s}) for s in range(3)])
    assert [p.sample for p in read_predictions(path, {"a"}, ("forward",))] == [0, 1, 2]


FORWARD = (
    "\n\ntemplate <bool c>\nstatic void k_1a2b_abc12345_cpu_kernel_forward(\n"
    "    wp_args_k_1a2b_abc12345 *_wp_args)\n{\n    var_0 = 1;\n}\n"
)


def test_renamed_and_noop():
    donor = {"pieces": {"forward": FORWARD}}
    target = {"pieces": {"forward": FORWARD.replace("k_1a2b_abc12345", "other_9f_00ff00ff")}}
    assert mangled_name(donor["pieces"]) == "k_1a2b_abc12345"
    assert renamed(FORWARD, donor, target) == target["pieces"]["forward"]
    empty = noop(FORWARD)
    assert empty.endswith("*_wp_args)\n{\n}\n") and "var_0" not in empty


def test_renamed_maps_parameters_by_position():
    args_a = "struct wp_args_k_1a2b_abc12345 {\n    wp::array_t<wp::float32> src;\n    wp::float32 gain;\n};\n"
    args_b = "struct wp_args_m_3c_00ff00ff {\n    wp::array_t<wp::float32> xs;\n    wp::float32 scale;\n};\n"
    body = "    wp::float32 var_gain = _wp_args->gain;\n    wp_contiguous_args.src.strides[0] = 4;\n    adj_src = 0;\n"
    donor = {"pieces": {"forward": FORWARD.replace("    var_0 = 1;\n", body), "args": args_a}}
    target = {"pieces": {"forward": FORWARD.replace("k_1a2b_abc12345", "m_3c_00ff00ff"), "args": args_b}}
    out = renamed(donor["pieces"]["forward"], donor, target)
    assert "var_scale = _wp_args->scale;" in out and "wp_contiguous_args.xs.strides" in out and "adj_xs = 0" in out
    assert "gain" not in out and "src" not in out and "m_3c_00ff00ff_cpu_kernel_forward" in out
