"""The trained coordinator as a router: scores workers by name; `fugu serve --router trinity` builds it."""

from types import SimpleNamespace

import numpy as np
import pytest

from fugu.cli import ROUTER_SPECS, build_parser
from fugu.models.backbone import load_backbone
from fugu.trinity.coordinator import Trinity
from fugu.trinity.router import TrinityRouter
from fugu.trinity.spec import TrinitySpec, load_trinity
from fugu.trinity.vector import save_vector

WORKERS, ROLES = ["alpha", "beta", "gamma"], ["solver", "critic"]
CONVERSATIONS = [[{"role": "user", "content": "What is 2 + 2?"}], [{"role": "user", "content": "Name a prime."}]]


@pytest.fixture(scope="module")
def spec_file(tiny_backbone_dir, tmp_path_factory):
    trinity = Trinity.build(load_backbone(tiny_backbone_dir), WORKERS, ROLES, [1])
    out = tmp_path_factory.mktemp("trained")
    vector = np.random.default_rng(0).normal(size=trinity.layout.size).astype(np.float32)
    save_vector(out / "vector.npy", vector, trinity.layout)
    spec = TrinitySpec(backbone_dir=str(tiny_backbone_dir), vector=str(out / "vector.npy"), workers=WORKERS,
                       roles=ROLES, svf_layers=[1], trained_on="a random test vector", mock=True)
    return spec.save(out / "trinity.json")


def test_a_spec_remembers_what_trained_its_vector(spec_file):
    spec = TrinitySpec.load(spec_file)
    assert spec.mock and spec.trained_on == "a random test vector"


def test_router_scores_follow_the_pool_order_not_the_vector_order(spec_file):
    trinity, vector = load_trinity(TrinitySpec.load(spec_file))
    as_trained = TrinityRouter(trinity, vector, WORKERS).scores(CONVERSATIONS)
    reordered = TrinityRouter(trinity, vector, ["gamma", "alpha", "beta"]).scores(CONVERSATIONS)
    np.testing.assert_allclose(reordered, as_trained[:, [2, 0, 1]])


def test_a_pool_worker_without_a_head_row_is_refused(spec_file):
    trinity, vector = load_trinity(TrinitySpec.load(spec_file))
    with pytest.raises(ValueError, match="no head row for workers \\['delta'\\]"):
        TrinityRouter(trinity, vector, ["alpha", "delta"])


def test_fugu_serve_builds_the_trinity_router_from_flags(spec_file):
    args = build_parser().parse_args(["serve", "--workers", "w.yaml", "--spec", str(spec_file)])
    pool = SimpleNamespace(workers=[SimpleNamespace(name=n) for n in WORKERS])
    router = ROUTER_SPECS[args.router](args, pool)
    assert router.name == "trinity" and router.scores(CONVERSATIONS).shape == (2, 3)


def test_fugu_serve_trinity_without_a_spec_says_how_to_make_one(tmp_path):
    args = build_parser().parse_args(["serve", "--workers", "w.yaml", "--spec", str(tmp_path / "none.json")])
    with pytest.raises(FileNotFoundError, match="no coordinator spec"):
        ROUTER_SPECS[args.router](args, SimpleNamespace(workers=[]))
