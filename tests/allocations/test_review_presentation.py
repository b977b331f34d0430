"""Scores as people read them: criteria by name in the rubric's order, each level explained, "88 / 100"."""

from __future__ import annotations

from decimal import Decimal

from allocations.review.presentation import level, levels, rubric_scale, score_rows, score_text

RUBRIC = [{"code": "feasibility", "label": "Technical feasibility and readiness", "weight": 0.4, "scale": 5},
          {"code": "team", "label": "Team capacity", "weight": 0.6, "scale": 5}]

def test_rows_follow_the_rubric_and_name_each_criterion():
    assert score_rows(RUBRIC, {"team": 3, "feasibility": 4, "gone": 2}) == [
        ("Technical feasibility and readiness", 4, 5), ("Team capacity", 3, 5), ("Gone", 2, 5)]

def test_every_level_is_explained_and_other_scales_map_onto_the_five_levels():
    assert [lv["name"] for lv in levels(5)] == ["Poor", "Fair", "Good", "Very good", "Excellent"]
    assert all(lv["meaning"].endswith(".") for lv in levels(5))
    assert level(1, 3)[0] == "Poor" and level(2, 3)[0] == "Good" and level(3, 3)[0] == "Excellent"
    assert rubric_scale(RUBRIC) == 5 and rubric_scale([]) == 5 and rubric_scale([{"code": "x", "scale": 10}]) == 10

def test_weighted_scores_read_out_of_a_hundred():
    assert score_text(Decimal("87.667")) == "88 / 100"
    assert score_text(None) == "—"
