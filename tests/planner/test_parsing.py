"""LLM output -> validated skill calls: the accepted forms, and clear errors for everything else."""
from __future__ import annotations

import pytest

from embodied.planner.parsing import PlanParseError, parse_plan
from envs.crafter.skills import SkillCall


def calls(text):
    return [str(c) for c in parse_plan(text, SkillCall).calls]


def test_json_object_with_insights_inside_a_code_fence():
    text = ('Here is my plan:\n```json\n{"plan": ["collect(tree)", {"skill": "make", "args": ["wood_pickaxe"]}],'
            ' "insights": ["tables need wood"]}\n```\nGood luck!')
    proposal = parse_plan(text, SkillCall)
    assert [str(c) for c in proposal.calls] == ["collect(tree)", "make(wood_pickaxe)"]
    assert proposal.insights == ["tables need wood"]


def test_bare_json_list_and_numbered_or_bulleted_lines():
    assert calls('["go_to(table)", "drink()"]') == ["go_to(table)", "drink()"]
    text = "Plan:\n1. collect(tree)\n2) place table\n- make wood_pickaxe\nInsight: a table needs wood\nThat's it."
    assert calls(text) == ["collect(tree)", "place(table)", "make(wood_pickaxe)"]
    assert parse_plan(text, SkillCall).insights == ["a table needs wood"]
    assert calls("1. collect( 'tree' )\n2. eat(cow).") == ["collect(tree)", "eat(cow)"]


@pytest.mark.parametrize("text, problem", [
    ("", "empty"),
    ("I would chop some trees first.", "no skill calls"),
    ("1. dance()", "unknown skill 'dance'"),
    ('{"plan": ["collect(wood)"]}', "'wood' is not allowed for collect"),
    ("1. collect(tree, stone)", "takes 1 argument"),
    ('{"plan": "collect(tree)"}', "no list under 'plan'"),
    ('{"plan": [{"skill": "make", "args": [3]}]}', "list of string 'args'"),
    ('{"steps": []}', "no skill calls"),
    ("1. __import__('os').system('touch /tmp/pwned')", "not a skill call"),
])
def test_malformed_output_is_reported_with_the_reason(text, problem):
    with pytest.raises(PlanParseError, match=problem.replace("(", r"\(")):
        parse_plan(text, SkillCall)


def test_every_problem_is_listed_not_only_the_first():
    with pytest.raises(PlanParseError) as e:
        parse_plan('{"plan": ["collect(tree)", "fly()", "make(diamond_sword)"]}', SkillCall)
    assert "step 2" in str(e.value) and "step 3" in str(e.value)


def test_skill_call_round_trip():
    for text in ["collect(tree)", "drink()", "fight(zombie)", "make(iron_pickaxe)", "go_to(table)"]:
        assert str(SkillCall.parse(text)) == text
