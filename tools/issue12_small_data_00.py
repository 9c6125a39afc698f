"""Move notebook 00's small-data section to the course's one setting, d2l_ext.SMALL_DATA (issue 12).

Re-runnable: every edit finds its cell by content and replaces it whole, so applying it twice
changes nothing. Holds the notebooks' lock (.nb-lock) for one quick pass. Afterwards re-execute
with `make notebooks NOTEBOOKS=notebooks/00_why_regularize.ipynb`.

    python tools/issue12_small_data_00.py
"""

import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))
import deck_metadata  # noqa: E402  (speaker notes from tools/speaker_notes.toml)

NB = ROOT / 'notebooks' / '00_why_regularize.ipynb'
LOCK = ROOT / '.nb-lock'

SECTION_4 = """\
## 4. More capacity than data

Keep the same network but train it on the first 1,000 images only, about 270 parameters per example.
This is the course's one small-data setting, `d2l_ext.SMALL_DATA`: 1,000 training images, the first
2,000 test images to validate, batch 64, and the lecture's SGD at learning rate 0.1. Notebooks 04
and 05 come back to it to measure what dropout buys; 07 keeps its images but trains with AdamW.
A batch of 64 gives 16 steps per epoch, so 150 epochs are 2,400 SGD steps. `eval_train=True` also
measures accuracy on the whole training subset in evaluation mode after each epoch.
We repeat the run for three seeds, because a single run on 1,000 images is noisy."""

TRAIN = """\
small = d2l_ext.FashionMNIST(**d2l_ext.SMALL_DATA)  # 1,000 training and 2,000 validation images
runs = []
for seed in range(3):
    d2l_ext.setup(seed)
    trainer = d2l_ext.Trainer(max_epochs=150, eval_train=True, plot=False)
    runs.append(trainer.fit(MLP(**hparams), small))"""

TABLE_TEXT = """\
The table: the best training accuracy of any epoch; accuracy on the 1,000 training images and on
the 2,000 validation images averaged over the last 10 epochs (SGD at a constant learning rate
swings from epoch to epoch); the best validation accuracy of any epoch; and the epoch at which the
validation loss was lowest."""

ASSERTS = """\
stats = [summarize(h) for h in runs]
# Each bound has room over 6 seeds and two CPU kernel sets (tools/calibration.md).
assert all(top_train > 0.99 and train_acc > 0.98 for top_train, train_acc, *_ in stats)  # memorized
assert all(0.75 < val_acc < 0.85 for _, _, val_acc, *_ in stats)          # far below
assert all(top - val_acc < 0.03 for _, _, val_acc, top, *_ in stats)      # stalled
assert all(best < 60 and last > 1.4 * lo for *_, best, lo, last in stats)  # val loss rises"""

RANDOM_TEXT = """\
### 4.1 Labels that carry no pattern

[Zhang et al., 2017](#References) trained networks on labels shuffled at random, which no rule can
predict, and found that they still fit them. The same test at our scale: the same MLP and
the same 1,000 images with their labels permuted, batch 32 and 200 epochs (6,400 steps; 100 epochs
were not enough in our trials). We validate on those shuffled training images themselves, so the
validation accuracy is the training accuracy in eval mode."""

READING = """\
## 5. Reading the numbers

- **Memorization.** Training accuracy reaches 99.9 to 100 % in every seed, and averages 99.8 to
  99.9 % over the last 10 epochs: the network fits these 1,000 labels, and it fits them even
  shuffled at random (section 4.1): it memorizes whatever the labels say, including the noise in
  them ([Zhang et al., 2017](#References)).
- **Validation stalls.** Validation accuracy over the last 10 epochs is 79.8 to 80.0 %, 20 points
  below the training accuracy of the same epochs and 0.8 to 1.2 points below the best it reached
  at any epoch (seeds 0-2; the asserts' bounds have room over other seeds and both kernel sets:
  tools/calibration.md): the extra memorization buys nothing on new images.
- **Validation loss turns around.** It is lowest early (0.55 to 0.57, at epoch 27, 33 or 34) and
  then climbs (0.91 to 0.95 over the last 10 epochs):
  the network keeps growing more confident, and on the validation images it is wrong about, more
  confidently wrong.

The gap between training and validation is what a regularizer has to shrink. Early stopping at the
best epoch is one cure; the next notebooks build another, dropout, and measure what it buys."""

SUMMARY_NEW = """\
- On 1,000 images (`d2l_ext.SMALL_DATA`, the course's small-data setting) the same MLP (about 270
  parameters per example) reaches 99.9 to 100 % training accuracy while validation accuracy stalls
  at about 80 % (79.8 to 80.0 %, last 10 epochs, 3 seeds) and the validation loss rises after its
  best epoch (from 0.55-0.57 to 0.91-0.95)."""

EXERCISE = """\
2. Train on 500, 2,000 and 5,000 images (150 epochs, `d2l_ext.SMALL_DATA` otherwise). How do
   the final training and validation accuracies move with the number of examples?"""


def summary(text):
    """The Summary's small-data bullet, whatever its earlier numbers."""
    return re.sub(r'^- On 1,000 images.*?(?=^- )', lambda _: SUMMARY_NEW + '\n', text, count=1,
                  flags=re.M | re.S)


def exercise_2(text):
    """Exercise 2 as one item, whatever its earlier wording."""
    return re.sub(r'^2\. Train on 500, .*?examples\?', EXERCISE, text, count=1, flags=re.M | re.S)


# (text every match must contain, new source or function of the old one)
EDITS = [
    ('## 4. More capacity than data', SECTION_4),
    ('small = d2l_ext.FashionMNIST(', TRAIN),
    ('The table: the best training accuracy', TABLE_TEXT),
    ('stats = [summarize(h) for h in runs]', ASSERTS),
    ('### 4.1 Labels that carry no pattern', RANDOM_TEXT),
    ('## 5. Reading the numbers', READING),
    ('## Summary', summary),
    ('## Exercises', exercise_2),
]


def main():
    while True:
        try:
            os.mkdir(LOCK)
            break
        except FileExistsError:
            time.sleep(5)
    try:
        nb = json.loads(NB.read_text(encoding='utf-8'))
        for must, new in EDITS:
            cells = [c for c in nb['cells'] if must in ''.join(c['source'])]
            if len(cells) != 1:
                raise SystemExit(f'{NB.name}: {len(cells)} cells contain {must!r}, expected 1')
            old = ''.join(cells[0]['source'])
            src = new(old) if callable(new) else new
            cells[0]['source'] = src.splitlines(keepends=True)
        _, problems = deck_metadata.apply_notes(nb, deck_metadata.load_notes()[NB.stem])
        if problems:
            raise SystemExit(f'{NB.name}: ' + '; '.join(problems))
        NB.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    finally:
        os.rmdir(LOCK)


if __name__ == '__main__':
    main()
