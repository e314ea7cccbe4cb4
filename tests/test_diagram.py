"""The architecture figure of the notebooks (mini_man/diagram.py): every notebook block can be highlighted."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from mini_man import diagram  # noqa: E402


def test_each_teaching_notebook_highlights_its_own_blocks_only():
    assert diagram.NOTEBOOKS == ["00", "01", "02", "03", "04", "05", "06", "07", "07a"]
    for nb in diagram.NOTEBOOKS:
        fig = diagram.architecture(highlight=nb)
        thick = [p for p in fig.axes[0].patches if p.get_linewidth() == 3]
        assert len(thick) == sum(spec[-1] == nb for spec in diagram.BLOCKS.values())
        plt.close(fig)


def test_unknown_highlight_is_rejected():
    with pytest.raises(ValueError, match="highlight"):
        diagram.architecture(highlight="08")
