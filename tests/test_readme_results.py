"""The README's measured numbers are the committed results files' numbers (never typed in)."""

from tools.readme_results import README, current_block, render


def test_the_readme_results_block_is_generated_from_the_committed_results():
    assert current_block(README.read_text()) == render(), (
        "README's results block differs from results/*/results.json: run `python -m tools.readme_results`")


def test_a_profile_whose_claim_record_changed_since_its_run_is_named_stale(tmp_path):
    import shutil

    import yaml

    from claims import CLAIMS_DIR, record_digest
    from tools.readme_results import stale_claims

    (tmp_path / "claims").mkdir()
    for claim in ("conductor-grpo", "recursion-real"):
        shutil.copy(CLAIMS_DIR / f"{claim}.yaml", tmp_path / "claims")
    table = {"claims": {c: {"verdict": "not_run", "record": record_digest(c, tmp_path / "claims")}
                        for c in ("conductor-grpo", "recursion-real")}}
    (tmp_path / "results/medium").mkdir(parents=True)
    (tmp_path / "results/medium/verdicts.yaml").write_text(yaml.safe_dump(table))
    assert stale_claims("medium", tmp_path) == []
    edited = tmp_path / "claims/recursion-real.yaml"
    edited.write_text(edited.read_text() + "\n# edited\n")
    assert stale_claims("medium", tmp_path) == ["recursion-real"]
