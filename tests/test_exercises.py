"""mini_man.exercises: every check passes on the solution notebook's answer and fails on a wrong one."""
import numpy as np
import pytest
import torch

from mini_man import exercises
from mini_man.losses import disentanglement_loss, likelihood_loss


def _load_balance(w):
    w = np.asarray(w)
    return float(w.shape[1] * (w.mean(0) ** 2).sum())


def _centred(G):
    return float(len(G) * ((G - G.mean(0)) ** 2).sum())


def _l2_term(model, domain, logits):
    cfg = model.cfg
    return (model.objective(domain, logits) - likelihood_loss(logits, cfg.loss)
            - disentanglement_loss(model.prototypes[domain].G, cfg.lambda_g, cfg.disentangle)).item()


def _real_outer():
    real = torch.tensor([0, 0, 3, 1, 5, 2, 8, 4]) > 0
    return real[:, None] & real[None, :]


# (notebook, exercise, the solution notebook's answer, a wrong answer). Answers that come from training are the
# numbers the solution notebooks print (they call the same check under nbval).
CASES = [
    ("00", 1, (1300, 1146), (1270, 1007)),  # the 10-core's numbers are not the 5-core's
    ("00", 2, {"A": 0.407, "B": 0.002}, {"A": 0.341, "B": 0.004}),  # all users' share, not the test instances'
    ("00", 3, (12.9, 12.7), (35.4, 21.4)),  # A's counts, not B's
    ("00", 4, 8, 7),
    ("01", 1, {"A": 17500, "B": 16540, "global": 32300}, {"A": 17500, "B": 16540, "global": 32288}),
    ("01", 2, "M.weight", "P"),
    ("01", 3, 3, 5),
    ("01", 4, ValueError, KeyError),
    ("02", 1, _real_outer(), torch.ones(8, 8, dtype=torch.bool).tril() & _real_outer()),  # still causal
    ("02", 2, (2220, 16800), (2220, 16760)),
    ("02", 3, True, False),
    ("02", 4, (0.180, 0), (0.180, 12)),
    ("03", 1, 0.77, 0.20),
    ("03", 2, 0.0, 1e-3),
    ("03", 3, (0.5, 0.82), (0.2, 0.82)),
    ("03", 4, 0.85, 0.33),
    ("04", 1, {"local encoder", "global encoder", "local embeddings", "global embeddings"}, {"local encoder"}),
    ("04", 2, 6, 1),
    ("04", 3, (1.486, 0.484), (1.486, 1.40)),
    ("04", 4, 1.595, 0.557),  # A's entropy, not B's
    ("05", 1, 1.0, 0.2),
    ("05", 2, 0.0, 0.5),
    ("05", 3, {"A": 1.544, "B": 1.602}, {"A": 1.602, "B": 1.544}),
    ("05", 4, _load_balance, lambda w: float((np.asarray(w).mean(0) ** 2).sum())),  # without the factor N_g
    ("06", 1, 0.104, 0.5),
    ("06", 2, -4.0, -2.0),
    ("06", 3, _centred, lambda G: float(((G - G.mean(0)) ** 2).sum())),  # without the factor N_g
    ("06", 4, -900.0, -850.0),
    ("07", 1, (2241, 1041), (2240, 1040)),  # the output layer's bias forgotten
    ("07", 2, "A only", "B only"),
    ("07", 3, (True, True), (True, False)),
    ("07", 4, _l2_term, lambda model, domain, logits: 1e-3 * sum(float((p.detach() ** 2).sum())
                                                                for p in model.domain_parameters(domain))),
    ("07a", 1, (0.36875, 0.5625, 0.58333), (0.35625, 0.5590, 0.5764)),  # the unchanged numbers
    ("07a", 2, 0.5764, 0.5590),
    ("07a", 3, 0.90, 0.50),
    ("07a", 4, 80, 400),
]


@pytest.mark.parametrize("notebook,number,right,wrong", CASES, ids=[f"{c[0]}.{c[1]}" for c in CASES])
def test_check_passes_on_the_solution_and_fails_on_a_wrong_answer(notebook, number, right, wrong, capsys):
    exercises.check(notebook, number, right)
    assert capsys.readouterr().out == f"exercise {notebook}.{number}: correct\n"
    with pytest.raises(AssertionError):
        exercises.check(notebook, number, wrong)


def test_every_registered_check_of_these_notebooks_is_tested():
    ours = {"00", "01", "02", "03", "04", "05", "06", "07", "07a"}
    registered = {key for key in exercises._CHECKS if key[0] in ours}
    assert registered == {(c[0], c[1]) for c in CASES}


def test_an_unanswered_exercise_says_so_and_does_not_fail(capsys):
    exercises.check("03", 2, None)
    assert capsys.readouterr().out == "exercise 03.2: not answered yet (replace None with your answer)\n"


def test_an_exercise_without_a_check_is_named_in_the_error():
    with pytest.raises(KeyError, match=r"notebook 03 has no checked exercise 9 \(checked: 1, 2"):
        exercises.check("03", 9, 1.0)
    with pytest.raises(KeyError, match="notebook 42 has no checked exercise 1 \\(notebooks: 00, 01"):
        exercises.check(42, 1, 1.0)


def test_a_wrong_answer_is_a_wrong_answer_with_the_exercise_and_a_hint():
    with pytest.raises(exercises.WrongAnswer, match=r"^exercise 07a\.3: .*too low\. Hint"):
        exercises.check("07a", 3, 0.5)
    exercises.check(0, 1, None)  # an int names the notebook too


def test_a_wrong_type_gets_a_hint_not_a_traceback_from_inside():
    with pytest.raises(AssertionError, match="expected a number"):
        exercises.check("03", 1, "0.8")
