"""Issue 12: notebooks 05 and 06 (and their solutions) say what their re-recorded outputs print.

    python tools/issue12_numbers_05_06.py [--check]

After run_seeds paired its runs for real and the course took up the paired t-interval rule, the
stored outputs of these notebooks moved. Each edit rewrites a markdown sentence so that it quotes
the numbers printed next to it and calls a difference real only where its printed interval excludes
0 (mean ± sd per configuration only: "overlapping spreads", unless the gap is many sds wide). The
edits use tools/issue12_claims.py's `apply` (found by text, skipped when already there, so the
script can be re-run), then copy tools/speaker_notes.toml onto notebooks 05 and 06 as
`tools/deck_metadata.py notes` does. Only markdown sources and cell metadata change: no code cell,
output or execution count. One pass under the notebooks' lock (.nb-lock); `--check` only reports.
"""

# ruff: noqa: E501  (the edits hold the notebooks' prose, line for line as it reads in the cells)

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import deck_metadata  # noqa: E402  (the speaker notes and where they go)
import references as refs  # noqa: E402  (the lock and the writer)
from issue12_claims import apply  # noqa: E402  (find by text, skip when done)

NB = refs.ROOT / "notebooks"

# --- 05: section 4's halves, section 5's sweep, the summary ---------------------------------
E05 = [
    ("replace",
     "Over 10 seeds the two implementations agree within noise. Five seeds are not always enough to see\n"
     "it: in the run above, one half of the seeds favours the scratch model by about a point and the\n"
     "other half `nn.Dropout`. Which half leans which way, and by how much, changes with the seeds and\n"
     "even with the CPU's arithmetic, so no check here pins it down: the implementations differ only in\n"
     "how they draw their masks, and the rest is noise.",
     "Over 10 seeds the two implementations agree within noise: `nn.Dropout` minus scratch is +0.002 in\n"
     "validation accuracy (95 % CI -0.003 to +0.007) and -0.005 in validation loss (-0.017 to +0.007).\n"
     "Each half of five seeds says the same (+0.003 and +0.001, both intervals containing 0), but with\n"
     "a wider interval (seeds 5-9: -0.011 to +0.013), too wide to rule out a point of accuracy either\n"
     "way. No check here asserts which way a half leans: the implementations differ only in how they\n"
     "draw their masks, and the rest is noise."),
    ("replace",
     "**What the numbers say** (1 000 images, 30 epochs, 3 seeds):\n\n"
     "- The eval-mode gap shrinks steadily as the rate grows, from about 0.26 without dropout to about\n"
     "  0.14 at 0.7.\n"
     "- The validation loss moves little (its spread over the rates is 0.03 here, and stayed under 0.06\n"
     "  over other seeds and CPU kernels), and accuracy falls a little at high rates (about two points at\n"
     "  0.7 here, one to two points in the other runs we measured, listed in tools/calibration.md). After 30 epochs the plain network's eval-mode gap is about 0.26, roughly half the 0.47 it\n"
     "  reaches after 60 epochs (notebook 04, section 4.3, last 10 epochs), so dropout closes the gap\n"
     "  mostly by raising the training loss; at 60 epochs (notebook 04, section 4) 0.5 also lowered the validation\n"
     "  loss.\n"
     "- So the lecture's 0.1-0.5 costs less than a point of accuracy here,",
     "**What the numbers say** (1 000 images, 30 epochs, 3 seeds, last 5 epochs, mean ± sd):\n\n"
     "- The eval-mode gap falls at every step of the rate, from 0.267 ± 0.010 without dropout to\n"
     "  0.198 ± 0.006 at 0.5 and 0.136 ± 0.004 at 0.7, a fall many sds wide (the first step alone, to\n"
     "  0.257 at 0.1, is within the spread).\n"
     "- The validation loss is lowest at 0.5 (0.628 ± 0.024 against 0.683 ± 0.035 without dropout), but\n"
     "  the spreads overlap: no clear difference over 3 seeds at 30 epochs. At 0.7 it is back up to\n"
     "  0.656 while the gap keeps falling: there dropout closes the gap by raising the training loss.\n"
     "  After 30 epochs the plain network's eval-mode gap, 0.267, is roughly half the 0.479 it reaches\n"
     "  after 60 (notebook 04, section 4.3, last 10 epochs), and there 0.5 lowers the validation loss\n"
     "  beyond noise (-0.089, 95 % CI -0.128 to -0.051, 5 seeds).\n"
     "- Accuracy stays within about two points: 0.760 ± 0.016 without dropout, 0.764 to 0.769 at\n"
     "  0.1-0.5, 0.748 ± 0.004 at 0.7. Against no dropout every rate's spread overlaps; 0.7 is below\n"
     "  0.5 (0.767 ± 0.006) by about three sds, over 3 seeds only.\n"
     "- So the lecture's 0.1-0.5 costs no accuracy here,"),
    ("replace",
     "- Higher rates shrink the generalization gap steadily; whether that buys validation loss or\n"
     "  accuracy depends on how much the network overfits (1 000 images: little at 30 epochs, clearly at\n"
     "  60), so the rate is tuned; 0.1-0.5 is the usual range for MLPs.",
     "- Higher rates shrink the eval-mode gap (1 000 images, 30 epochs: 0.267 at p = 0 to 0.136 at\n"
     "  0.7); whether that buys validation loss depends on how much the network overfits (no clear\n"
     "  gain at 30 epochs, -0.089 beyond noise at 60 in notebook 04), and accuracy moves by less than\n"
     "  the seeds' spread, so the rate is tuned; 0.1-0.5 is the usual range for MLPs."),
]

# --- 06: the ridge's distances, the seeds of section 3, co-adaptation, variance, uncertainty --
E06 = [
    ("replace",
     "Both noise types land within about 1% of the ridge solution and about 30% away from ordinary least squares.",
     "Both noise types land within 1% of the ridge solution (relative distance 0.008 and 0.005) and about a\n"
     "third away from ordinary least squares (0.336 and 0.332)."),
    ("replace",
     "One $p = 0$ seed ended well below the other two when this was written (about 0.71 against\n"
     "about 0.81 and 0.83): the $p = 0$ row's ± 0.062 is that one run. Sections 3 and 5 measure these\n"
     "same three models per rate, so that run weighs on every $p = 0$ mean there and widens its\n"
     "spread; read the $p = 0$ rows with it in mind.",
     "The last epoch's accuracy spreads over several points in both rows (p = 0: 0.768, 0.775, 0.814;\n"
     "p = 0.5: 0.797, 0.741, 0.806), and the rows' spreads overlap in accuracy (0.786 ± 0.025 against\n"
     "0.781 ± 0.035) and in validation loss (0.590 ± 0.062 against 0.587 ± 0.080): the two sets of\n"
     "three models score about alike, so sections 3 to 5 compare what is inside them. The lowest run\n"
     "is a $p = 0.5$ seed (0.741); it weighs on that row's means there."),
    ("replace",
     "What the numbers show (the $p = 0$ means include the weak seed noted above):\n\n"
     "* Removing any **single** unit costs almost nothing in either network (a few hundredths of a percent on\n"
     "  average). A 256-unit layer does not depend on one unit even without dropout, and the worst unit costs the\n"
     "  dropout network less.\n"
     "* Removing a random **half** of the first layer costs the plain network a few points of accuracy and the\n"
     "  dropout network about half as much.",
     "What the numbers show (mean ± sd over the 3 seeds):\n\n"
     "* Removing any **single** unit costs almost nothing in either network (-0.0001 and +0.0001 of accuracy on\n"
     "  average). A 256-unit layer does not depend on one unit even without dropout. The worst unit costs\n"
     "  0.0055 ± 0.0022 without dropout and 0.0031 ± 0.0007 with it: overlapping spreads, no clear difference.\n"
     "* Removing a random **half** of the first layer costs the plain network 0.038 ± 0.003 of accuracy and the\n"
     "  dropout network 0.010 ± 0.006, about a quarter as much, far outside both spreads."),
    ("replace",
     "their mean |correlation| is *higher* (about 0.3\n  against 0.26).",
     "their mean |correlation| is *higher* (0.309 ±\n  0.001 against 0.263 ± 0.007)."),
    ("replace",
     "With dropout, the first layer's activation variance is lower throughout training, by about 30%. The second\n"
     "layer's is about the same during training, when the dropped inputs add their own noise, and about 20% lower\n"
     "in eval mode (the table). A smaller share of the second layer's variance lies\n"
     "along its top direction (about 0.34 against 0.39).",
     "With dropout, the first layer's activation variance is lower throughout training, by a quarter to 30% (the\n"
     "figure), and 30% lower in eval mode (0.088 against 0.125 in the table). The second layer's is about the same\n"
     "during training, when the dropped inputs add their own noise, and 17% lower in eval mode (0.145 against\n"
     "0.175). A smaller share of the second layer's variance lies along its top direction (0.357 ± 0.015 against\n"
     "0.417 ± 0.014, about four sds apart)."),
    ("replace",
     "networks in eval mode (their means include the weak $p = 0$ seed of section 3). What the\n"
     "numbers show:\n\n"
     "* Monte-Carlo averaging raises the entropy everywhere, on test images too.\n"
     "* It separates rotated images from test images a little better than the same network in eval mode (AUROC\n"
     "  about 0.62 against 0.58), but the plain network's softmax entropy does at least as well (about 0.65).\n"
     "* On noise images the AUROC of every method swings from seed to seed (standard deviations of 0.06 to 0.14):\n"
     "  a network may put uniform noise confidently into one class.",
     "networks in eval mode (mean ± sd over the 3 seeds). What the numbers show:\n\n"
     "* Monte-Carlo averaging raises the entropy on test images (0.69 against 0.53 in eval mode) and on rotated\n"
     "  images (0.97 against 0.76), several sds apart, and on noise images too (1.42 against 1.17), there with\n"
     "  overlapping spreads.\n"
     "* All three separate rotated images from test images modestly and alike: AUROC 0.64 ± 0.03 with MC\n"
     "  dropout, 0.60 ± 0.03 in eval mode, 0.62 ± 0.03 for the plain network; the spreads overlap, so 3 seeds\n"
     "  rank none of them above another.\n"
     "* On noise images the AUROC is higher on average for the dropout networks (0.90 ± 0.03 with MC dropout,\n"
     "  0.85 ± 0.06 in eval mode) than for the plain ones (0.64 ± 0.17), but the plain networks swing so much\n"
     "  from seed to seed that 3 seeds show no clear difference: a network may put uniform noise confidently\n"
     "  into one class (the plain networks' entropy on noise, 0.69 ± 0.31, is barely above their 0.51 on test\n"
     "  images)."),
    ("replace",
     "a dropout-trained layer loses clearly less accuracy when a random half of its units is\n  removed.",
     "a dropout-trained layer loses clearly less accuracy when a random half of its units is\n  removed (0.010 against 0.038)."),
    ("replace",
     "* **Variance**: dropout lowers the activation variance of both hidden layers and spreads the second layer's\n"
     "  variance over more directions.",
     "* **Variance**: in eval mode dropout lowers the activation variance of both hidden layers (by 30% and 17%)\n"
     "  and spreads the second layer's variance over more directions (top share 0.36 against 0.42)."),
    ("replace",
     "* **Uncertainty**: MC-dropout entropy is higher on rotated images than on test images and a little more\n"
     "  telling than eval-mode entropy. It is no better than a plain network's softmax entropy, though, and it\n"
     "  varies from seed to seed.",
     "* **Uncertainty**: MC-dropout entropy is higher on rotated images than on test images (0.97 against 0.69),\n"
     "  but it tells rotated images apart no more clearly than eval-mode entropy or a plain network's softmax\n"
     "  entropy (AUROC 0.64, 0.60 and 0.62, each ± 0.03 over 3 seeds: overlapping)."),
]

# --- solutions 05, exercise 3: two seeds, spreads only -------------------------------------
E05S = [
    ("replace",
     "With input dropout the eval-mode gap and the validation loss come out a little lower and accuracy\n"
     "is unchanged, over 2 seeds: a mild extra regularizer here, worth a proper sweep before relying on\n"
     "it.",
     "Over 2 seeds, input dropout leaves the accuracy (0.762 ± 0.005 against 0.763 ± 0.003) and the\n"
     "validation loss (0.627 ± 0.017 against 0.636 ± 0.027) with overlapping spreads: no clear\n"
     "difference. The eval-mode gap comes out lower (0.181 ± 0.004 against 0.200 ± 0.007), but two\n"
     "seeds make that a hint of a mild extra regularizer, no more: measure the paired difference over\n"
     "more seeds before relying on it."),
]

# --- solutions 06, exercises 3 and 4: the printed numbers -----------------------------------
E06S = [
    ("replace",
     "At $p = 0.1$ weight scaling is a close approximation of both means.",
     "At $p = 0.1$ weight scaling is a close approximation of both means (mean TV 0.0019 to the\n"
     "geometric mean, which is itself 0.0244 from the arithmetic mean)."),
    ("replace",
     "(about 0.16\nagainst 0.18).",
     "(0.165 ± 0.005\nover 20 sampling seeds against 0.176)."),
]

EDITS = {
    "05_dropout_mlp_concise.ipynb": E05,
    "06_why_dropout_works.ipynb": E06,
    "solutions/05_dropout_mlp_concise_solutions.ipynb": E05S,
    "solutions/06_why_dropout_works_solutions.ipynb": E06S,
}


def notes(nb, name, all_notes):
    """Copy the notebook's speaker notes onto its section slides; True if anything changed."""
    stem = Path(name).stem
    if stem not in all_notes:
        return False
    changed, problems = deck_metadata.apply_notes(nb, all_notes[stem])
    if problems:
        raise SystemExit(f"{name}: " + "; ".join(problems))
    return changed


def edited(name, all_notes):
    """The notebook with its edits and speaker notes applied, or None if nothing changes."""
    nb = json.loads((NB / name).read_text(encoding="utf-8"))
    before = json.dumps(nb)
    apply(nb, EDITS[name], name)
    notes(nb, name, all_notes)
    return None if json.dumps(nb) == before else nb


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report, change nothing")
    args = parser.parse_args(argv)
    all_notes = deck_metadata.load_notes()
    stale = [name for name in EDITS if edited(name, all_notes)]  # every needle must be found
    print(f"notebooks to edit: {', '.join(stale) or 'none'}")
    if args.check or not stale:
        return
    with refs.notebook_lock():
        for name in stale:
            nb = edited(name, all_notes)  # read again under the lock
            if nb:
                refs.write(NB / name, nb)


if __name__ == "__main__":
    main()
