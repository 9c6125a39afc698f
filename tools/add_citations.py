"""Turn the notebooks' attributions into citations of notebooks/references.bib, then write the
References cells (tools/references.py).

    python tools/add_citations.py

Each edit below replaces a phrase of a markdown cell, where the prose already names its source, by
the same phrase with a citation link `[Label](#References)`; the prose's claims stay as they were.
Edits already made are skipped, so the script can be re-run at any time (for example after the
notebooks were re-executed from an older copy). It holds the checkout's notebook lock (.nb-lock)
and touches markdown cells only.
"""

import json
import sys

import references as refs


def c(*labels):
    """Citation links to the entries with these labels, separated by semicolons."""
    for label in labels:
        refs.keys_by_label()[label]  # a KeyError names a label missing from the .bib file
    return "; ".join(f"[{label}]({refs.ANCHOR})" for label in labels)


HINTON, SRIVASTAVA, D2L = (
    c("Hinton et al., 2012"),
    c("Srivastava et al., 2014"),
    c("Zhang et al., 2023"),
)
RETAIN = (
    f"{SRIVASTAVA} call the keep probability $p$; PyTorch's $p$, and this course's, is the "
    "probability of dropping a unit"
)

EDITS = {  # notebook -> [(phrase, phrase with citations)]
    "00_why_regularize.ipynb": [
        (
            "of the previous lesson on\nFashion-MNIST in seconds",
            f"of the previous lesson on\nFashion-MNIST ({c('Xiao et al., 2017')}) in seconds",
        ),
        (
            "takes the same arguments as `d2l.FashionMNIST` and",
            f"takes the same arguments as `d2l.FashionMNIST` ({D2L}) and",
        ),
        (
            "including the noise in them.",
            f"including the noise in them\n  ({c('Zhang et al., 2017')}).",
        ),
    ],
    "01_bernoulli_mask.ipynb": [
        (
            "Dropout flips an independent coin for every unit $h_i$: the unit is dropped with "
            "probability $p$ and\nkept with probability $1-p$.",
            f"Dropout ({HINTON}; {SRIVASTAVA}) flips an independent coin for every unit $h_i$:\n"
            "the unit is dropped with probability $p$ and kept with probability $1-p$\n"
            f"({RETAIN}).",
        ),
    ],
    "02_inverted_scaling.ipynb": [
        (
            "This is the lecture's code as written;",
            f"This is the lecture's code as written ({D2L});",
        ),
        (
            "the convention of the original dropout paper.",
            f"the convention of the original dropout paper ({HINTON}; {SRIVASTAVA}, whose $p$\n"
            "is the probability of *keeping* a unit, so that their test-time factor is our $1-p$).",
        ),
    ],
    "03_dropout_from_scratch.ipynb": [
        (
            "The lecture's function (notebook 2) is",
            f"The lecture's function (notebook 2; {D2L}) is",
        ),
    ],
    "04_dropout_mlp_scratch.ipynb": [
        ("is what d2l plots:", f"is what d2l plots ({D2L}):"),
    ],
    "05_dropout_mlp_concise.ipynb": [
        ("calls `self.net(X)`.", f"calls `self.net(X)` ({D2L})."),
        ("as Srivastava et\n   al. did)", f"as\n   {SRIVASTAVA} did)"),
    ],
    "06_why_dropout_works.ipynb": [
        (
            "in eval mode averages them.",
            f"in eval mode averages them ({HINTON}; {SRIVASTAVA}).",
        ),
        (
            "= p_{WS}$ exactly.",
            f"= p_{{WS}}$ exactly ({HINTON}; {c('Baldi and Sadowski, 2013')}).",
        ),
        (
            "sampled softmax outputs (`d2l_ext.mc_predict`)",
            f"sampled softmax outputs (Monte-Carlo dropout,\n{c('Gal and Ghahramani, 2016')}; "
            "`d2l_ext.mc_predict`)",
        ),
        (
            "This is Tikhonov regularization (Bishop 1995)",
            f"This is Tikhonov regularization (for dropout: {SRIVASTAVA}, section 9.1, and "
            f"{c('Wager et al., 2013')};\nfor input noise in general: {c('Bishop, 1995')})",
        ),
        ("If a unit co-adapts, its", f"If a unit co-adapts ({HINTON}), its"),
        ("d2l's exercise: how", f"d2l's exercise ({D2L}): how"),
    ],
    "07_dropout_in_practice.ipynb": [
        ("(and d2l's exercise 1):", f"(and d2l's exercise 1, {D2L}):"),
        ("d2l's exercise 5: are", f"d2l's exercise 5 ({D2L}): are"),
        ("**DropConnect** (Wan et al., 2013)", f"**DropConnect** ({c('Wan et al., 2013')})"),
        ("**Gaussian dropout** multiplies", f"**Gaussian dropout** ({SRIVASTAVA}) multiplies"),
        (
            "**spatial dropout** (`nn.Dropout2d`)",
            f"**spatial dropout** (`nn.Dropout2d`, {c('Tompson et al., 2015')})",
        ),
        (
            "**alpha dropout** (`nn.AlphaDropout`)",
            f"**alpha dropout** (`nn.AlphaDropout`, {c('Klambauer et al., 2017')})",
        ),
    ],
    "08_dropout_in_modern_networks.ipynb": [
        ("A Transformer block drops", f"A Transformer block ({c('Vaswani et al., 2017')}) drops"),
        (
            "BatchNorm normalizes with",
            f"BatchNorm ({c('Ioffe and Szegedy, 2015')}) normalizes with",
        ),
        ("(Li et al., 2019, call\nthis", f"({c('Li et al., 2019')}, call\nthis"),
        ("LayerNorm normalizes each", f"LayerNorm ({c('Ba et al., 2016')}) normalizes each"),
    ],
    "09_cost_of_dropout.ipynb": [
        ("Philox (Salmon et al., 2011;", f"Philox ({c('Salmon et al., 2011')};"),
    ],
}


def apply(nb, edits, name):
    """Apply the edits to the markdown cells of `nb`; the number applied now."""
    done = 0
    for old, new in edits:
        cells = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
        texts = ["".join(c["source"]) for c in cells]
        if any(new in t for t in texts):
            continue
        hits = [i for i, t in enumerate(texts) if old in t]
        if len(hits) != 1:
            raise SystemExit(f"{name}: {old[:60]!r} found in {len(hits)} markdown cells, not 1")
        cell = cells[hits[0]]
        cell["source"] = texts[hits[0]].replace(old, new, 1).splitlines(keepends=True)
        done += 1
    return done


def main():
    with refs.notebook_lock():
        for path in refs.chapters():
            nb = json.loads(path.read_text(encoding="utf-8"))
            n = apply(nb, EDITS.get(path.name, []), path.name)
            changed = refs.update(nb)
            if n or changed:
                refs.write(path, nb)
            state = "written" if changed else "as it was"
            print(f"{path.name}: {n} citations added, References cell {state}")


if __name__ == "__main__":
    sys.exit(main())
