"""The exercise checks of notebooks 08-11 (`mini_man.exercises`, sections 08 to 11), both ways: each passes on the
answer its solution notebook computes and fails (AssertionError with a hint) on a wrong one."""
import pytest

from mini_man import exercises

# (notebook, exercise, the solution's answer, a wrong answer); the solutions pass their answers to the same checks
CASES = [
    ("08", 1, "B", "A"),
    ("08", 2, 10, 9),
    ("08", 3, {"A": 0.0535, "B": 0.0141}, {"A": 0.060, "B": 0.017}),  # the wrong one: the table's 300-history subset
    ("08a", 1, (10.0, 0.0), (10.0, 10.0)),  # unit 2 always on: the MLP is a sum, every user ranks alike
    ("08a", 2, (0.0, 0.0732), (0.0, 0.2)),
    ("08a", 3, True, False),
    ("08a", 4, [0.0015, 0.0009, 0.0002], [0.0, 0.0, 0.0]),
    ("09", 1, exercises.LEFT_09, (exercises.LEFT_09[0], exercises.LEFT_09[1] + 3)),
    ("09", 2, (1.0, 0.0), (1.0, 0.5)),
    ("09", 3, None, 0.52),  # the solution's share is computed below from the toy
    ("09", 4, exercises.SEED3_09, not exercises.SEED3_09),
    ("10", 1, (5, 0.503), (40, 0.72)),  # the wrong one: B not stopped early, the transfer kept
    ("10", 2, 0.756, 0.51),
    ("10", 3, 0.011, 0.25),
    ("11", 1, "sasrec_dropout0", "sasrec_d20"),  # read from the committed results
    ("11", 2, None, None),  # computed below from the committed results; the wrong one: 1.96 instead of the t quantile
    ("11", 3, -0.0049, 0.160),  # the wrong one: man's lead, not single-ep's
]


def _solution_answer(notebook, number, answer):
    if (notebook, number) == ("09", 3):  # the kind-histogram ceiling, as 09's solution computes it
        from mini_man.analysis import latest_histories, nearest_A_group, planted_groups
        import numpy as np
        data, made = exercises._toy()
        counts, planted = {}, {}
        for X in "AB":
            d = data.domains[X]
            users, hist = latest_histories(d)
            planted[X] = planted_groups(d, users, made.user_groups)
            kinds = made.item_kinds[made.item_kinds["domain"] == X]
            kind_of = kinds.set_index("item")["kind"].reindex(d.items).fillna(-1).astype(int).to_numpy()
            counts[X] = np.stack([(kind_of[hist] == k).sum(1) for k in range(3)], 1).astype(float)
        return float((nearest_A_group(counts["A"], planted["A"], counts["B"]) == planted["B"]).mean())
    if (notebook, number) == ("11", 2):
        from mini_man import reference
        return reference.paired("sample", "man", "sasrec", "B")[:3]
    return answer


def _wrong_answer(notebook, number, wrong):
    if (notebook, number) == ("11", 2):  # the normal quantile: an interval too narrow
        import math
        import numpy as np
        from mini_man import reference
        man, sasrec = (reference.per_seed("sample", m, "B") for m in ("man", "sasrec"))
        d = np.array([man[s] - sasrec[s] for s in sorted(man)])
        half = 1.96 * d.std(ddof=1) / math.sqrt(len(d))
        return (d.mean(), d.mean() - half, d.mean() + half)
    return wrong


@pytest.mark.parametrize("notebook,number,answer,wrong", CASES, ids=[f"{n}.{k}" for n, k, _, _ in CASES])
def test_check_passes_on_the_solution_and_fails_on_a_wrong_answer(notebook, number, answer, wrong, capsys):
    exercises.check(notebook, number, _solution_answer(notebook, number, answer))
    assert capsys.readouterr().out.strip() == f"exercise {notebook}.{number}: correct"
    with pytest.raises(AssertionError):
        exercises.check(notebook, number, _wrong_answer(notebook, number, wrong))


@pytest.mark.parametrize("notebook,number", [(n, k) for n, k, _, _ in CASES])
def test_an_unanswered_exercise_is_not_answered_yet(notebook, number, capsys):
    exercises.check(notebook, number, None)
    assert "not answered yet" in capsys.readouterr().out


def test_every_registered_check_of_these_notebooks_is_tested():
    ours = {"08", "08a", "09", "10", "11"}
    assert {key for key in exercises._CHECKS if key[0] in ours} == {(c[0], c[1]) for c in CASES}
