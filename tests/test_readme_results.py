"""The README's measured numbers are the committed results files' numbers (never typed in)."""

from tools.readme_results import README, current_block, render


def test_the_readme_results_block_is_generated_from_the_committed_results():
    assert current_block(README.read_text()) == render(), (
        "README's results block differs from results/*/results.json: run `python -m tools.readme_results`")
