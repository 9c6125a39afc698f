"""The course's bibliography (notebooks/references.bib) and the notebooks' citations of it.

Every citation link `[Label](#References)` names an entry by its author-year label; each chapter
ends with a References cell that lists exactly the entries it cites, as tools/references.py
formats them from the .bib file. A chapter out of step: `python tools/references.py`.
"""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import references as refs  # noqa: E402  (tools/ is no package)

CHAPTERS = refs.chapters()
CITED_BY_SOME_CHAPTER = {  # what the course asks its bibliography to cover, at least
    "hinton2012improving",
    "srivastava2014dropout",
    "wager2013dropout",
    "wan2013regularization",
    "tompson2015efficient",
    "gal2016dropout",
    "klambauer2017self",
    "zhang2017understanding",
    "li2019understanding",
    "bishop1995training",
    "baldi2013understanding",
    "vaswani2017attention",
    "ioffe2015batch",
    "ba2016layer",
    "xiao2017fashion",
    "zhang2023dive",
}


def _nb(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_labels():
    bib = refs.bibliography()
    assert refs.label(bib["bishop1995training"]) == "Bishop, 1995"
    assert refs.label(bib["gal2016dropout"]) == "Gal and Ghahramani, 2016"
    assert refs.label(bib["srivastava2014dropout"]) == "Srivastava et al., 2014"
    assert len(refs.keys_by_label()) == len(bib), "two entries share a label"


def test_cited_and_cite_role():
    text = "noise ([Bishop, 1995](#References); [Li et al., 2019](#References)) and [a](#top)"
    assert refs.cited(text) == ["bishop1995training", "li2019understanding"]
    assert refs.cite_role(text) == (
        "noise ({cite:alp}`bishop1995training`; {cite:alp}`li2019understanding`) and [a](#top)"
    )


def test_unknown_label_says_what_to_do():
    with pytest.raises(ValueError, match=r"matches no entry of references\.bib; labels are: "):
        refs.cited("as [Bishop, 1996](#References) showed")


def test_update_appends_then_keeps_the_references_cell():
    nb = {
        "cells": [
            {"cell_type": "markdown", "id": "a", "metadata": {}, "source": ["# T\n", "Text."]},
            {
                "cell_type": "markdown",
                "id": "b",
                "metadata": {},
                "source": "[Bishop, 1995](#References)",
            },
        ]
    }
    assert refs.update(nb) is True
    last = nb["cells"][-1]
    assert list(last) == ["cell_type", "id", "metadata", "source"]  # as nbformat orders them
    assert last["metadata"]["slideshow"]["slide_type"] == "skip"
    text = "".join(last["source"])
    assert text.startswith("## References\n\n- **Bishop, 1995.** Chris M. Bishop. Training with")
    assert refs.update(nb) is False and len(nb["cells"]) == 3


def test_every_required_work_is_cited_somewhere():
    cited = {k for path in CHAPTERS for k in refs.notebook_keys(_nb(path))}
    missing = CITED_BY_SOME_CHAPTER - cited
    assert not missing, f"entries no chapter cites: {sorted(missing)}"
    unused = set(refs.bibliography()) - cited
    assert not unused, f"entries of references.bib that no chapter cites: {sorted(unused)}"


@pytest.mark.parametrize("path", refs.citing_notebooks(), ids=lambda p: p.name)
def test_references_cell_matches_the_bibliography(path):
    nb = _nb(path)
    keys = refs.notebook_keys(nb)
    assert keys, f"{path.name} cites nothing"
    last = nb["cells"][-1]
    assert refs.is_references(last), f"{path.name}: the last cell is not '## References'"
    assert "".join(last["source"]) == refs.references_source(keys), (
        f"{path.name}: the References cell differs from what the citations and references.bib "
        "give: run `python tools/references.py`"
    )
