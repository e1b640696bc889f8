"""A trained vector + manifest rebuilds its coordinator; as a router it scores workers by name."""

from types import SimpleNamespace

import numpy as np
import pytest

from fugu.backbone import load_backbone
from fugu.cli import ROUTER_SPECS, build_parser
from fugu.trained import Manifest, TrinityRouter, load_trained, save_trained
from fugu.trinity import Trinity

WORKERS, ROLES = ["alpha", "beta", "gamma"], ["solver", "critic"]
CONVERSATIONS = [[{"role": "user", "content": "What is 2 + 2?"}], [{"role": "user", "content": "Name a prime."}]]


@pytest.fixture(scope="module")
def trained_dir(tiny_backbone_dir, tmp_path_factory):
    trinity = Trinity.build(load_backbone(tiny_backbone_dir), WORKERS, ROLES, [1])
    vector = np.random.default_rng(0).normal(size=trinity.layout.size).astype(np.float32)
    manifest = Manifest(WORKERS, ROLES, [1], "transcript", "test vector", mock=True)
    return save_trained(tmp_path_factory.mktemp("trained"), vector, trinity.layout, manifest), vector


def test_a_saved_vector_reloads_with_its_manifest(tiny_backbone_dir, trained_dir):
    out_dir, vector = trained_dir
    trinity, loaded, manifest = load_trained(out_dir, load_backbone(tiny_backbone_dir))
    np.testing.assert_array_equal(loaded, vector)
    assert trinity.workers == WORKERS and manifest.mock


def test_a_missing_manifest_names_the_file_and_the_stage(tiny_backbone_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="vector.json.*train_trinity"):
        load_trained(tmp_path, load_backbone(tiny_backbone_dir))


def test_router_scores_follow_the_pool_order_not_the_vector_order(tiny_backbone_dir, trained_dir):
    trinity, vector, _ = load_trained(trained_dir[0], load_backbone(tiny_backbone_dir))
    as_trained = TrinityRouter(trinity, vector, WORKERS).scores(CONVERSATIONS)
    reordered = TrinityRouter(trinity, vector, ["gamma", "alpha", "beta"]).scores(CONVERSATIONS)
    np.testing.assert_allclose(reordered, as_trained[:, [2, 0, 1]])


def test_a_pool_worker_without_a_head_row_is_refused(tiny_backbone_dir, trained_dir):
    trinity, vector, _ = load_trained(trained_dir[0], load_backbone(tiny_backbone_dir))
    with pytest.raises(ValueError, match="no head row for workers \\['delta'\\]"):
        TrinityRouter(trinity, vector, ["alpha", "delta"])


def test_fugu_serve_builds_the_trinity_router_from_flags(tiny_backbone_dir, trained_dir):
    args = build_parser().parse_args(["serve", "--workers", "w.yaml", "--backbone", str(tiny_backbone_dir),
                                      "--vector", str(trained_dir[0])])
    pool = SimpleNamespace(workers=[SimpleNamespace(name=n) for n in WORKERS])
    router = ROUTER_SPECS[args.router](args, pool)
    assert router.name == "trinity" and router.scores(CONVERSATIONS).shape == (2, 3)


def test_fugu_serve_trinity_without_a_vector_says_what_it_needs():
    args = build_parser().parse_args(["serve", "--workers", "w.yaml"])
    with pytest.raises(SystemExit, match="--backbone DIR and --vector DIR"):
        ROUTER_SPECS[args.router](args, SimpleNamespace(workers=[]))
