"""params.yaml: each knob in one place per profile, so setting it (``dvc exp run -S``) always takes."""

from __future__ import annotations

import pytest

from stages.common import PROFILES, load_params, resolve

TRINITY = {"batch_size": 16, "max_prompt_tokens": 4096, "tiny": {"max_prompt_tokens": 256, "svf_layers": [28]}}


def test_a_key_set_both_shared_and_for_the_active_profile_is_an_error_naming_both_places():
    with pytest.raises(ValueError) as err:
        resolve(TRINITY, "tiny", "trinity")
    message = str(err.value)
    assert "trinity.max_prompt_tokens" in message and "trinity.tiny.max_prompt_tokens" in message


def test_medium_inherits_tiny_so_a_key_shared_and_set_for_tiny_is_an_error_there_too():
    with pytest.raises(ValueError, match=r"trinity\.tiny\.max_prompt_tokens"):
        resolve(TRINITY, "medium", "trinity")


def test_a_profile_that_does_not_set_the_key_takes_the_shared_value():
    assert resolve(TRINITY, "full", "trinity") == {"batch_size": 16, "max_prompt_tokens": 4096}


def test_medium_may_override_what_it_inherits_from_tiny():
    section = {"batch_size": 16, "tiny": {"seeds": [0], "steps": 4}, "medium": {"seeds": [0, 1, 2]}}
    assert resolve(section, "medium", "s") == {"batch_size": 16, "seeds": [0, 1, 2], "steps": 4}


@pytest.mark.parametrize("profile", PROFILES)
def test_every_params_section_resolves_in_every_profile(profile):
    params = load_params()
    for name, section in params.items():
        if isinstance(section, dict):
            resolve(section, profile, name)
