"""Matching and explanations over the item's own fields: match, unknown, conflict, exclusion, several values."""

import numpy as np
import pandas as pd
import pytest

from pipelines.schema import FIELDS, UNKNOWN
from pipelines.search.constraints import Constraints, parse_query
from pipelines.search.explain import AttributeTable, Claim, claim_holds, judge


def catalog(rows):
    frame = pd.DataFrame([{f: UNKNOWN for f in FIELDS} | row for row in rows])
    frame.insert(0, "item_id", [str(i) for i in range(len(frame))])
    return frame


def test_equal_matches_unknown_counts_neither_way_and_another_value_conflicts():
    query = Constraints(wanted={"color": ("black",), "pattern": ("striped",)})
    both = judge({"color": "black", "pattern": "striped"}, query)
    assert both.explanation == (Claim("color", "black"), Claim("pattern", "striped"))
    assert (both.matched, both.conflicts, both.satisfied) == (2, (), True)
    unknown = judge({"color": "black", "pattern": UNKNOWN}, query)
    assert (unknown.matched, unknown.conflicts, unknown.satisfied) == (1, (), False)
    other = judge({"color": "red", "pattern": "striped"}, query)
    assert other.conflicts == (Claim("color", "red"),)
    assert Claim("color", "red") not in other.explanation


def test_an_excluded_value_conflicts_and_a_kept_one_is_explained():
    query = parse_query("tees, no prints").constraints
    printed = judge({"category": "tees", "pattern": "printed"}, query)
    assert printed.conflicts == (Claim("pattern", "printed"),) and not printed.satisfied
    solid = judge({"category": "tees", "pattern": "solid"}, query)
    assert solid.explanation == (Claim("category", "tees"), Claim("pattern", "solid"))
    assert solid.satisfied


def test_multi_valued_fields_on_both_sides():
    query = parse_query("red or blue dresses").constraints
    assert judge({"category": "dresses", "color": ["white", "blue"]}, query).explanation == (
        Claim("category", "dresses"),
        Claim("color", "blue"),
    )
    assert judge({"category": "dresses", "color": ["white", "green"]}, query).conflicts == (
        Claim("color", "white"),
        Claim("color", "green"),
    )


def test_claims_are_checked_against_the_fields():
    item = {"color": ["black", "white"], "pattern": "striped"}
    assert claim_holds(Claim("color", "white"), item)
    assert not claim_holds(Claim("color", "red"), item)
    assert not claim_holds(Claim("neckline", "round"), item)


@pytest.mark.parametrize(
    "text", ["black tees", "red or blue dresses, not striped", "no prints", "tees without sleeves", "not black"]
)
def test_vectorised_counts_agree_with_judge(text):
    frame = catalog(
        [
            {"category": "tees", "color": "black", "pattern": "solid", "sleeve_length": "short"},
            {"category": "tees", "color": "red", "pattern": "printed"},
            {"category": "dresses", "color": ["blue", "white"], "pattern": "striped", "sleeve_length": "sleeveless"},
            {"category": "dresses", "color": "red"},
            {"category": "shirts"},
        ]
    )
    table = AttributeTable(frame)
    constraints = parse_query(text).constraints
    rows = np.arange(len(frame))
    matched, conflicts = table.counts(rows, constraints)
    satisfying = table.satisfying(constraints)
    for row in rows:
        verdict = judge(table.attributes(row), constraints)
        assert matched[row] == verdict.matched
        assert (conflicts[row] > 0) == bool(verdict.conflicts)
        assert satisfying[row] == verdict.satisfied


def test_attributes_leave_unknown_out_and_long_tail_ranks_rare_values_higher():
    frame = catalog([{"category": "tees", "color": "black"}] * 3 + [{"category": "cardigans", "color": "orange"}])
    table = AttributeTable(frame)
    assert table.attributes(0) == {"category": "tees", "color": "black"}
    tail = table.long_tail(np.arange(4))
    assert tail[3] > tail[0]
