"""mini_man.selection: the setting chosen on validation, per domain."""
import math

from mini_man import selection


def test_choose_takes_the_best_score_per_domain_the_first_on_a_tie_and_never_a_nan_over_a_number():
    scores = {"a": {"A": 0.8, "B": math.nan}, "b": {"A": 0.8, "B": 0.6}, "c": {"A": 0.7}}
    assert selection.choose(scores, ("A", "B")) == {"A": "a", "B": "b"}
    assert selection.choose({"a": {"A": None}, "b": {"A": 0.1}}, ["A"]) == {"A": "b"}
    assert selection.choose({"a": {"A": 0.5}}, ("A", "B")) == {"A": "a"}  # no setting trained B: left out
