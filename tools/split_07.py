# ruff: noqa: E501  (the strings quote notebook lines verbatim, some longer than 100 characters)
"""Split notebook 07 (issue 12, section 6) into 07 (the MLP half) and 08 (modern networks).

    python tools/split_07.py

Re-runnable: it rebuilds the four notebooks from their state at the commit before the split
(BASE), so running it again gives the same cells. Sections 1, 2 and 5 of the old 07 stay in 07
(5 becomes 3); sections 3, 4 and 6 move to the new 08 (as 1, 2 and 3); Summary, Exercises and the
solutions notebook are split the same way. Moved cells keep their ids and outputs (re-recorded
afterwards by `make notebooks`). Takes the checkout's notebook lock while it writes. Then run
`python tools/references.py` (References cells) and re-execute the notebooks; on notebooks that were
already executed, `--markdown-only` re-applies the prose without touching code cells and outputs.
"""

import argparse
import json
import subprocess
from pathlib import Path

import references as refs

ROOT = Path(__file__).resolve().parent.parent
BASE = "b428dd1d219af4c7372edb4757ff7f94b7ca5770"
OLD = "notebooks/07_dropout_in_practice.ipynb"
OLD_SOL = "notebooks/solutions/07_dropout_in_practice_solutions.ipynb"
NEW = "notebooks/08_dropout_in_modern_networks.ipynb"
NEW_SOL = "notebooks/solutions/08_dropout_in_modern_networks_solutions.ipynb"


def at_base(path):
    return json.loads(
        subprocess.run(
            ["git", "show", f"{BASE}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
    )


def src(cell):
    return "".join(cell["source"])


def set_src(cell, text):
    cell["source"] = text.rstrip("\n").splitlines(keepends=True)


def replace(cell, *pairs):
    text = src(cell)
    for old, new in pairs:
        assert text.count(old) == 1, (cell["id"], old)
        text = text.replace(old, new)
    set_src(cell, text)


def markdown(cell_id, text, slide="-"):
    cell = {
        "cell_type": "markdown",
        "id": cell_id,
        "metadata": {"slideshow": {"slide_type": slide}},
        "source": [],
    }
    set_src(cell, text)
    return cell


def code(cell_id, text, slide="-"):
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "id": cell_id,
        "metadata": {"slideshow": {"slide_type": slide}},
        "outputs": [],
        "source": [],
    }
    set_src(cell, text)
    return cell


def by_id(nb):
    return {c["id"]: c for c in nb["cells"]}


def span(nb, first, last):
    """The cells from id `first` to id `last`, both included."""
    ids = [c["id"] for c in nb["cells"]]
    return nb["cells"][ids.index(first) : ids.index(last) + 1]


def bullets(cell):
    """The '* ' items of a Summary cell."""
    body = src(cell).split("\n\n", 1)[1]
    return ["* " + b for b in ("\n" + body).split("\n* ")[1:]]


def numbered(cell):
    """The '1. ' ... items of an Exercises cell, without their numbers."""
    body = src(cell).split("\n\n1. ", 1)[1]
    items, current = [], body
    for n in range(2, 10):
        head, sep, rest = current.partition(f"\n{n}. ")
        items.append(head)
        if not sep:
            break
        current = rest
    return items


def exercises(items, link):
    return (
        "## Exercises\n\n"
        + link
        + "\n\n"
        + "\n".join(f"{n}. {item}" for n, item in enumerate(items, 1))
    )


def link_line(stem):
    rel = f"solutions/{stem}_solutions.ipynb"
    return f"Worked solutions: [`{rel}`]({rel})."


def references(cells_from):
    cell = dict(by_id(cells_from)["references"])
    return json.loads(json.dumps(cell))


# Each half keeps three of the six exercises; one new exercise each keeps the course's 4-7.
CHANNEL_EXERCISE = (
    "Section 3.5's `nn.Dropout(0.2)` zeroed almost no whole channel of a 7 × 7 feature map. What is\n"
    "   the probability that it zeroes all 49 entries of one channel? Check your formula by simulation\n"
    "   on 2 × 2 maps, where it is not negligible.")
ATTENTION_EXERCISE = (
    "Site 1 drops attention weights. For a query that attends uniformly to T = 12 positions, what are\n"
    "   the mean and the variance of the sum of its weights after dropout at p = 0.1? Check by simulation\n"
    "   with `F.dropout`. Is the output still a weighted average of the values?")


def split_chapter(old):
    c = by_id(old)
    # --- 07: sections 1, 2 and 5 (as 3) ---------------------------------------------------------
    replace(
        c["a9b70ac3"],
        (
            "# 7. Dropout in practice: placement, rates, Transformers, normalization, variants",
            "# 7. Dropout in practice: rates, placement, weight decay, variants",
        ),
        (
            "After this notebook you can choose where and how much dropout to use in an MLP, place it in a\n"
            "Transformer block without falling into its two eval-mode traps, keep it from fighting BatchNorm, and\n"
            "pick among its variants (DropConnect, Gaussian, spatial and alpha dropout), each choice backed by\n"
            "numbers measured here.",
            "After this notebook you can choose where and how much dropout to use in an MLP, weigh it against\n"
            "weight decay, and pick among its variants (DropConnect, Gaussian, spatial and alpha dropout), each\n"
            "choice backed by numbers measured here. Notebook 08 takes dropout on to Transformers and\n"
            "normalization layers.",
        ),
    )
    replace(c["6aefef65"], ("(exercise 4 tries half of each)", "(exercise 1 tries half of each)"))
    replace(c["7dddd746"], ("import copy\n\n", ""), ("from torch.nn import functional as F\n", ""))
    set_src(
        c["f79b725d"],
        "# extra code: only the first 2,000 test images validate, which keeps the evaluation after\n"
        "# every epoch cheap\n"
        "data = d2l_ext.FashionMNIST(batch_size=100, num_train=1000, num_val=2000)\n"
        "print(f'{len(data.train)} training and {len(data.val)} validation images')",
    )
    replace(
        c["7b73ca7e"],
        (
            "`weight_decay` is AdamW's decoupled weight decay (0 unless we ask for it).",
            "`weight_decay` is AdamW's decoupled weight decay (0 unless we ask for it). Notebook 08 reuses\n"
            "`AdamWClassifier` as `d2l_ext.AdamWClassifier`.",
        ),
    )
    for cid, old_h, new_h in [
        ("109a5240", "## 5. Variants", "## 3. Variants"),
        ("f079ccd1", "### 5.1", "### 3.1"),
        ("b7f6e941", "### 5.2", "### 3.2"),
        ("2a375502", "### 5.3", "### 3.3"),
        ("1ddfc74d", "### 5.4", "### 3.4"),
        ("5b593c35", "### 5.5", "### 3.5"),
    ]:
        replace(c[cid], (old_h, new_h))
    summary = bullets(c["b3cdf242"])
    assert len(summary) == 7 and "Transformer" in summary[3] and "BatchNorm" in summary[4]
    assert "Of the lecture's claims" in summary[6]
    chapter_summary = (
        summary[:3]
        + [summary[5]]
        + [
            "* Notebook 08 carries these experiments on to a Transformer and to normalization layers, and\n"
            "  checks the lecture's claims about dropout today."
        ]
    )
    modern_summary = summary[3:5] + [
        "* Of the lecture's claims about dropout today, this course measured three (BatchNorm as a\n"
        "  regularizer here; 0.5 on hidden layers and weight decay in notebook 07); the rest are the\n"
        "  papers' (section 3)."
    ]
    assert summary[6].startswith(
        "* Of the lecture's claims about dropout today, this course measured three"
    )
    exs = numbered(c["dff50160"])
    assert (
        len(exs) == 6
        and exs[0].startswith("Name the four places")
        and exs[5].startswith("`DropConnectLinear`")
    )
    chapter = dict(
        old,
        cells=(
            span(old, "a9b70ac3", "6aefef65")
            + span(old, "109a5240", "9a7ce652")
            + [c["b3cdf242"], c["dff50160"], references(old)]
        ),
    )
    set_src(c["b3cdf242"], "## Summary\n\n" + "\n".join(chapter_summary))
    set_src(c["dff50160"],
            exercises(exs[3:] + [CHANNEL_EXERCISE], link_line("07_dropout_in_practice")))

    # --- 08: sections 3, 4 and 6 of the old 07, as 1, 2 and 3 ----------------------------------
    title = markdown(
        "5d0b8e21",
        (
            "# 8. Dropout in modern networks: Transformers, normalization, the claims checked\n\n"
            "After this notebook you can place dropout in a Transformer block without falling into its two\n"
            "eval-mode traps, keep it from fighting BatchNorm, and tell which of the lecture's claims about\n"
            "dropout today this course measured and which rest on the papers. It builds on notebook 07: its\n"
            "small Fashion-MNIST regime (1,000 training images, AdamW, 3 seeds), its `AdamWClassifier`\n"
            "(`d2l_ext.AdamWClassifier`) and its measured rates and weight decay, which section 3 quotes."
        ),
        slide="slide",
    )
    setup_md = markdown("c7a41f5e", "## Setup", slide="skip")
    setup = code(
        "e2b9d604",
        (
            "import copy\n\n"
            "import numpy as np\n"
            "import torch\n"
            "from d2l import torch as d2l\n"
            "from torch import nn\n"
            "from torch.nn import functional as F\n\n"
            "import d2l_ext\n\n"
            "d2l_ext.setup(seed=0)  # seeds every generator, one CPU thread, repeatable figures"
        ),
        slide="skip",
    )
    for cid, old_h, new_h in [
        ("d6eb49e1", "## 3. Dropout in a Transformer", "## 1. Dropout in a Transformer"),
        ("b1617f48", "### 3.1", "### 1.1"),
        ("324f5168", "### 3.2", "### 1.2"),
        ("75e0a0b0", "### 3.3", "### 1.3"),
        ("a009223f", "## 4. Dropout and normalization", "## 2. Dropout and normalization"),
        ("520dfd70", "### 4.1", "### 2.1"),
        ("bd74b137", "### 4.2", "### 2.2"),
        ("dropout-today", "## 6. The lecture's", "## 3. The lecture's"),
    ]:
        replace(c[cid], (old_h, new_h))
    replace(
        c["87933e80"],
        (
            "class TinyTransformer(AdamWClassifier):",
            "class TinyTransformer(d2l_ext.AdamWClassifier):",
        ),
    )
    replace(
        c["344e2884"], ("class BNMLP(AdamWClassifier):", "class BNMLP(d2l_ext.AdamWClassifier):")
    )
    # The Transformer used to start from the global generator as the MLP runs of sections 1-2 left
    # it; in 08 it starts from 08's own setup seed, so its run (and these numbers) are new.
    replace(c["c34d45ef"], (
        "the model learns the task in 12 epochs (validation accuracy\n1.000), and",
        "the model learns most of the task in 12 epochs (validation\naccuracy 0.948, where "
        "guessing scores about 0.5: half of the sequences repeat their first token),\nand"))
    replace(c["6c5c33ce"], (
        "differ by up to 1.8 (trap 1) and\n5.3 (trap 2) between two passes. Trap 1 happens to leave "
        "this model's predictions intact (1.000\n± 0.000 over 5 passes); trap 2 costs a little "
        "accuracy (0.992 ± 0.003 against 1.000) and makes it\nchange",
        "differ by up to 1.4 (trap 1) and\n5.7 (trap 2) between two passes. Trap 1 barely moves this "
        "model's accuracy (0.947 ± 0.000 over 5\npasses, against 0.948 without the trap); trap 2 costs "
        "more (0.927 ± 0.004) and makes it\nchange"))
    regime_md = markdown(
        "f3c28a7d",
        (
            "We measure it in notebook 07's regime: the lecture's 784-256-256-10 MLP (here with BatchNorm),\n"
            "1,000 training images, the first 2,000 test images to validate, AdamW at lr 0.002, 20 epochs,\n"
            "3 seeds."
        ),
        slide="subslide",
    )
    regime = code(
        "9b1e6d52",
        (
            "data = d2l_ext.FashionMNIST(batch_size=100, num_train=1000, num_val=2000)\n"
            "hparams = {'num_outputs': 10, 'num_hiddens_1': 256, 'num_hiddens_2': 256, 'lr': 2e-3}\n"
            "SEEDS, MAX_EPOCHS = range(3), 20"
        ),
    )
    replace(c["8e825152"], ("trained as in\nsection 1;", "trained as in\nnotebook 07, section 1;"))
    replace(
        c["73b29c8f"],
        (
            "# the BatchNorm-only control does not lower the loss of the same MLP without BatchNorm (1.1)\n"
            "assert loss['BN only, no dropout'] > final(rates, 'val_loss')['p=0.0'] - 0.03",
            "# the BatchNorm-only control does not lower the loss of the same MLP without BatchNorm, 0.692\n"
            "# in notebook 07, section 1.1\n"
            "assert loss['BN only, no dropout'] > 0.692 - 0.03",
        ),
    )
    replace(
        c["063d1c81"],
        (
            "the MLP without BatchNorm (section 1.1:",
            "the MLP without BatchNorm (notebook 07, section 1.1:",
        ),
    )
    replace(c["a92c6a6a"], ("### 4.3", "### 2.3"), ("(section 3)", "(section 1)"))
    replace(
        c["be909e79"],
        ("(section 4.2)", "(section 2.2)"),
        (
            "without it 0.692 ± 0.012 (section 1.1)",
            "without it 0.692 ± 0.012 (notebook 07, section 1.1)",
        ),
        ("section 4.1) |", "section 2.1) |"),
        ("| Section 3 trains at 0.1", "| Section 1 trains at 0.1"),
        ("accuracy (section 1.1);", "accuracy;"),
        ("within noise (section 1.2)", "within noise (notebook 07, sections 1.1-1.2)"),
    )
    replace(
        c["d2f42e23"],
        ("of 'neither' (section 2)", "of 'neither' (notebook 07, section 2)"),
        ("| Section 3's Transformer", "| Section 1's Transformer"),
    )
    modern = dict(
        old,
        cells=(
            [title, setup_md, setup]
            + span(old, "d6eb49e1", "6c5c33ce")
            + [c["a009223f"], regime_md, regime]
            + span(old, "344e2884", "e5a8b7aa")
            + span(old, "dropout-today", "e3dd00e1")
            + [
                markdown("4e8d1a96", "## Summary\n\n" + "\n".join(modern_summary), slide="slide"),
                markdown(
                    "a6f1c3b0",
                    exercises(exs[:3] + [ATTENTION_EXERCISE], link_line("08_dropout_in_modern_networks")),
                    slide="slide",
                ),
                references(old),
            ]
        ),
    )
    return chapter, modern


def split_solutions(old):
    c = by_id(old)
    replace(c["0bf75c26"], ("from torch.nn import functional as F\n", ""))
    for cid, old_h, new_h in [
        ("ef17078d", "## Exercises 4 and 5:", "## Exercises 1 and 2:"),
        ("f023d57e", "### Exercise 4:", "### Exercise 1:"),
        ("f5082a55", "### Exercise 5:", "### Exercise 2:"),
        ("9b55867b", "## Exercise 6:", "## Exercise 3:"),
    ]:
        replace(c[cid], (old_h, new_h))
    channel = [
        markdown("6e2f90b4", (
            "## Exercise 4: whole channels by chance\n\n"
            "`nn.Dropout` drops each entry independently with probability p, so it drops all k entries of a\n"
            "channel with probability p^k: 0.2^49 ≈ 5.6 × 10⁻³⁵ for a 7 × 7 map (never, in practice), where\n"
            "`nn.Dropout2d(0.2)` drops a fifth of the channels. On 2 × 2 maps p^4 = 0.0016, which a million\n"
            "channels resolve (binomial standard error 0.00004):"), slide="slide"),
        code("d81c4a3e", (
            "p = 0.2\n"
            "print(f'7 x 7 map: p^49 = {p ** 49:.1e}; 2 x 2 map: p^4 = {p ** 4:.4f}')\n"
            "dropped = nn.Dropout(p).train()(torch.ones(10 ** 6, 1, 2, 2)) == 0  # (channels, 1, 2, 2)\n"
            "whole = dropped.all(dim=(2, 3)).float().mean().item()\n"
            "print(f'simulated on 2 x 2 maps: {whole:.4f} of the channels dropped whole')")),
        code("a47b15f2", (
            "se = (p ** 4 * (1 - p ** 4) / 10 ** 6) ** 0.5  # binomial standard error\n"
            "assert abs(whole - p ** 4) < 5 * se"), slide="skip"),
    ]
    chapter = dict(old, cells=span(old, "0781ab2d", "0bf75c26") + span(old, "ef17078d", "f9e73bf5")
                   + channel)
    attention = [
        markdown("c93e7a15", (
            "## Exercise 4: dropped attention weights no longer sum to 1\n\n"
            "Each weight a_j = 1/T becomes a_j m_j / (1 - p) with m_j ~ Bernoulli(1 - p). The sum keeps its\n"
            "mean, Σ a_j = 1, and gains the variance p/(1 - p) Σ a_j² = p / ((1 - p) T) = 0.00926 for\n"
            "p = 0.1 and T = 12."), slide="slide"),
        code("5b8d3f60", (
            "p, T = 0.1, 12\n"
            "A = torch.full((10 ** 6, T), 1 / T)  # a million queries, each attending uniformly\n"
            "sums = F.dropout(A, p).sum(dim=1)\n"
            "print(f'sum of the dropped weights: mean {sums.mean():.4f} (predicted 1), '\n"
            "      f'variance {sums.var():.5f} (predicted {p / ((1 - p) * T):.5f})')")),
        code("e0a6c29d", (
            "assert abs(sums.mean() - 1) < 0.001  # 10 standard errors\n"
            "assert abs(sums.var() / (p / ((1 - p) * T)) - 1) < 0.02"), slide="skip"),
        markdown("7f41b8c2", (
            "So in training the output is not a weighted average of the values any more: the weights sum to\n"
            "1 only on average, and each value's share is rescaled at random. Its expectation over the masks\n"
            "is the eval-mode output, the same argument as for any inverted dropout.")),
    ]
    title = markdown(
        "3f9d27c1",
        (
            "# 8. Dropout in modern networks: solutions to the exercises\n\n"
            "Worked answers to the exercises of `notebooks/08_dropout_in_modern_networks.ipynb`, each checked\n"
            "by running it."
        ),
        slide="slide",
    )
    setup = code(
        "8c2e5a47",
        (
            "import numpy as np\n"
            "import torch\n"
            "from torch import nn\n"
            "from torch.nn import functional as F\n\n"
            "import d2l_ext\n\n"
            "d2l_ext.setup(seed=0)  # seeds every generator, one CPU thread, repeatable figures"
        ),
        slide="skip",
    )
    modern = dict(
        old,
        cells=[title, markdown("b5d17e92", "## Setup", slide="skip"), setup]
        + span(old, "ea9cdb59", "afe63176") + attention,
    )
    return chapter, modern


APPENDIX = "notebooks/09_cost_of_dropout.ipynb"
APPENDIX_SOL = "notebooks/solutions/09_cost_of_dropout_solutions.ipynb"
APPENDIX_EDITS = {  # the old 08, renamed by `git mv`: its title and its links to itself
    APPENDIX: [
        ("# 8. The cost of dropout itself", "# 9. Appendix: the cost of dropout"),
        (
            "solutions/08_cost_of_dropout_solutions.ipynb",
            "solutions/09_cost_of_dropout_solutions.ipynb",
        ),
    ],
    APPENDIX_SOL: [
        (
            "# 8. The cost of dropout itself: solutions",
            "# 9. Appendix: the cost of dropout: solutions",
        ),
        ("`../08_cost_of_dropout.ipynb`", "`../09_cost_of_dropout.ipynb`"),
    ],
}


def appendix(path):
    """The renamed notebook at `path` with APPENDIX_EDITS applied (each at most once)."""
    nb = json.loads((ROOT / path).read_text(encoding="utf-8"))
    for old, new in APPENDIX_EDITS[path]:
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown" and old in src(cell):
                set_src(cell, src(cell).replace(old, new))
    return nb


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="write only these notebooks (default: all six)")
    parser.add_argument("--markdown-only", action="store_true",
                        help="copy only the markdown cells (not References) into notebooks already "
                             "split and executed, keeping their code cells and outputs")
    args = parser.parse_args(argv)
    chapter, modern = split_chapter(at_base(OLD))
    sol_chapter, sol_modern = split_solutions(at_base(OLD_SOL))
    built = {OLD: chapter, NEW: modern, OLD_SOL: sol_chapter, NEW_SOL: sol_modern}
    built.update({path: appendix(path) for path in APPENDIX_EDITS})
    for nb in built.values():
        ids = [c["id"] for c in nb["cells"]]
        assert len(ids) == len(set(ids)), "cell ids must stay unique"
    paths = [str(Path(p)) for p in args.paths] or list(built)
    unknown = set(paths) - set(built)
    if unknown:
        raise SystemExit(f"not a notebook of the split: {sorted(unknown)}; choose from {list(built)}")
    with refs.notebook_lock():
        for path in paths:
            nb = built[path]
            if args.markdown_only:
                on_disk = json.loads((ROOT / path).read_text(encoding="utf-8"))
                text = {c["id"]: c["source"] for c in nb["cells"]
                        if c["cell_type"] == "markdown" and c["id"] != "references"}
                for cell in on_disk["cells"]:
                    if cell["id"] in text:
                        cell["source"] = text[cell["id"]]
                nb = on_disk
            refs.write(ROOT / path, nb)


if __name__ == "__main__":
    main()
