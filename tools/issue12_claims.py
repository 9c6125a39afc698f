"""Issue 12, sections 3 and 4: the notebooks' wrong or unbacked sentences, fixed or measured.

    python tools/issue12_claims.py [--check]

Each edit either rewrites a sentence so that it says only what the notebook measures, or inserts a
short cell whose printed numbers (and assert) back it. An edit is found by the text of its cell,
never by an index, and is skipped when its new text is already there, so the script can be re-run
at any time (for example on a notebook re-executed from an older copy). It holds the checkout's
notebook lock (.nb-lock) for one quick pass and writes a notebook only when its text changes;
`--check` only reports what it would do. Run tools/references.py afterwards: it lists the papers
the new text cites in each References cell.
"""

# ruff: noqa: E501  (the edits hold the notebooks' prose, line for line as it reads in the cells)

import argparse
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import references as refs  # noqa: E402  (the lock, the writer and the citation labels)

NB = refs.ROOT / "notebooks"


def c(*labels):
    """Citation links to the entries with these labels (a KeyError names a label not in the .bib)."""
    for label in labels:
        refs.keys_by_label()[label]
    return "; ".join(f"[{label}]({refs.ANCHOR})" for label in labels)


def cell(kind, source, slide="-", tags=None, id=None):
    """A new cell as nbformat 4.5 writes it; its id is derived from its text unless given."""
    meta = {"slideshow": {"slide_type": slide}}
    if tags:
        meta["tags"] = tags
    new = {"cell_type": kind, "id": id or hashlib.sha1(source.encode()).hexdigest()[:8],
           "metadata": meta, "source": source.strip("\n").splitlines(keepends=True)}
    if kind == "code":
        new.update(execution_count=None, outputs=[])
    return dict(sorted(new.items()))


def md(source, **kw):
    return cell("markdown", source, **kw)


def code(source, **kw):
    return cell("code", source, **kw)


def assert_cell(source):
    return code(source, slide="skip")


# --- 00: the previous lesson's MLP; fitting labels that carry no pattern ----------------------
E00 = [
    ("replace", "the plain multilayer perceptron (MLP) of the previous lesson",
     "a plain two-hidden-layer version of the multilayer perceptron (MLP) of the previous lesson"),
    ("replace",
     "The network of the previous lesson, written with the hyperparameter names the dropout version will\n"
     "use: two hidden layers of 256 ReLU units, no regularization at all.",
     f"The network of the dropout lesson ({c('Zhang et al., 2023')}, section 5.6), written with the\n"
     "hyperparameter names the dropout version will use: two hidden layers of 256 ReLU units, one more\n"
     "than the previous lesson's MLP (a single hidden layer of 256), and no regularization at all."),
    ("after", "plot_history(h, ax=ax, title=f'1,000 images, seed {seed}')", [
        md("### 4.1 Labels that carry no pattern\n\n"
           f"{c('Zhang et al., 2017')} trained networks on labels shuffled at random, which no rule can\n"
           "predict, and found that they still fit them. The same test at our scale: the same MLP and\n"
           "the same 1,000 images with their labels permuted, 200 epochs (100 were not enough in our\n"
           "trials). We validate on those shuffled training images themselves, so the validation\n"
           "accuracy is the training accuracy in eval mode.", slide="subslide"),
        code("X_small, y_small = small.train.tensors\n"
             "y_random = y_small[torch.randperm(1000, generator=torch.Generator().manual_seed(0))]\n"
             "shuffled = d2l_ext.FashionMNIST(batch_size=32, num_train=1000)\n"
             "shuffled.train = shuffled.val = torch.utils.data.TensorDataset(X_small, y_random)\n"
             "d2l_ext.setup(0)\n"
             "trainer = d2l_ext.Trainer(max_epochs=200, progress=False, plot=False)\n"
             "random_fit = trainer.fit(MLP(**hparams), shuffled)['val_acc']  # accuracy per epoch\n"
             "print(f'{(y_random == y_small).float().mean():.3f} of the shuffled labels are the true '\n"
             "      f'ones; training accuracy on them after 100 epochs {random_fit[99]:.3f}, '\n"
             "      f'after 200 {random_fit[-1]:.3f}')", tags=["nbval-ignore-output"]),
        assert_cell("# 1.000 after 200 epochs on each of seeds 0, 1 and 2 when this was written\n"
                    "assert random_fit[-1] > 0.9  # memorized: the labels carry no pattern to learn"),
    ]),
    ("replace", "network can fit any labeling of 1,000 images,",
     "network fits these 1,000 labels, and it fits them even shuffled at random (section 4.1): it\n"
     "  memorizes whatever the labels say,"),
]

# --- 02: the output layer gets four times its training-time input ---------------------------
E02 = [
    ("replace",
     ["each layer after a\ndropout gets inputs twice as large as in training.",
      "the layer after the\nfirst dropout gets inputs twice as large as in training ($1/(1-p) = 2$ in "
      "expectation), and the output\nlayer about four times: its inputs are the second hidden layer's "
      "ReLUs, already about doubled by\nthe first mismatch, and now unmasked as well ($2 \\times 2$ "
      "exactly in expectation if the hidden biases\nwere zero, since a ReLU passes a positive factor "
      "through)."],
     "the layer after the\nfirst dropout gets inputs twice as large as in training ($1/(1-p) = 2$ in "
     "expectation), and the output\nlayer roughly four times: its inputs are the second hidden layer's "
     "ReLUs, computed from those\ndoubled inputs (so roughly doubled themselves; the biases and the mask's "
     "randomness make it\ninexact), and now unmasked as well, another factor of 2."),
]

# --- 03: p = 1 inside a network; where the bfloat16 bias comes from ----------------------------
E03 = [
    ("replace",
     "`torch.zeros_like(X)` is a new tensor that does not depend on `X`, so `backward()` fails where\n"
     "`nn.Dropout(1.0)` gives zero gradients (a sweep over $p$ that reaches 1 would crash):",
     "`torch.zeros_like(X)` is a new tensor that does not depend on `X`, so on its own `backward()`\n"
     "fails where `nn.Dropout(1.0)` gives zero gradients:"),
    ("after", "nn.Dropout(1.0)(X).sum().backward()", [
        md("Inside a network nothing crashes, which is worse: the layers after the dropout still have\n"
           "weights that need gradients, so `backward()` runs, and the layers before it silently get no\n"
           "gradient at all (`grad` stays `None`, so an optimizer skips them):"),
        code("with torch.random.fork_rng():  # extra code: the rest of the notebook draws as before\n"
             "    lower, upper = nn.Linear(4, 8), nn.Linear(8, 2)  # the layers around the dropout\n"
             "H = lecture_dropout_layer(torch.relu(lower(torch.ones(3, 4))), 1)  # (3, 8), cut off\n"
             "upper(H).sum().backward()  # runs: upper's weights need gradients\n"
             "print('after the dropout:  upper.bias.grad =', upper.bias.grad)\n"
             "print('before the dropout: lower.weight.grad =', lower.weight.grad)\n"
             "assert lower.weight.grad is None and upper.bias.grad is not None"),
    ]),
    ("after", "n, p = 10 ** 6, 0.3", [
        md("Two roundings are at work: of the uniforms, and of the threshold 0.3 (to 0.30078125). Taking\n"
           "them one at a time, on 10 million draws from a generator of their own:"),
        code("n_big, generator = 10 ** 7, torch.Generator().manual_seed(0)\n"
             "U16 = torch.rand(n_big, generator=generator, dtype=torch.bfloat16).double()  # rounded\n"
             "U64 = torch.rand(n_big, generator=generator, dtype=torch.float64)  # not rounded\n"
             "p16 = torch.tensor(p, dtype=torch.bfloat16).double()  # the rounded threshold\n"
             "bias = {'threshold rounded only': (U64 <= p16).double().mean().item() - p,\n"
             "        'uniforms rounded only': (U16 <= p).double().mean().item() - p,\n"
             "        'both, as above': (U16 <= p16).double().mean().item() - p}\n"
             "for name, b in bias.items():\n"
             "    print(f'{name:23} dropped fraction - p = {b:+.4f}')\n"
             "print(f'binomial sd {(p * (1 - p) / n_big) ** 0.5:.4f}; share of bfloat16 uniforms equal '\n"
             "      f'to the rounded threshold {(U16 == p16).double().mean():.4f}')",
             tags=["nbval-ignore-output"], slide="subslide"),
        assert_cell("# seeds 0-3 when this was written: +0.0005 to +0.0008, +0.0017 to +0.0019, "
                    "+0.0037 to +0.0038\n"
                    "assert abs(bias['threshold rounded only'] - (p16 - p)) < 0.0006  # 0.00078\n"
                    "assert bias['uniforms rounded only'] > 1.5 * (p16 - p)\n"
                    "assert bias['both, as above'] > 3 * (p16 - p)"),
        md("Rounding the threshold alone would add only $0.30078 - 0.3 = 0.0008$; rounding the uniforms\n"
           "alone adds about twice as much. Together they add more than the sum, because 0.2% of the\n"
           "bfloat16 uniforms fall exactly on the rounded threshold and `<=` drops all of them. Most of\n"
           "the bias is the uniforms' rounding: uniforms drawn in float32 remove it."),
    ]),
]

# --- 04: 60 epochs open a gap; they do not fit the images -------------------------------------
E04 = [
    ("replace",
     "enough steps to fit them: batch 64 (16 steps per epoch instead of 4) and 60 epochs; learning rate\n"
     "and dropout rates unchanged.",
     "more steps: batch 64 (16 steps per epoch instead of 4) and 60 epochs, enough for a wide\n"
     "generalization gap to open, though not to fit the images (the eval-mode training loss is still\n"
     "falling at epoch 60 in the figure of section 4.1); learning rate and dropout rates unchanged."),
]

# --- 05: how much the plain network overfits at 30 epochs -------------------------------------
E05 = [
    ("replace",
     "After 30 epochs the plain network overfits only mildly, so dropout closes the gap mostly by\n"
     "  raising the training loss;",
     "After 30 epochs the plain network's eval-mode gap is about 0.26, roughly half the 0.47 it\n"
     "  reaches after 60 epochs (notebook 04, section 4.3, last 10 epochs), so dropout closes the gap\n"
     "  mostly by raising the training loss;"),
]

# --- 06: optimizer, softness, the printed 0.0068, the ridge's reading, the weak seed ----------
E06 = [
    ("replace", "units between the dropped units and the output. Adam fits the spiral much faster than plain SGD.",
     "units between the dropped units and the output. Both are trained with Adam (learning rate 0.01,\n"
     "200 epochs); this notebook does not compare optimizers."),
    ("after", "assert gaps['deep', 'WS-GM'][0] < gaps['deep', 'WS-AM'][0]", [
        md("How soft each combination is (mean predictive entropy $H$ on the validation points, at most\n"
           "$\\log 3 \\approx 1.10$), and what each costs in accuracy:"),
        code("y_val = data.y[data.num_train:]\n"
             "acc = {kind: {k: (P.argmax(dim=-1) == y_val).double().mean().item() for k, P in pred.items()}\n"
             "       for kind, pred in preds.items()}\n"
             "H = {kind: {k: d2l_ext.predictive_entropy(P).mean().item() for k, P in pred.items()}\n"
             "     for kind, pred in preds.items()}\n"
             "for kind in preds:\n"
             "    print(f'{kind:8} ' + '   '.join(f'{k}: acc {acc[kind][k]:.3f}, H {H[kind][k]:.3f}'\n"
             "                                   for k in ('WS', 'GM', 'AM')))",
             tags=["nbval-ignore-output"], slide="subslide"),
        assert_cell("for kind in preds:\n"
                    "    assert H[kind]['AM'] > max(H[kind]['WS'], H[kind]['GM'])  # the softest\n"
                    "    assert max(acc[kind].values()) - min(acc[kind].values()) < 0.02  # same accuracy"),
    ]),
    ("replace",
     "* The arithmetic mean is softer than the other two (averaging probabilities pulls them toward uniform), about\n"
     "  0.15 away in total variation,",
     "* The arithmetic mean is softer than the other two (the highest entropy in the table above: averaging\n"
     "  probabilities pulls them toward uniform), about 0.15 away in total variation,"),
    ("replace", "Anywhere else it is an approximation, and here it costs little accuracy.",
     "Anywhere else it is an approximation, and here it costs little accuracy (the three accuracies\n"
     "of each network lie within 0.01 of each other)."),
    ("replace", "1024 samples reach about 0.008.", "1024 samples reach 0.0068."),
    ("replace",
     "This is Tikhonov regularization ([Bishop, 1995](#References); for dropout, "
     "[Wager et al., 2013](#References))",
     "This is Tikhonov regularization (for dropout: "
     f"{c('Srivastava et al., 2014')}, section 9.1, and {c('Wager et al., 2013')};\n"
     f"for input noise in general: {c('Bishop, 1995')})"),
    ("after", "assert rel(w, w_ridge) < 0.02 and rel(w, w_ols) > 0.2", [
        md("In raw units the penalty $\\lambda\\, w_j^2 \\sum_i x_{ij}^2$ is heaviest on the large features. In\n"
           "the weights $v_j = w_j \\lVert x_{:,j} \\rVert$ of the features standardized to unit energy it is\n"
           "$\\lambda \\sum_j v_j^2$: one ordinary ridge for all of them. Checked, with each weight's\n"
           "shrinkage against least squares:"),
        code("norms = X.norm(dim=0)  # (d,): each feature's root energy\n"
             "Z = X / norms  # the features standardized to unit energy\n"
             "v_ridge = torch.linalg.solve(Z.T @ Z + lam * torch.eye(d, dtype=torch.float64), Z.T @ y)\n"
             "print('dropout ridge == ordinary ridge on standardized features:',\n"
             "      torch.allclose(w_ridge, v_ridge / norms))\n"
             "print(f'feature scales   {show(scales)}')\n"
             "print(f'w_ridge / w_ols  {show(w_ridge / w_ols)}')\n"
             "assert torch.allclose(w_ridge, v_ridge / norms)", slide="subslide"),
    ]),
    ("replace",
     "The penalty is heaviest on the large features (the last columns), so dropout shrinks the weights of those\n"
     "features most. Plain weight decay $\\lambda \\lVert w \\rVert^2$ would treat all features alike.",
     "The heavier penalty on large features only makes up for their size: on standardized features dropout is\n"
     "one ordinary ridge, so its shrinkage does not depend on the units a feature is measured in, and the\n"
     "shrink factors above do not follow the feature scales (the first feature's weight even grows a little).\n"
     "Plain weight decay $\\lambda \\lVert w \\rVert^2$ is the one that depends on scale: in standardized units\n"
     "it is $\\lambda \\sum_j v_j^2 / \\lVert x_{:,j} \\rVert^2$, heaviest on the *small* features. Exercise 5\n"
     "shows the consequence: rescaling a feature leaves the dropout-ridge predictions unchanged and moves\n"
     "those of plain ridge regression."),
    ("replace", "a ridge penalty scaled by each\n  feature's energy.",
     "a ridge penalty scaled by each\n  feature's energy, that is, one ordinary ridge on standardized features."),
    ("after", "assert all(h['val_acc'][-1] > 0.65 for h in histories), config", [
        code("for config, histories in results.items():\n"
             "    print(config, 'final validation accuracy per seed:',\n"
             "          ' '.join(f\"{h['val_acc'][-1]:.3f}\" for h in histories))",
             tags=["nbval-ignore-output"], slide="subslide"),
        md("One $p = 0$ seed ended well below the other two when this was written (about 0.71 against\n"
           "about 0.81 and 0.83): the $p = 0$ row's ± 0.062 is that one run. Sections 3 and 5 measure these\n"
           "same three models per rate, so that run weighs on every $p = 0$ mean there and widens its\n"
           "spread; read the $p = 0$ rows with it in mind."),
    ]),
    ("replace", "What the numbers show:\n\n* Removing any **single** unit",
     "What the numbers show (the $p = 0$ means include the weak seed noted above):\n\n"
     "* Removing any **single** unit"),
    ("replace", "networks in eval mode. What the numbers show:",
     "networks in eval mode (their means include the weak $p = 0$ seed of section 3). What the\n"
     "numbers show:"),
]

# --- 07: BatchNorm-only control, calibration, per-layer order, weight decay, 2026 claims -------
BN_CELL_OLD = "bn_nets = {True: [], False: []}"
BN_CELL = """bn_nets = {True: [], False: [], None: []}  # dropout before BN, after it, none: trained nets


def make_bn_model(before):
    \"\"\"A fresh BNMLP at p = 0.5 (p = 0 if before is None: BatchNorm alone), kept in bn_nets.\"\"\"
    dropout = 0.0 if before is None else 0.5
    bn_nets[before].append(BNMLP(**hparams, dropout_1=dropout, dropout_before_bn=bool(before)))
    return bn_nets[before][-1]


for before in (True, False, None):
    d2l_ext.run_seeds(lambda: make_bn_model(before), data, SEEDS, MAX_EPOCHS, progress=False)"""

HEADER_2026 = "| The lecture says | Measured here | What the literature reports |\n|---|---|---|\n"
TABLE_2026 = HEADER_2026 + f"""| BatchNorm regularizes for free | No: BatchNorm alone (section 4.2) ended at a higher validation loss than the same MLP without it (section 1.1), 0.95 ± 0.21 against 0.646 ± 0.033 | It "acts as a regularizer, in some cases eliminating the need for Dropout" on ImageNet ({c('Ioffe and Szegedy, 2015')}); before dropout it shifts the variance ({c('Li et al., 2019')}; section 4.1) |
| LayerNorm regularizes for free | Not measured here | Introduced to train faster and to steady recurrent networks, not as a regularizer ({c('Ba et al., 2016')}) |
| Transformers use about 0.1 | Section 3 trains at 0.1 but compares no rate: not measured | 0.1 on each sublayer's output and on the embeddings in the base Transformer, 0.3 in the big English-German one ({c('Vaswani et al., 2017')}); PaLM was pre-trained without dropout, with 0.1 in most fine-tuning ({c('Chowdhery et al., 2022')}) |
| A classifier head uses 0.5 | Not measured on a head after convolutions; on this MLP's hidden layers 0.5 gave the lowest validation loss of 0, 0.2, 0.5 and 0.8, at unchanged accuracy (section 1.1) | Dropping half the hidden units "seems to be close to optimal for a wide range of networks and tasks" ({c('Srivastava et al., 2014')}, whose $p = 0.5$ is the keep probability); 0.5 in the two fully connected layers before AlexNet's output ({c('Krizhevsky et al., 2012')}) |"""
TABLE_2026_MORE = HEADER_2026 + f"""| Combines well with weight decay | Not additive at these strengths: together 0.579 against 0.567 and 0.570 alone (section 2) | Dropout with max-norm or L2 beat each alone on MNIST ({c('Srivastava et al., 2014')}) |
| Combines well with LayerNorm | Section 3's Transformer uses both, but no run without dropout: not measured | Both in every block of the Transformer ({c('Vaswani et al., 2017')}) |
| Combines well with augmentation | Not measured here | AlexNet used both ({c('Krizhevsky et al., 2012')}) |
| Large models need dropout | Not measured here | Many large-model pre-training recipes use none, e.g. PaLM ({c('Chowdhery et al., 2022')}) |"""

SUMMARY_07_OLD = "* Rules of thumb are starting points: on this MLP, more dropout on the first hidden layer beat the\n  lecture's \"less early, more later\"."

E07 = [
    ("replace",
     "what it buys on this task is a\nbetter-calibrated network (lower loss), not more correct answers.",
     "what it buys on this task is a\nlower validation loss (negative log-likelihood), not more correct "
     "answers. Calibration itself, how\nwell the confidence matches the accuracy, is not measured here."),
    ("replace",
     "A plausible reason: noise injected early passes\nthrough every later layer, so the first rate "
     "regularizes the whole network. The convention comes\nfrom deep networks whose early features are "
     "generic; for a two-layer MLP trained on 1,000 images it\ndoes not hold, which is why a short sweep "
     "beats a rule of thumb.",
     "A plausible reason: noise injected early passes\nthrough every later layer, so the first rate "
     "regularizes the whole network. In notebook 04's setting\n(SGD, batch 64, 30 epochs) the two orders "
     "tie instead (its solutions, exercise 3). So neither order is\na rule for this MLP: which one wins "
     "depends on the optimizer and the training length, and a short\nsweep beats a rule of thumb."),
    ("replace",
     "At these strengths the two are not additive: they fight the same\noverfitting, and stacked at full "
     "strength they start to underfit.",
     "At these strengths the two are not additive: together they fit the\ntraining images least (eval-mode "
     "training loss, the validation loss minus the gap: 0.32, against\n0.27 for dropout and 0.17 for weight "
     "decay alone) without lowering the validation loss."),
    ("replace",
     "PyTorch's `nn.TransformerEncoderLayer` holds the first three; the embedding dropout is the model's.",
     "PyTorch's `nn.TransformerEncoderLayer` holds the first three; the embedding dropout is the model's.\n"
     "The Transformer paper itself gives the rate 0.1 for two of these places, each sublayer's output\n"
     "(2 and the output half of 3) and the embeddings (4); dropping the attention weights and inside the\n"
     "feed-forward net are implementations' choices, such as `nn.TransformerEncoderLayer`'s."),
    ("replace",
     ["assert loss['both'] > min(loss['weight decay 1.0'], loss['dropout 0.5']) - 0.03  # no real gain\n"
      "train = {name: loss[name] - gap for name, gap in final(decay, 'gap_eval').items()}  # eval mode\n"
      "assert train['both'] > max(train['weight decay 1.0'], train['dropout 0.5'])  # fits least",
      "assert loss['both'] > min(loss['weight decay 1.0'], loss['dropout 0.5']) - 0.03  # no real gain"],
     "assert loss['both'] > min(loss['weight decay 1.0'], loss['dropout 0.5']) - 0.03  # no real gain\n"
     "train = final(decay, 'train_eval_loss')  # eval mode, after the last epoch\n"
     "assert train['both'] > max(train['weight decay 1.0'], train['dropout 0.5'])  # fits least"),
    ("replace", "Both orders, 3 seeds each, trained as in section 1; we keep the trained networks.",
     "Both orders at p = 0.5, and a control with BatchNorm but no dropout, 3 seeds each, trained as in\n"
     "section 1; we keep the trained networks."),
    ("code", BN_CELL_OLD, BN_CELL),
    ("replace", "            'BN -> dropout': bn_row(bn_nets[False])}",
     "            'BN -> dropout': bn_row(bn_nets[False]),\n"
     "            'BN only, no dropout': bn_row(bn_nets[None])}"),
    ("replace", "assert acc['BN -> dropout'] < acc['dropout -> BN']  # the worst option",
     "assert acc['BN -> dropout'] < acc['dropout -> BN']  # behind dropout first\n"
     "loss = {name: float(row.split()[6]) for name, row in bn_table.items()}\n"
     "# the BatchNorm-only control: no better than BN -> dropout, well behind dropout -> BN, and\n"
     "# above the same MLP without BatchNorm (section 1.1)\n"
     "assert acc['BN -> dropout'] < acc['BN only, no dropout'] + 0.02\n"
     "assert loss['dropout -> BN'] < loss['BN only, no dropout'] - 0.15\n"
     "assert loss['BN only, no dropout'] > final(rates, 'val_loss')['p=0.0']"),
    ("replace",
     ["it takes dropout\naway from the first hidden layer, where section 1.2 found it regularizes most. "
      "The BatchNorm-only\ncontrol (the same network without dropout) is about as weak, 0.78 ± 0.03 and "
      "loss 0.95 ± 0.21 when\nthis was written: most of what that row pays for is BatchNorm itself on this "
      "small network\n(without BatchNorm, section 1.1, the MLP reached 0.800 and 0.646). Dropout after "
      "BatchNorm is no\nbetter than no dropout at all, while dropout before it lowers the loss far below "
      "the control.",
      "it takes dropout\naway from the first hidden layer, where section 1.2 found it regularizes most."],
     "it takes dropout\naway from the first hidden layer, where section 1.2 found it regularizes most. "
     "The BatchNorm-only\ncontrol (the same network without dropout) is about as weak, 0.78 ± 0.03 and "
     "loss 0.95 ± 0.21 when\nthis was written: most of what that row pays for is BatchNorm itself on this "
     "small network\n(without BatchNorm, section 1.1, the MLP reached 0.800 and 0.646). Dropout after "
     "BatchNorm is no\nbetter than BatchNorm without dropout, while dropout before it lowers the loss far below "
     "the control."),
    ("replace", "but here it is the worst option (",
     "but here it scores lowest of the three rows with dropout ("),
    ("after", "This small CNN barely overfits", [
        md("## 6. The lecture's claims about dropout today, checked\n\n"
           "The lecture closes with claims about how dropout is used now. For each: the number this course\n"
           "measured at its scale, or \"not measured here\" and what the papers report.",
           slide="slide", id="dropout-today"),
        md(TABLE_2026, slide="subslide"),
        md(TABLE_2026_MORE, slide="subslide"),
        md("So at course scale BatchNorm did not replace dropout, and the pairings the lecture recommends\n"
           "are mostly not measured here; the rates it quotes (0.1 in Transformers, 0.5 for hidden units)\n"
           "are the papers' defaults, and today's largest pre-training runs often drop nothing."),
    ]),
    ("replace",
     "| Not measured on a head after convolutions; on this MLP's hidden layers 0.5 gave the lowest "
     "validation loss of 0, 0.2, 0.5 and 0.8, at unchanged accuracy (section 1.1) |",
     "| For this MLP, whose second dropout sits right before the output layer: 0.5 on both hidden "
     "layers gave the lowest validation loss of 0, 0.2, 0.5 and 0.8 at unchanged accuracy (section 1.1), "
     "but 0.5 before the output with 0.2 earlier lost to the reverse (section 1.2). A head after "
     "convolutions: not measured |"),
    ("replace", SUMMARY_07_OLD,
     "* Rules of thumb are starting points: with AdamW more dropout on the first hidden layer beat the\n"
     "  lecture's \"less early, more later\" in validation loss, while with notebook 04's SGD setting the\n"
     "  two orders tied."),
    ("replace",
     "* Dropout and weight decay each fixed most of the overfitting; at full strength together they\n"
     "  underfit. Tune them jointly.",
     "* Dropout and weight decay each lowered the validation loss from 0.646 to about 0.57 and shrank the\n"
     "  gap; together they fit the training images least and were no better. Tune them jointly."),
    ("replace",
     "Re-estimating the statistics with dropout off fixed it at no cost here;\n  moving dropout after the "
     "last normalization fixes it too, but on this MLP that took dropout away\n  from where it helped most.",
     "Re-estimating the statistics with dropout off fixed it and kept the accuracy\n  (the loss rose a "
     "little, 0.577 to 0.598); moving dropout after the last normalization fixes it too,\n  but on this MLP "
     "that took dropout away from where it helped most, and a BatchNorm-only control was about as weak."),
    ("replace", "a small CNN wanted no dropout at all.",
     "a small CNN wanted no dropout at all.\n* Of the lecture's claims about dropout today, this course "
     "measured three (BatchNorm as a\n  regularizer, 0.5 on hidden layers, weight decay); the rest are "
     "the papers' (section 6)."),
]

# --- 04 solutions: the two orders, in two settings ---------------------------------------------
E04S = [
    ("replace",
     "In this setting the lecture's \"less dropout on early layers\" makes no\nmeasurable difference; "
     "notebook 07 sweeps per-layer rates with more seeds.",
     "In this setting the lecture's \"less dropout on early layers\" makes no\nmeasurable difference. "
     "Notebook 07 (section 1.2), with AdamW for 20 epochs, finds the reverse order\nahead in validation "
     "loss at the same accuracy: which order wins depends on the setting, and neither\nsupports the "
     "convention."),
]

# --- 08: forward and backward timed alike; dropout's share of a training step ------------------
TIMING_OLD = "    table[n] = time_ops(ops, X, reps=5), time_ops(ops, X, reps=5, backward=True)"
TIMING_NEW = ("    rounds = [(time_ops(ops, X, reps=2), time_ops(ops, X, reps=2, backward=True))\n"
              "              for _ in range(3)]  # forward and forward + backward take turns\n"
              "    table[n] = tuple({name: min(r[i][name] for r in rounds) for name in ops} for i in (0, 1))")
E08 = [
    ("code", TIMING_OLD, lambda s: s.replace(TIMING_OLD, TIMING_NEW)),
    ("replace",
     "Forward, and forward plus backward, at three sizes; ratios are to `F.dropout` in the same run.",
     "Forward, and forward plus backward, at three sizes; ratios are to `F.dropout` in the same run.\n"
     "The two are timed in alternating rounds (best of 6 each), so a burst of other work on the machine\n"
     "slows both alike; backward only adds work, so a forward + backward below its forward is such noise."),
    ("replace",
     "At 65,536 entries (a 256 x 256 hidden layer) every op takes well under a millisecond, so\n"
     "in the lecture's MLP the matrix multiplies, not dropout, dominate.",
     "At 65,536 entries (a batch of 256 on a 256-unit hidden layer) every op takes well under a\n"
     "millisecond. Whether that matters depends on the rest of a training step, measured next."),
    ("after", "At 65,536 entries (a batch of 256", [
        md("### 5.1 Dropout's share of a training step\n\n"
           "The lecture's MLP (784-256-256-10, dropout 0.5 after both hidden layers), one forward pass,\n"
           "loss and backward pass on a batch of 256, timed in turns with no dropout, `nn.Dropout` and\n"
           "`FastDropout`:", slide="subslide"),
        code("def mlp_step(dropout):  # extra code: one training step's forward and backward\n"
             "    net = torch.nn.Sequential(\n"
             "        torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(), dropout(),\n"
             "        torch.nn.Linear(256, 256), torch.nn.ReLU(), dropout(), torch.nn.Linear(256, 10))\n"
             "    return lambda X: F.cross_entropy(net(X.detach()), y_batch)  # no gradient for X\n"
             "\n"
             "\n"
             "y_batch = torch.randint(0, 10, (256,))\n"
             "steps = {'no dropout': mlp_step(torch.nn.Identity),\n"
             "         'nn.Dropout(0.5)': mlp_step(lambda: torch.nn.Dropout(0.5)),\n"
             "         'FastDropout(0.5)': mlp_step(lambda: d2l_ext.FastDropout(0.5))}\n"
             "step = time_ops(steps, torch.rand(256, 1, 28, 28), reps=20, backward=True)\n"
             "for name, ms in step.items():\n"
             "    print(f'{name:<17} {ms / step[\"no dropout\"]:4.2f} x the step without dropout')",
             tags=["nbval-ignore-output"]),
        assert_cell("# 1.38-1.43 and 1.16-1.21 in four runs, under both CPU kernel sets, when this was written\n"
                    "assert step['nn.Dropout(0.5)'] > 1.15 * step['no dropout']\n"
                    "if fd.native_available():\n"
                    "    assert step['FastDropout(0.5)'] < step['nn.Dropout(0.5)']"),
        md("The rest of the step, matrix multiplies included, still takes most of the time, but dropout is\n"
           "no rounding error: with `nn.Dropout` the step took about 1.4 times as long as without dropout\n"
           "when this was written (the ratio varies with the machine), and `FastDropout` cut the extra time\n"
           "by about half."),
    ]),
    ("replace", "dropped fraction equal to $p$ within binomial noise and nothing saved per entry.",
     "dropped fraction equal to $p$ within binomial noise and nothing saved per entry.\n"
     "- In a training step of the lecture's MLP, `nn.Dropout` added about 40% to the time here and\n"
     "  `FastDropout` about half as much: not negligible next to the matrix multiplies."),
]

EDITS = {
    "00_why_regularize.ipynb": E00,
    "02_inverted_scaling.ipynb": E02,
    "03_dropout_from_scratch.ipynb": E03,
    "04_dropout_mlp_scratch.ipynb": E04,
    "05_dropout_mlp_concise.ipynb": E05,
    "06_why_dropout_works.ipynb": E06,
    "07_dropout_in_practice.ipynb": E07,
    "solutions/04_dropout_mlp_scratch_solutions.ipynb": E04S,
    "08_cost_of_dropout.ipynb": E08,
}


def _text(cell):
    return "".join(cell["source"])


def _one(nb, name, needle):
    hits = [i for i, cell in enumerate(nb["cells"]) if needle in _text(cell)]
    if len(hits) != 1:
        raise SystemExit(f"{name}: {needle[:60]!r} is in {len(hits)} cells, not 1; "
                         "fix the edit in tools/issue12_claims.py")
    return hits[0]


def apply(nb, edits, name):
    """Apply the edits that are not there yet; return how many were applied."""
    done = 0
    for kind, old, new in edits:
        texts = [_text(cell) for cell in nb["cells"]]
        if kind == "after":
            if any(_text(new[0]) in t for t in texts):
                continue
            i = _one(nb, name, old)
            nb["cells"][i + 1:i + 1] = [dict(cell) for cell in new]
        else:  # 'replace' a phrase by `new`; 'code': the whole cell becomes `new`, or new(old)
            after = new(old) if callable(new) else new
            if any(after in t for t in texts):
                continue
            olds = old if isinstance(old, list) else [old]  # earlier wordings of the same edit
            old = next((o for o in olds if any(o in t for t in texts)), olds[0])
            i = _one(nb, name, old)
            whole = kind == "code" and not callable(new)
            text = after if whole else texts[i].replace(old, after, 1)
            nb["cells"][i]["source"] = text.splitlines(keepends=True)
        done += 1
    return done


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report, change nothing")
    args = parser.parse_args(argv)
    todo = {}
    for name, edits in EDITS.items():  # a dry run first: every needle must be found
        nb = json.loads((NB / name).read_text(encoding="utf-8"))
        todo[name] = apply(nb, edits, name)
        print(f"{name}: {todo[name]} edits to apply")
    if args.check or not any(todo.values()):
        return
    with refs.notebook_lock():
        for name, edits in EDITS.items():
            path = NB / name
            nb = json.loads(path.read_text(encoding="utf-8"))  # read again under the lock
            if apply(nb, edits, name):
                refs.write(path, nb)


if __name__ == "__main__":
    main()
