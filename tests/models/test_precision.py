"""Serving precision: bf16 only where the CPU has it and the evidence adopts it; forced bf16 warns."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import torch

from fugu.models.backbone import load_backbone
from fugu.models.precision import (
    EVIDENCE_FILE,
    MIN_QUESTIONS,
    bf16_adopted,
    cpu_kind,
    isa_cap,
    native_bf16,
    pipeline_dtype,
    serving_precision,
)
from fugu.trinity.coordinator import Trinity
from fugu.trinity.router import TrinityRouter

AMX_FLAGS, AVX2_FLAGS = {"avx2", "avx512f", "amx_bf16"}, {"avx2", "fma"}
AMX, AVX2 = True, False  # whether the CPU multiplies bf16 natively
GOOD = {"trained_head": True, "agreement": {"n": 1200, "share": 0.995}, "accuracy_difference": {"ci": [-0.004, 0.003]}}


@pytest.mark.parametrize("evidence, adopted, why", [
    (None, False, "no precision evidence"),
    ({**GOOD, "trained_head": False}, False, "random head"),
    ({**GOOD, "agreement": {"n": MIN_QUESTIONS - 1, "share": 1.0}}, False, "fewer than"),
    ({**GOOD, "agreement": {"n": 1200, "share": 0.98}}, False, "under 99%"),
    ({**GOOD, "accuracy_difference": {"ci": [0.001, 0.02]}}, False, "excludes 0"),
    (GOOD, True, "agree with fp32 on 99.5% of 1200"),
])
def test_bf16_is_adopted_only_on_enough_agreeing_evidence(evidence, adopted, why):
    got, reason = bf16_adopted(evidence)
    assert got is adopted and why in reason


def write_evidence(root, evidence):
    (root / EVIDENCE_FILE).parent.mkdir(parents=True, exist_ok=True)
    (root / EVIDENCE_FILE).write_text(json.dumps(evidence))


def test_auto_serves_bf16_only_on_a_native_cpu_with_adopting_evidence(tmp_path):
    assert serving_precision("auto", tmp_path, AMX).name == "fp32"  # no evidence yet
    write_evidence(tmp_path, GOOD)
    assert serving_precision("auto", tmp_path, AMX).dtype == torch.bfloat16
    assert serving_precision("auto", tmp_path, AVX2).name == "fp32"  # evidence, but no bf16 hardware
    assert serving_precision("fp32", tmp_path, AMX).dtype == torch.float32


def test_forced_bf16_without_native_support_runs_with_a_measured_slowdown_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="fugu.models.precision"):
        precision = serving_precision("bf16", tmp_path, AVX2)
    assert precision.dtype == torch.bfloat16 and "emulated" in precision.why
    assert "measured" in caplog.text and "× the time of fp32" in caplog.text


def test_native_bf16_needs_the_hardware_and_no_onednn_cap_below_it():
    assert native_bf16(AMX_FLAGS) and not native_bf16(AVX2_FLAGS)
    # the AVX2 emulation (ONEDNN_MAX_CPU_ISA=AVX2) on an AMX CPU: oneDNN runs bf16 in software there
    assert not native_bf16(AMX_FLAGS, isa_cap({"ONEDNN_MAX_CPU_ISA": "AVX2"}))
    assert native_bf16(AMX_FLAGS, isa_cap({"ONEDNN_MAX_CPU_ISA": "avx512_core_amx"}))
    assert native_bf16(AMX_FLAGS, isa_cap({"ONEDNN_MAX_CPU_ISA": "ALL"}))
    assert isa_cap({}) is None and isa_cap({"DNNL_MAX_CPU_ISA": "AVX2"}) == "AVX2"
    assert "emulated" in cpu_kind(AMX_FLAGS, "AVX2") and cpu_kind(AVX2_FLAGS) == "no native bf16 (AVX2 class)"
    assert cpu_kind(AMX_FLAGS).startswith("native bf16")


def test_the_pipeline_is_fp32_unless_bf16_is_opted_into_off_the_pinned_path():
    assert pipeline_dtype("fp32", pinned=True) == torch.float32
    with pytest.raises(ValueError, match="numerics.pin: false"):
        pipeline_dtype("bf16", pinned=True)
    assert pipeline_dtype("bf16", pinned=False) == torch.bfloat16
    with pytest.raises(ValueError, match="features.dtype"):
        pipeline_dtype("fp16", pinned=False)


def test_an_unknown_dtype_is_refused(tmp_path):
    with pytest.raises(ValueError, match="router dtype"):
        serving_precision("fp16", tmp_path, AMX)


def test_a_bf16_router_decides_as_fp32_and_refuses_other_offsets(tiny_backbone_dir):
    workers = ["a", "b", "c"]
    conversations = [[{"role": "user", "content": f"Question {i}: what is {i} plus {i * 7}?"}] for i in range(6)]
    fp32 = Trinity.build(load_backbone(tiny_backbone_dir), workers, ["solver"], [0])
    bf16 = Trinity.build(load_backbone(tiny_backbone_dir), workers, ["solver"], [0])
    vector = np.random.default_rng(0).normal(0, 0.3, fp32.layout.size).astype(np.float32)
    want = TrinityRouter(fp32, vector, workers).scores(conversations)
    got = TrinityRouter(bf16, vector, workers, dtype=torch.bfloat16).scores(conversations)
    assert next(bf16.model.parameters()).dtype == torch.bfloat16
    assert not np.array_equal(got, want)  # it did compute in another precision
    np.testing.assert_allclose(got, want, atol=0.1 * np.abs(want).max())
    with pytest.raises(ValueError, match="baked in"):
        bf16.hidden_states(conversations[:1], np.ones(bf16.layout.n_svf, np.float32))
