"""d2l_ext.data: verified fetching, clear errors on bad files, batches equal to d2l's."""

import gzip
import shutil
from pathlib import Path

import pytest
import torch
from d2l import torch as d2l

import d2l_ext
from d2l_ext import data as fm

REPO_DATA = Path(__file__).resolve().parents[1] / 'data'
NAMES = list(fm.ARCHIVES)


@pytest.fixture(scope='module')
def source():
    """The verified archives `make data` put in the repository's data folder."""
    folder = fm.raw_folder(REPO_DATA)
    if not all((folder / name).exists() for name in NAMES):
        pytest.fail('Fashion-MNIST is missing: run `make data` first')
    return folder


@pytest.fixture(scope='module')
def fetched(tmp_path_factory, source):
    root = tmp_path_factory.mktemp('root')
    fm.fetch(root, source)
    return root


def leftovers(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.startswith('.'))


def test_fetch_copies_verifies_and_extracts(fetched):
    folder = fm.raw_folder(fetched)
    for name in NAMES:
        assert fm._digest(folder / name, 'md5') == fm.ARCHIVES[name]
        idx = folder / name.removesuffix('.gz')
        assert fm._digest(idx, 'sha256') == fm.IDX_SHA256[idx.name]
    assert leftovers(folder) == []


def test_fetch_replaces_a_truncated_archive(tmp_path, source):
    folder = fm.raw_folder(tmp_path)
    folder.mkdir(parents=True)
    name = 't10k-labels-idx1-ubyte.gz'
    (folder / name).write_bytes((source / name).read_bytes()[:100])
    fm.fetch(tmp_path, source)
    assert fm._digest(folder / name, 'md5') == fm.ARCHIVES[name]


def test_corrupted_source_is_rejected_and_leaves_nothing(tmp_path, source):
    bad_source = tmp_path / 'bad'
    shutil.copytree(source, bad_source, ignore=shutil.ignore_patterns('*ubyte'))
    name = 'train-labels-idx1-ubyte.gz'
    (bad_source / name).write_bytes((source / name).read_bytes()[:-10])
    root = tmp_path / 'root'
    expected = fm.ARCHIVES[name]
    with pytest.raises(ValueError, match=rf'{name}.*MD5 is [0-9a-f]+, expected {expected}'):
        fm.fetch(root, bad_source)
    folder = fm.raw_folder(root)
    assert not (folder / name).exists()
    assert leftovers(folder) == []


def test_interrupted_copy_leaves_no_partial_file(tmp_path, source, monkeypatch):
    def copy_then_die(src, dst, *args):
        dst.write(src.read(1000))
        raise KeyboardInterrupt

    monkeypatch.setattr(fm.shutil, 'copyfileobj', copy_then_die)
    with pytest.raises(KeyboardInterrupt):
        fm.fetch(tmp_path, source)
    assert list(fm.raw_folder(tmp_path).iterdir()) == []


def test_missing_data_names_make_data(tmp_path):
    with pytest.raises(FileNotFoundError, match='make data'):
        d2l_ext.FashionMNIST(root=tmp_path)


def test_corrupted_idx_names_file_and_checksum(tmp_path, fetched):
    root = tmp_path / 'root'
    shutil.copytree(fetched, root)
    idx = fm.raw_folder(root) / 't10k-labels-idx1-ubyte'
    idx.write_bytes(idx.read_bytes()[:-1])
    with pytest.raises(ValueError, match=r't10k-labels-idx1-ubyte.*SHA256 is .*make data'):
        fm.load_tensors(str(root), False)


def test_gzip_of_extracted_file_matches_archive(fetched):
    # the loader parses the extracted bytes: they must be the archive's content
    folder = fm.raw_folder(fetched)
    with gzip.open(folder / 't10k-labels-idx1-ubyte.gz') as f:
        assert f.read() == (folder / 't10k-labels-idx1-ubyte').read_bytes()


def d2l_loader(batch_size, train, resize=(28, 28)):
    """d2l's own loader, on the repository's data, without worker processes."""
    data = d2l.FashionMNIST(batch_size=batch_size, resize=resize)
    data.num_workers = 0
    return data.get_dataloader(train)


@pytest.fixture(autouse=True)
def d2l_root(monkeypatch):
    # d2l.DataModule hard-codes root='../data'; point it at the repository's data folder.
    defaults = d2l.DataModule.__init__.__defaults__
    monkeypatch.setattr(d2l.DataModule.__init__, '__defaults__', (str(REPO_DATA),) + defaults[1:])


def test_validation_batches_equal_d2l():
    ours = d2l_ext.FashionMNIST(batch_size=500, root=REPO_DATA).val_dataloader()
    for (X, y), (X_ref, y_ref), _ in zip(ours, d2l_loader(500, train=False), range(3)):
        assert X.dtype == torch.float32 and y.dtype == torch.int64
        assert X.shape == (500, 1, 28, 28)
        assert torch.equal(X, X_ref) and torch.equal(y, y_ref)


def test_shuffled_training_batches_equal_d2l_under_the_same_seed():
    torch.manual_seed(7)
    X, y = next(iter(d2l_ext.FashionMNIST(batch_size=64, root=REPO_DATA).train_dataloader()))
    torch.manual_seed(7)
    X_ref, y_ref = next(iter(d2l_loader(64, train=True)))
    assert torch.equal(X, X_ref) and torch.equal(y, y_ref)


def test_resize_is_within_one_gray_level_of_d2l():
    ours = d2l_ext.FashionMNIST(batch_size=256, resize=(32, 32), root=REPO_DATA)
    X, y = next(iter(ours.val_dataloader()))
    X_ref, y_ref = next(iter(d2l_loader(256, train=False, resize=(32, 32))))
    assert X.shape == X_ref.shape == (256, 1, 32, 32)
    assert (X - X_ref).abs().max() <= 1.01 / 255 and torch.equal(y, y_ref)


def test_epoch_covers_the_training_set_once():
    data = d2l_ext.FashionMNIST(batch_size=256, root=REPO_DATA, num_train=1000)
    labels = torch.cat([y for _, y in data.train_dataloader()])
    loader = data.train_dataloader()
    assert len(loader) == 4 and labels.numel() == 1000
    assert torch.equal(labels.sort().values, data.train.tensors[1].sort().values)


def test_text_labels_match_d2l():
    data = d2l_ext.FashionMNIST(root=REPO_DATA)
    assert data.text_labels(range(10)) == d2l.FashionMNIST.text_labels(None, range(10))
