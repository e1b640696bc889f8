"""ToolScale records and the action reward (fugu/conductor/toolscale.py), on a synthetic sample."""

import json
import logging

import pytest

from fugu.conductor.toolscale import ToolCall, action_score, calls_in, parse_task, read_task_file, read_tasks
from fugu.conductor.toolscale_stand_in import STAND_IN_LABEL, synthetic_records, write_sample

GOLD = (ToolCall("find_parcel", {"parcel_id": "PX-1"}), ToolCall("reroute_parcel", {"parcel_id": "PX-1", "city": "Lyon"}))


def test_a_record_in_toolscale_format_gives_its_request_tools_and_gold_calls():
    task = parse_task(synthetic_records(1)[0])
    assert task.task_id == "parcel_desk_0" and "PX-1001" in task.request
    assert task.tools == ("find_parcel", "reroute_parcel")
    assert [c.name for c in task.gold] == ["find_parcel", "reroute_parcel"] and task.stand_in == STAND_IN_LABEL


def test_a_record_that_does_not_parse_is_counted_skipped_and_logged_with_its_id(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="fugu.conductor.toolscale"):
        tasks = read_task_file(write_sample(tmp_path, n=4))
    assert len(tasks.tasks) == 4
    assert set(tasks.skipped) == {"no_actions_here", "records.jsonl:4"}
    assert "no_actions_here" in caplog.text and "records.jsonl:4" in caplog.text


def test_a_record_without_an_id_is_named_by_its_position():
    assert list(read_tasks([{"user_scenario": {}}]).skipped) == ["#0"]


def test_the_gold_calls_score_one_and_an_unrelated_call_zero():
    assert action_score(list(GOLD), GOLD) == pytest.approx(1.0)
    assert action_score([ToolCall("send_coupon", {})], GOLD) == 0.0


def test_half_the_calls_in_order_with_their_arguments_score_in_between():
    # names: 0.6 × 1/2 recall + 0.4 × 1/2 prefix = 0.5; arguments: 1 of 2 gold calls matched fully = 0.5
    assert action_score([GOLD[0]], GOLD) == pytest.approx(0.7 * 0.5 + 0.3 * 0.5)


def test_wrong_arguments_lose_only_the_argument_share():
    wrong = [ToolCall("find_parcel", {"parcel_id": "PX-9"}), ToolCall("reroute_parcel", {"parcel_id": "PX-1", "city": "Nice"})]
    assert action_score(wrong, GOLD) == pytest.approx(0.7 + 0.3 * (0 + 0.5) / 2)


def test_calls_are_read_from_an_answer_with_prose_around_them():
    text = "Sure [see below]: " + json.dumps([{"name": "find_parcel", "arguments": {"parcel_id": "PX-1"}}]) + " done"
    assert calls_in(text) == [GOLD[0]]
    assert calls_in("no calls at all") is None
