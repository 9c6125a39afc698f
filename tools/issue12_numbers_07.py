"""Issue 12: notebook 07's sentences and speaker notes say what its re-recorded outputs print.

    python tools/issue12_numbers_07.py [--check]

After the paired re-run (run_seeds with separate init, order and mask generators) and notebook 04's
rule (a difference is beyond noise only when its paired 95 % t-interval excludes 0), notebook 07
and its solutions print new numbers. Each edit below replaces one markdown cell, found by a phrase
of its earlier wording (never by an index), with text that quotes the stored outputs; an edit whose
new text is already there is skipped, so the script can be re-run at any time. Speaker notes are
edited line by line in tools/speaker_notes.toml and copied onto notebook 07's cells as
`deck_metadata.py notes` does (for this notebook only); the cells listed in SPLITS start a
sub-slide, as `deck_metadata.py fit` asked once the text had grown. Notebooks are written under the
checkout's lock (.nb-lock) in one quick pass, and only markdown cells and cell metadata change:
code, outputs and execution counts stay as recorded.
"""

# ruff: noqa: E501  (the edits hold the notebooks' prose, line for line as it reads in the cells)

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import deck_metadata  # noqa: E402  (copies the speaker notes onto their cells)
import references as refs  # noqa: E402  (the lock and the writer)

NB = refs.ROOT / "notebooks"
NOTES = refs.ROOT / "tools" / "speaker_notes.toml"
LI = "[Li et al., 2019](#References)"

E07 = [
    ("in the tables\nbelow its validation loss ends 0.51 above its training loss.", """\
## 1. A regime where regularization matters

Dropout can only help a network that is able to memorize. So we give the lecture's 784-256-256-10
MLP just 1,000 training images, validate on 2,000 test images, and train for 20 epochs with AdamW
(lr 0.002), with which the network without dropout overfits within seconds: in the tables
below its validation loss ends 0.54 above its training loss."""),
    ("Every configuration is trained from 3 seeds with `d2l_ext.run_seeds`", """\
Every configuration is trained from 3 seeds with `d2l_ext.run_seeds`; tables show the last epoch's
mean ± std: validation accuracy, validation loss, and `gap_eval`, the validation loss minus the
training loss, both measured in eval mode (dropout off) after the last epoch. Under each table, each
configuration's paired validation-loss difference from the first one, with its 95 % t-interval:
beyond noise only if the interval excludes 0 (notebook 04, section 3)."""),
    ("What the data support: dropout lowers the validation loss", """\
What the data support: at p = 0.5 dropout lowers the validation loss from 0.692 to 0.570, beyond
noise (paired difference -0.121, 95 % CI -0.138 to -0.104, 3 seeds), and shrinks the gap between
validation and training loss from 0.54 to 0.31. At p = 0.2 the loss (0.647) lies in between, but its
difference from no dropout (-0.044, CI -0.126 to +0.038) is within noise. The validation accuracy
does not move beyond the seed-to-seed spread (0.793, 0.795, 0.796 for p = 0, 0.2, 0.5, each ± 0.016
or less). At p = 0.8 the network underfits: its eval-mode training loss (validation loss minus gap)
is 0.62 against 0.15 without dropout, and accuracy falls to 0.732 ± 0.003; its validation loss,
0.718, is within noise of no dropout's (+0.026, CI -0.040 to +0.093). So on this task the rate that
helps beyond noise is 0.5, the top of the lecture's 0.1-0.5, and what it buys is a lower validation
loss (negative log-likelihood), not more correct answers. Calibration itself, how well the
confidence matches the accuracy, is not measured here."""),
    ("The data disagree with the convention on this network", """\
On this network 3 seeds do not settle the convention: high-then-low (0.5, 0.2) ends at a validation
loss of 0.585 ± 0.013 and low-then-high (0.2, 0.5) at 0.610 ± 0.027, but their paired difference,
-0.026 (95 % CI -0.069 to +0.018), is within noise, and so is that of 0.5 on both layers (0.570)
from (0.2, 0.5); the accuracies overlap (0.795-0.797). In notebook 04's setting (SGD, batch 64, 30
epochs) the two orders tie as well (its solutions, exercise 3). So neither order is a rule for this
MLP: a sweep over enough seeds beats a rule of thumb."""),
    ("yet sit far apart: where the dropout goes matters", """\
Accuracy is flat from p = 0 to 0.5 and drops at 0.8; the validation loss is lowest at 0.5. The two
per-layer pairs share a mean rate of 0.35 and their error bars overlap: at 3 seeds where the dropout
goes makes no difference beyond noise."""),
    ("Each regularizer alone takes the validation loss from 0.646", """\
Dropout 0.5 alone takes the validation loss from 0.692 to 0.570, beyond noise (-0.121, 95 % CI
-0.138 to -0.104, 3 seeds). Weight decay 1.0 alone ends at 0.657, but its seeds spread widely
(± 0.082) and its difference, -0.035 (CI -0.218 to +0.148), is within noise. Together they reach
0.559 (-0.132, CI -0.166 to -0.098, beyond noise) with the smallest gap (0.27), yet no clear gain
over dropout alone (0.559 ± 0.022 against 0.570 ± 0.014: overlapping spreads); the accuracies
overlap too (0.784-0.796). Together they fit the training images least (eval-mode training loss, the
validation loss minus the gap, in the means: 0.29, against 0.26 for dropout and 0.21 for weight
decay alone). So the lecture's "combines well with weight decay" is not borne out at these
strengths: the two need to be tuned together (exercise 4 tries half of each)."""),
    ("the model learns the task in 12 epochs (validation accuracy\n0.998)", """\
With dropout 0.1 at all four sites the model learns the task in 12 epochs (validation accuracy
1.000), and in eval mode two forward passes give identical logits (`eval_nondeterminism` is 0)."""),
    ("Both traps make eval mode random: the logits of the same inputs differ by up to", """\
Both traps make eval mode random: the logits of the same inputs differ by up to 1.8 (trap 1) and
5.3 (trap 2) between two passes. Trap 1 happens to leave this model's predictions intact (1.000
± 0.000 over 5 passes); trap 2 costs a little accuracy (0.992 ± 0.003 against 1.000) and makes it
change from one evaluation to the next. Each fix is one argument:
`F.dropout(X, self.p, self.training)` and `dropout_p=self.dropout if self.training else 0.0`.
A test that calls `eval_nondeterminism` catches both."""),
    ("Training softens the shift but does not remove it (ratio 0.73", f"""\
Training softens the shift but does not remove it (ratio 0.754 ± 0.081). Re-estimating the
statistics fixes the ratio (1.000) at no clear cost: accuracy 0.802 ± 0.011 before and 0.811
± 0.006 after, loss 0.583 ± 0.039 and 0.589 ± 0.022, overlapping spreads. Moving dropout after
BatchNorm also removes the shift on average (0.996, though ± 0.146 from network to network). Its mean
accuracy and loss are the worst of the three rows with dropout (0.767 ± 0.043, loss 0.997 ± 0.351),
and the BatchNorm-only control (the same network without dropout) is alike (0.781 ± 0.032, loss
0.947 ± 0.207); but these two rows spread so widely over 3 seeds that neither is clearly behind
dropout → BN (0.802 ± 0.011, loss 0.583 ± 0.039) or the MLP without BatchNorm (section 1.1: 0.793
± 0.003, loss 0.692 ± 0.012). So the shift is large before training and persists after it, but its
cost on this small network is not measurable with 3 seeds. To remove it, recalibrate, or put
dropout only after the last normalization layer ({LI})."""),
    ("Gaussian dropout is indistinguishable from Bernoulli dropout at the same p (validation loss 0.566", """\
Gaussian dropout is indistinguishable from Bernoulli dropout at the same p (validation loss 0.572
± 0.013 against 0.570 ± 0.014, each beyond noise from no dropout): matching the mean and variance of
the noise is what counts. DropConnect at 0.5 also regularizes beyond noise (-0.086, 95 % CI -0.111
to -0.061) with the smallest gap (0.26); its loss, 0.606 ± 0.020, is a little above dropping units',
with spreads that nearly meet: no clear difference at 3 seeds. Alpha dropout did not help the SELU
network: its validation loss went from 0.751 ± 0.015 to 0.841 ± 0.028 at unchanged accuracy. The
SELU MLP itself ends above the ReLU one (+0.059, CI +0.036 to +0.082, beyond noise) with a larger
gap (0.63 against 0.54), and a rate of 0.1 does not fix that. On accuracy no variant separates from
the rest: all lie in 0.783-0.796, each ± 0.008 or less."""),
    ("and here both kinds of dropout cost accuracy", """\
This small CNN barely overfits (a gap of 0.13 without dropout, against 0.54 for the MLP of section
1), and neither kind of dropout changes its validation loss beyond noise: `Dropout(0.2)` +0.027
(95 % CI -0.001 to +0.055), `Dropout2d(0.2)` -0.008 (CI -0.022 to +0.006), 3 seeds. The accuracies
overlap: 0.778 without, 0.766 with `Dropout(0.2)`, 0.779 with `Dropout2d(0.2)`, each ± 0.013 or
less. This is the lecture's "0-0.2 for CNNs" tried at its top: on a CNN this small it neither helped
nor clearly hurt. Whether weight sharing and pooling already regularize it, and whether channel dropout
pays off in larger CNNs that do overfit, is not measured here."""),
    # section 6: the 'Measured here' cell of three rows (found by the claim), the closing sentence
    ("| BatchNorm regularizes for free |", lambda old: _row(old, "| BatchNorm regularizes for free |",
     "No gain: with BatchNorm alone (section 4.2) the validation loss is 0.947 ± 0.207, without it 0.692 ± 0.012 (section 1.1); higher, but too spread to call worse")),
    ("| A classifier head uses 0.5 |", lambda old: _row(old, "| A classifier head uses 0.5 |",
     "For this MLP, whose second dropout sits right before the output: 0.5 on both hidden layers was the only rate of 0.2, 0.5, 0.8 to lower the validation loss beyond noise, at unchanged accuracy (section 1.1); 0.2 then 0.5 against 0.5 then 0.2: within noise (section 1.2). A head after convolutions: not measured")),
    ("| Combines well with weight decay |", lambda old: _row(old, "| Combines well with weight decay |",
     "No clear gain: together 0.559 ± 0.022 against 0.570 ± 0.014 for dropout alone; weight decay alone 0.657 ± 0.082, within noise of 'neither' (section 2)")),
    ("So at course scale BatchNorm did not replace dropout", """\
So at course scale BatchNorm alone did not lower the validation loss while dropout 0.5 did, beyond
noise, and the pairings the lecture recommends are mostly not measured here; the rates it quotes
(0.1 in Transformers, 0.5 for hidden units) are the papers' defaults, and today's largest
pre-training runs often drop nothing."""),
    ("* Dropout needs a network that overfits. On 1,000 Fashion-MNIST images the MLP's best rates", """\
## Summary

* Dropout needs a network that overfits. On 1,000 Fashion-MNIST images p = 0.5 lowered the MLP's
  validation loss beyond noise (0.692 → 0.570, 3 seeds) and shrank the train/validation gap (0.54 →
  0.31), with no accuracy gain beyond the seed-to-seed spread; 0.2 was within noise, 0.8 underfits.
* Rules of thumb are starting points: the lecture's "less early, more later" and the reverse order
  differed only within noise, here with AdamW (3 seeds) as in notebook 04's SGD setting.
* Dropout 0.5 lowered the validation loss beyond noise, weight decay 1.0 only within noise (its seeds
  spread widely); together they fit the training images least and were not clearly better than
  dropout alone. Tune them jointly.
* A Transformer drops at four places (attention weights, attention output, feed-forward, embeddings),
  usually at 0.1. `F.dropout` defaults to `training=True` and `scaled_dot_product_attention` drops
  whenever `dropout_p > 0`: pass the mode explicitly, and test eval mode with
  `d2l_ext.eval_nondeterminism`.
* Dropout before BatchNorm corrupts its running variance (eval/train ratio 0.25 at p = 0.5 before
  training, 0.75 after). Re-estimating the statistics with dropout off fixed it at no clear cost;
  moving dropout after the normalization fixes it too. Dropout after BatchNorm and a BatchNorm-only
  control spread too widely over 3 seeds to rank. LayerNorm keeps no statistics: no such problem.
* Gaussian dropout matches Bernoulli dropout; DropConnect also regularizes; alpha dropout keeps
  SELU's moments but did not help here; on a small CNN that barely overfits, dropout 0.2 of either
  kind changed the validation loss only within noise.
* Of the lecture's claims about dropout today, this course measured three (BatchNorm as a
  regularizer, 0.5 on hidden layers, weight decay); the rest are the papers' (section 6)."""),
]

E07_SOLUTIONS = [
    ("No. Half of each reaches a validation loss of 0.607", """\
No clear gain. Half of each reaches a validation loss of 0.589 ± 0.028, against 0.570 ± 0.014 for
dropout 0.5 alone and 0.657 ± 0.082 for weight decay 1.0 alone (notebook 07, section 2), at the same
accuracy (0.796 ± 0.011). With 3 seeds the spreads overlap and no paired interval is printed here, so
neither "better" nor "worse" is backed. On this task one regularizer, dropout, does the job; a mix
only pays off if it is tuned as carefully as each alone."""),
    ("It shrinks. With 4,000 images dropout lowers the validation loss by 0.034", """\
It shrinks to nothing measurable. With 4,000 images dropout no longer lowers the validation loss:
0.465 ± 0.013 without it and 0.476 ± 0.006 with it, overlapping spreads, against a paired drop of
0.121 (95 % CI -0.138 to -0.104) with 1,000 images (notebook 07, section 1.1). The accuracies,
0.840 ± 0.010 without and 0.824 ± 0.005 with, show no clear difference at 3 seeds either. More data
is itself a regularizer: without dropout the gap between validation and training loss is 0.20 here,
against 0.54 with 1,000 images. (The two runs are not identical in length: 10 epochs of 4,000
images are 400 steps, 20 epochs of 1,000 images are 200.)"""),
]

# cells that start a sub-slide, as `deck_metadata.py fit` asked for the longer text (cell ids)
SPLITS = {NB / "07_dropout_in_practice.ipynb": ["e518b992", "6aefef65"]}

EDITS = {
    NB / "07_dropout_in_practice.ipynb": E07,
    NB / "solutions" / "07_dropout_in_practice_solutions.ipynb": E07_SOLUTIONS,
}

# tools/speaker_notes.toml, notebook 07: (a phrase of the old line, the whole new line)
NOTE_EDITS = [
    ("The sweep: dropout lowers the validation loss up to p = 0.5 but not the accuracy",
     "say = \"1,000 images and AdamW make the plain MLP overfit fast. The sweep: only p = 0.5 lowers the validation loss beyond noise, and no rate moves the accuracy; 0.8 underfits. Per layer: 3 seeds put (0.5, 0.2) and (0.2, 0.5) within noise of each other, as in notebook 04's SGD setting: neither order is a rule.\""),
    ("Validation loss 0.646, 0.605, 0.567 for p = 0, 0.2, 0.5",
     "point = \"Validation loss 0.692, 0.647, 0.570 for p = 0, 0.2, 0.5; p = 0.5 minus p = 0: -0.121 (95 % CI -0.138 to -0.104). (0.5, 0.2) minus (0.2, 0.5): -0.026 (CI -0.069 to +0.018), within noise.\""),
    ("Why might noise injected in the first layer regularize more than noise in the second?",
     "ask = \"The per-layer difference is within noise at 3 seeds: what would you run to find out whether it is real?\""),
    ("Each regularizer alone takes the validation loss from about 0.65 to about 0.57",
     "say = \"Dropout 0.5 alone lowers the validation loss from 0.69 to 0.57, beyond noise; weight decay 1.0 alone only within noise (its seeds spread widely); both together fit the training images least and are not clearly better than dropout alone. Tune them together.\""),
    ("'both': validation loss about 0.58, the smallest gap, and the lowest accuracy.",
     "point = \"'both': validation loss 0.559 ± 0.022 against 0.570 ± 0.014 for dropout alone, and the smallest gap (0.27).\""),
    ("against about 1.9 and 4.9 for the two traps; trap 2 costs accuracy.",
     "point = \"Eval spread 0.000 for the correct block against 1.8 and 5.3 for the two traps; trap 2 costs a little accuracy (0.992 against 1.000).\""),
    ("a BatchNorm-only control shows BatchNorm alone does not regularize this MLP",
     "say = \"Dropout before BatchNorm inflates the training variance, so in eval mode BatchNorm divides by too large a standard deviation. Before training the ratio is 0.25 at p = 0.5; training softens it (0.75); recalibrating fixes it; dropout after BatchNorm and a BatchNorm-only control spread too widely over 3 seeds to rank against dropout first; LayerNorm stores nothing and has no such problem.\""),
    ("On this MLP Gaussian equals Bernoulli; the small CNN wanted no dropout.",
     "say = \"DropConnect drops weights, Gaussian dropout matches the mean and variance with Gaussian noise, alpha dropout keeps SELU's moments, spatial dropout drops whole channels. On this MLP Gaussian equals Bernoulli; on the small CNN neither kind of dropout changed the validation loss beyond noise.\""),
    ("Validation loss 0.566 Gaussian against 0.567 Bernoulli",
     "point = \"Validation loss 0.572 Gaussian against 0.570 Bernoulli; Dropout2d zeroes whole channels, plain Dropout none.\""),
    ("BatchNorm alone did not regularize this MLP; 0.1 in Transformers",
     "say = \"Each claim of the lecture's 'dropout today' slide against this course's numbers, else 'not measured here' and what the papers report. BatchNorm alone did not lower this MLP's validation loss; 0.1 in Transformers and 0.5 for hidden units are the papers' defaults; PaLM was pre-trained without dropout.\""),
    ("validation loss about 0.95 against 0.65 for the same MLP without BatchNorm.",
     "point = \"The BatchNorm-only row: validation loss 0.947 ± 0.207 against 0.692 ± 0.012 for the same MLP without BatchNorm: no gain, and too spread to call it a loss.\""),
    ("Dropout needs a network that overfits; sweep the rate; tune it with weight decay;",
     "say = \"Dropout needs a network that overfits; sweep the rate over enough seeds; tune it with weight decay; pass the mode explicitly in functional calls; keep it away from BatchNorm's statistics or recalibrate.\""),
    ("Best rates 0.2-0.5 on this MLP; ratio 0.25 at p = 0.5 before training.",
     "point = \"p = 0.5 the only rate beyond noise on this MLP (validation loss 0.692 to 0.570); ratio 0.25 at p = 0.5 before training.\""),
]


def _row(table, start, measured):
    """`table` with the 'Measured here' cell of its row that starts with `start` replaced."""
    lines = table.split("\n")
    hits = [i for i, line in enumerate(lines) if line.startswith(start)]
    if len(hits) != 1:
        raise SystemExit(f"{len(hits)} table rows start with {start!r}: fix the edit")
    says, _, reports = lines[hits[0]].split(" | ")  # '| claim', 'measured', 'papers |'
    lines[hits[0]] = " | ".join((says, measured, reports))
    return "\n".join(lines)


def _text(cell):
    return "".join(cell["source"])


def apply(nb, edits, name):
    """Apply the edits not there yet (markdown cells only); return how many were applied."""
    done = 0
    for needle, new in edits:
        md = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
        if not callable(new) and any(new.strip() == _text(c).strip() for c in md):
            continue  # applied already
        hits = [c for c in md if needle in _text(c)]
        if not hits:
            raise SystemExit(f"{name}: no markdown cell holds {needle!r} and the new text is "
                             "not there either: fix the edit in tools/issue12_numbers_07.py")
        if len(hits) > 1:
            raise SystemExit(f"{name}: {len(hits)} markdown cells hold {needle!r}")
        text = (new(_text(hits[0])) if callable(new) else new).strip("\n")
        if text != _text(hits[0]):  # a table row edit runs every time: it may be there already
            hits[0]["source"] = text.splitlines(keepends=True)
            done += 1
    return done


def apply_notes(text):
    """The speaker notes with every NOTE_EDITS line replaced; (new text, lines changed)."""
    lines, done = text.split("\n"), 0
    for needle, new in NOTE_EDITS:
        if new in lines:
            continue
        hits = [i for i, line in enumerate(lines) if needle in line]
        if len(hits) != 1:
            raise SystemExit(f"{NOTES.name}: {len(hits)} lines hold {needle!r}")
        lines[hits[0]] = new
        done += 1
    return "\n".join(lines), done


def update(nb, path, notes):
    """Apply the edits and the speaker notes of this notebook to `nb`; True if it changed."""
    applied = apply(nb, EDITS[path], path.name)
    for cell in nb["cells"]:
        if cell.get("id") in SPLITS.get(path, []) and deck_metadata.slide_type(cell) != "subslide":
            cell["metadata"].setdefault("slideshow", {})["slide_type"] = "subslide"
            applied += 1
    noted, problems = deck_metadata.apply_notes(nb, notes.get(path.stem, []))
    if problems and path.stem in notes:
        raise SystemExit(f"{path.name}: " + "; ".join(problems))
    return bool(applied or noted)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report, change nothing")
    args = parser.parse_args(argv)
    text, changed = apply_notes(NOTES.read_text(encoding="utf-8"))
    print(f"{NOTES.name}: {changed} lines to change")
    if changed and not args.check:
        NOTES.write_text(text, encoding="utf-8")
    notes = deck_metadata.load_notes(NOTES) if not changed or not args.check else {}
    stale = [path for path in EDITS  # a dry run first: every needle must be found
             if update(json.loads(path.read_text(encoding="utf-8")), path, notes)]
    print(f"to update: {', '.join(path.name for path in stale) or 'none'}")
    if args.check or not stale:
        return
    with refs.notebook_lock():
        for path in stale:
            nb = json.loads(path.read_text(encoding="utf-8"))  # again, under the lock
            update(nb, path, notes)
            refs.write(path, nb)

if __name__ == "__main__":
    main()
