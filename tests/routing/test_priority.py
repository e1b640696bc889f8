"""The stand-in PriorityRouter and the `fugu serve` command line."""

from __future__ import annotations

import numpy as np
import pytest

from fugu.cli import ROUTER_SPECS, build_parser
from fugu.routing.base import ranked
from fugu.routing.priority import PriorityRouter


def test_priority_router_ranks_workers_in_the_given_order_for_every_conversation():
    router = PriorityRouter(["a", "b", "c"], ["c", "a"])
    scores = router.scores([[{"role": "user", "content": "x"}], [{"role": "user", "content": "y"}]])
    assert scores.shape == (2, 3)
    assert [ranked(row) for row in scores] == [[2, 0, 1], [2, 0, 1]]


def test_priority_router_defaults_to_pool_order_and_says_it_is_not_trinity():
    router = PriorityRouter(["a", "b"])
    assert ranked(router.scores([[]])[0]) == [0, 1]
    assert "not TRINITY" in router.name


@pytest.mark.parametrize("order", [["a", "zzz"], ["a", "a"]])
def test_priority_router_refuses_unknown_or_repeated_workers(order):
    with pytest.raises(ValueError):
        PriorityRouter(["a", "b"], order)


def test_serve_help_documents_every_flag(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--help"])
    text = capsys.readouterr().out
    serve = build_parser()._subparsers._group_actions[0].choices["serve"]
    flags = [a.option_strings[-1] for a in serve._actions if a.option_strings and a.dest != "help"]
    assert len(flags) >= 15
    for action in serve._actions:
        if action.option_strings and action.dest != "help":
            assert action.help and action.option_strings[-1] in text


def test_router_registry_builds_the_priority_router_from_flags():
    class Pool:
        workers = [type("W", (), {"name": n})() for n in ("a", "b")]

    args = build_parser().parse_args(["serve", "--workers", "w.yaml", "--router", "priority", "--priority", "b,a"])
    router = ROUTER_SPECS[args.router](args, Pool())
    assert np.argmax(router.scores([[]])[0]) == 1
