"""The pinned numeric path: which environment each CPU gets, that `python -m stages` sets it
before a stage loads numpy or torch, and that the fingerprint tells two bit-paths apart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from stages.numeric_path import AVX2_PATH, X86_V3_FLAGS, cpu_record, in_effect, numeric_path, this_machine, thread_env
from tests.import_graph import ROOT

NUMERICS = {"pin": True, "threads": 2}
AVX2_CPUINFO = ("processor\t: 0\nvendor_id\t: GenuineIntel\n"
                f"flags\t\t: fpu sse sse2 {' '.join(X86_V3_FLAGS)} avx512f amx_bf16\n\nprocessor\t: 1\n")
ARM_CPUINFO = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes sha1 sha2 crc32\n"


def test_an_avx2_x86_cpu_gets_every_library_on_its_avx2_path_and_fixed_threads():
    path = numeric_path(NUMERICS, AVX2_CPUINFO, "x86_64")
    assert path.pinned and path.why_not is None
    assert path.env == {**AVX2_PATH, **thread_env(2)}
    assert path.env["MKL_CBWR"] == "AVX2" and path.env["NPY_ENABLE_CPU_FEATURES"] == "X86_V3"
    assert path.env["OMP_NUM_THREADS"] == path.env["MKL_NUM_THREADS"] == path.env["OPENBLAS_NUM_THREADS"] == "2"


def test_an_aarch64_cpu_gets_only_the_thread_counts_and_says_why():
    path = numeric_path(NUMERICS, ARM_CPUINFO, "aarch64")
    assert not path.pinned and path.env == thread_env(2)
    assert "aarch64" in path.why_not


def test_an_x86_cpu_without_avx2_gets_only_the_thread_counts_and_names_what_it_lacks():
    path = numeric_path(NUMERICS, AVX2_CPUINFO.replace(" avx2 ", " "), "x86_64")
    assert not path.pinned and path.env == thread_env(2) and "avx2" in path.why_not


def test_pin_false_leaves_the_kernels_alone_but_still_fixes_the_threads():
    path = numeric_path({"pin": False, "threads": 3}, AVX2_CPUINFO, "x86_64")
    assert not path.pinned and path.env == thread_env(3) and "pin" in path.why_not


def test_the_record_for_metrics_has_the_documented_keys():
    record = numeric_path(NUMERICS, AVX2_CPUINFO, "x86_64").describe()
    assert set(record) == {"pinned", "threads", "env", "why_not"} and record["threads"] == 2
    json.dumps(record)  # a metrics value


def test_a_process_whose_environment_lacks_the_path_is_recorded_as_not_pinned():
    path = numeric_path(NUMERICS, AVX2_CPUINFO, "x86_64")
    assert in_effect(path, path.env) == path
    started_elsewhere = in_effect(path, {**path.env, "MKL_CBWR": "AUTO"})
    assert not started_elsewhere.pinned and "MKL_CBWR" in started_elsewhere.why_not


def test_the_cpu_record_holds_the_vendor_and_the_widest_instruction_sets():
    assert cpu_record(AVX2_CPUINFO) == {"vendor": "GenuineIntel", "flags": ["avx2", "avx512f", "amx_bf16"]}


# --- the runner, in a subprocess: the environment must be in place before numpy/torch load ---

def run_python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -c code`` from the repository root (the worktree's ``stages``, not an installed copy)."""
    environ = {**os.environ, **(env or {}), "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True,
                          timeout=120)


def run_runner(args: list[str], extra_stage_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Exactly ``python -m stages <args>``, optionally with a test-only module directory added to the
    ``stages`` package's path (so no test code lives in stages/)."""
    return run_python(textwrap.dedent(f"""
        import runpy, sys
        import stages
        {f"stages.__path__.append({str(extra_stage_dir)!r})" if extra_stage_dir else ""}
        sys.argv = ["-m", *{args!r}]
        runpy.run_module("stages", run_name="__main__", alter_sys=True)
    """))


PROBE_STAGE = '''
import json, os, sys
loaded_before = sorted(m for m in ("numpy", "torch") if m in sys.modules)
import torch
from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
print(json.dumps({"name": __name__, "loaded_before": loaded_before, "environ": dict(os.environ),
                  "torch_threads": torch.get_num_threads(),
                  "numpy_dispatch": [t for t in __cpu_dispatch__ if __cpu_features__.get(t)]}))
'''


def test_the_runner_sets_the_path_before_the_stage_imports_numpy_or_torch(tmp_path: Path):
    (tmp_path / "envprobe.py").write_text(PROBE_STAGE)
    result = run_runner(["envprobe"], extra_stage_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    numerics = yaml.safe_load((ROOT / "params.yaml").read_text())["numerics"]
    path = this_machine(numerics)
    assert seen["name"] == "__main__" and seen["loaded_before"] == []
    assert {k: seen["environ"].get(k) for k in path.env} == path.env
    assert seen["torch_threads"] == int(numerics["threads"])
    if path.pinned:  # numpy dispatches no wider than x86-64-v3, even on an AVX-512 CPU
        assert seen["numpy_dispatch"] == ["X86_V3"]


def test_an_unknown_stage_name_fails_listing_the_stages():
    result = run_runner(["no_such_stage"])
    assert result.returncode != 0
    assert "no_such_stage" in result.stderr and "features" in result.stderr and "report" in result.stderr
    assert "common" not in result.stderr  # shared code is not a stage


# --- the fingerprint ---

FINGERPRINT = """
from fugu.models.backbone import load_backbone
from fugu.models.fingerprint import hidden_state_fingerprint
print(hidden_state_fingerprint(load_backbone({model!r}).model))
"""


def test_the_fingerprint_is_the_same_twice(tiny_backbone_dir: Path):
    from fugu.models.backbone import load_backbone
    from fugu.models.fingerprint import hidden_state_fingerprint

    model = load_backbone(tiny_backbone_dir).model
    assert hidden_state_fingerprint(model) == hidden_state_fingerprint(model)
    assert len(hidden_state_fingerprint(model)) == 16


def test_the_fingerprint_tells_one_thread_from_two_on_the_pinned_path(tiny_backbone_dir: Path):
    """The thread count is read when the libraries start (raising it in-process after a start on
    one thread did not move the bits, measured), so each count gets its own process."""
    if not this_machine(NUMERICS).pinned:
        pytest.skip(f"this machine is not on the pinned path: {this_machine(NUMERICS).why_not}")
    runs = [run_python(FINGERPRINT.format(model=str(tiny_backbone_dir)), env=this_machine({"pin": True, "threads": t}).env)
            for t in (1, 2)]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    one, two = (r.stdout.strip().splitlines()[-1] for r in runs)
    assert one != two
