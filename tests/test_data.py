"""d2l_ext.data: verified fetching, clear errors on bad files, batches equal to d2l's.

The tests run on a fresh clone, before `make data`: a tiny synthetic Fashion-MNIST (IDX files in
the official layout, written to a temporary folder) stands in for the real one, its checksums in
place of the official ones. Only the tests marked `needs_real_data` read the repository's data/.
"""

import gzip
import hashlib
import re
import shutil
from pathlib import Path

import matplotlib
import pytest
import torch
import torchvision
from d2l import torch as d2l
from matplotlib import pyplot as plt

import d2l_ext
from d2l_ext import data as fm

REPO_DATA = Path(__file__).resolve().parents[1] / 'data'
NAMES = fm.ARCHIVES  # the four official .gz names
needs_real_data = pytest.mark.skipif(
    not all((fm.raw_folder(REPO_DATA) / name).exists() for name in NAMES),
    reason='Fashion-MNIST is not in data/ yet: `make data`')


def idx(tensor):
    """The IDX encoding of a uint8 tensor: magic (0, 0, 0x08 = unsigned byte, ndim), sizes, data."""
    sizes = b''.join(size.to_bytes(4, 'big') for size in tensor.shape)
    return bytes([0, 0, 0x08, tensor.dim()]) + sizes + tensor.numpy().tobytes()


@pytest.fixture(scope='session')
def synthetic(tmp_path_factory):
    """A folder with four .gz archives of a tiny Fashion-MNIST, and their {name: SHA-256}."""
    folder, table = tmp_path_factory.mktemp('synthetic'), {}
    gen = torch.Generator().manual_seed(0)
    for prefix, n in (('train', 300), ('t10k', 100)):
        coarse = torch.randint(0, 256, (n, 7, 7), generator=gen, dtype=torch.uint8)
        images = coarse.repeat_interleave(4, 1).repeat_interleave(4, 2)  # (n, 28, 28), blocky
        labels = torch.randint(0, 10, (n,), generator=gen, dtype=torch.uint8)
        for kind, tensor in (('images-idx3-ubyte', images), ('labels-idx1-ubyte', labels)):
            name, raw = f'{prefix}-{kind}', idx(tensor)
            archive = gzip.compress(raw, mtime=0)
            (folder / f'{name}.gz').write_bytes(archive)
            table[name] = hashlib.sha256(raw).hexdigest()
            table[f'{name}.gz'] = hashlib.sha256(archive).hexdigest()
    return folder, table


@pytest.fixture(autouse=True)
def source(synthetic, monkeypatch):
    """The synthetic archives' folder; their checksums replace the official ones for the test."""
    folder, table = synthetic
    monkeypatch.setattr(fm, 'sha256_table', lambda: table)
    fm.load_tensors.cache_clear()
    yield folder
    fm.load_tensors.cache_clear()


@pytest.fixture
def fetched(tmp_path, source):
    root = tmp_path / 'root'
    fm.fetch(root, source)
    return root


def leftovers(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.startswith('.'))


def test_fetch_copies_verifies_and_extracts(fetched, synthetic):
    folder, table = fm.raw_folder(fetched), synthetic[1]
    assert sorted(p.name for p in folder.iterdir()) == sorted(table)
    assert all(fm._digest(folder / name) == table[name] for name in table)
    assert leftovers(folder) == []


def test_fetch_replaces_a_truncated_archive(tmp_path, source):
    folder = fm.raw_folder(tmp_path)
    folder.mkdir(parents=True)
    name = 't10k-labels-idx1-ubyte.gz'
    (folder / name).write_bytes((source / name).read_bytes()[:100])
    fm.fetch(tmp_path, source)
    assert (folder / name).read_bytes() == (source / name).read_bytes()


def test_corrupted_source_is_rejected_and_leaves_nothing(tmp_path, source, synthetic):
    bad_source = tmp_path / 'bad'
    shutil.copytree(source, bad_source)
    name = 'train-labels-idx1-ubyte.gz'
    (bad_source / name).write_bytes((source / name).read_bytes()[:-10])
    root = tmp_path / 'root'
    expected = synthetic[1][name]
    with pytest.raises(ValueError, match=rf'{name}.*SHA-256 is [0-9a-f]+, expected {expected}'):
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


def test_missing_data_outside_a_clone_says_how_to_fetch_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(f"d2l_ext.fetch('{tmp_path}')")):
        d2l_ext.FashionMNIST(root=tmp_path)


def test_missing_data_in_a_clone_says_make_data(tmp_path, monkeypatch):
    (tmp_path / 'Makefile').touch()
    monkeypatch.setattr(fm, 'REPO', tmp_path)
    with pytest.raises(FileNotFoundError, match=rf'Run `make data` in {re.escape(str(tmp_path))}'):
        d2l_ext.FashionMNIST(root=tmp_path / 'data')


def test_corrupted_idx_names_file_and_checksum(fetched):
    path = fm.raw_folder(fetched) / 't10k-labels-idx1-ubyte'
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match=r't10k-labels-idx1-ubyte .*SHA-256 is .*d2l_ext.fetch'):
        fm.load_tensors(str(fetched), False)


def test_a_folder_with_only_the_archives_is_verified_and_decompressed(tmp_path, source, fetched):
    folder = fm.raw_folder(tmp_path)
    shutil.copytree(source, folder)
    data = d2l_ext.FashionMNIST(batch_size=50, root=tmp_path)
    assert all(fm._is_valid(folder / name.removesuffix('.gz')) for name in NAMES)
    X, y = next(iter(data.val_dataloader()))
    X_ref, y_ref = next(iter(d2l_ext.FashionMNIST(batch_size=50, root=fetched).val_dataloader()))
    assert torch.equal(X, X_ref) and torch.equal(y, y_ref)
    assert leftovers(folder) == []


def test_a_corrupted_archive_is_named_with_its_checksum(tmp_path, source, synthetic):
    folder = fm.raw_folder(tmp_path)
    shutil.copytree(source, folder)
    name = 'train-images-idx3-ubyte.gz'
    (folder / name).write_bytes((source / name).read_bytes()[:-100])
    with pytest.raises(ValueError, match=rf'{name} .*SHA-256 is [0-9a-f]{{64}}, expected '
                                         rf'{synthetic[1][name]}'):
        d2l_ext.FashionMNIST(root=tmp_path)
    assert not (folder / 'train-images-idx3-ubyte').exists() and leftovers(folder) == []


# --- batches equal d2l's --------------------------------------------------------------------------

def d2l_loader(root, batch_size, train, resize=(28, 28)):
    """d2l's own loader (torchvision, PIL) on the files under `root`, without worker processes."""
    data = d2l.FashionMNIST(batch_size=batch_size, resize=resize)
    data.num_workers = 0
    return data.get_dataloader(train)


@pytest.fixture
def d2l_root(monkeypatch, fetched):
    # d2l.DataModule hard-codes root='../data'; point it at the fetched folder.
    defaults = d2l.DataModule.__init__.__defaults__
    monkeypatch.setattr(d2l.DataModule.__init__, '__defaults__', (str(fetched),) + defaults[1:])
    return fetched


def test_validation_batches_equal_d2l(d2l_root):
    ours = d2l_ext.FashionMNIST(batch_size=40, root=d2l_root).val_dataloader()
    pairs = list(zip(ours, d2l_loader(d2l_root, 40, train=False)))
    assert len(pairs) == 3  # 100 images: 40, 40, 20
    for (X, y), (X_ref, y_ref) in pairs:
        assert X.dtype == torch.float32 and y.dtype == torch.int64
        assert torch.equal(X, X_ref) and torch.equal(y, y_ref)


def test_shuffled_training_batches_equal_d2l_under_the_same_seed(d2l_root):
    torch.manual_seed(7)
    ours = list(d2l_ext.FashionMNIST(batch_size=64, root=d2l_root).train_dataloader())
    torch.manual_seed(7)
    theirs = list(d2l_loader(d2l_root, 64, train=True))
    assert len(ours) == len(theirs) == 5
    assert all(torch.equal(X, X_ref) and torch.equal(y, y_ref)
               for (X, y), (X_ref, y_ref) in zip(ours, theirs))


def test_resize_is_within_one_gray_level_of_d2l(d2l_root):
    ours = d2l_ext.FashionMNIST(batch_size=100, resize=(32, 32), root=d2l_root)
    X, y = next(iter(ours.val_dataloader()))
    X_ref, y_ref = next(iter(d2l_loader(d2l_root, 100, train=False, resize=(32, 32))))
    assert X.shape == X_ref.shape == (100, 1, 32, 32)
    assert (X - X_ref).abs().max() <= 1.01 / 255 and torch.equal(y, y_ref)


def test_images_stay_uint8_shared_and_are_scaled_per_batch(fetched):
    a, b = (d2l_ext.FashionMNIST(root=fetched, num_train=n) for n in (None, 100))
    assert a.train.images.dtype == torch.uint8
    assert a.train.images.data_ptr() == b.train.images.data_ptr()  # one copy per root
    X, y = a.val[:50]
    assert X.dtype == torch.float32 and torch.equal(X * 255, a.val.images[:50].float())
    X_all, y_all = a.val.tensors  # what a TensorDataset holds, for code written against one
    assert torch.equal(X_all[:50], X) and torch.equal(y_all[:50], y) and len(a.val) == 100


def test_epoch_covers_the_training_set_once(fetched):
    data = d2l_ext.FashionMNIST(batch_size=64, root=fetched, num_train=200)
    loader = data.train_dataloader()
    labels = torch.cat([y for _, y in loader])
    assert len(loader) == 4 and labels.numel() == 200
    assert torch.equal(labels.sort().values, data.train.labels.sort().values)


def test_num_train_and_num_val_keep_the_first_images(fetched):
    small = d2l_ext.FashionMNIST(root=fetched, num_train=30, num_val=20)
    full = d2l_ext.FashionMNIST(root=fetched)
    assert (len(small.train), len(small.val)) == (30, 20)
    assert torch.equal(small.val[:][0], full.val[:20][0])
    assert torch.equal(small.train[:][1], full.train[:30][1])
    assert d2l_ext.SMALL_DATA == {'num_train': 1000, 'num_val': 2000, 'batch_size': 64}


def test_labels_and_pictures_are_d2ls(fetched):
    data = d2l_ext.FashionMNIST(batch_size=8, root=fetched)
    assert isinstance(data, d2l.FashionMNIST)
    X, y = next(iter(data.val_dataloader()))
    with matplotlib.rc_context({'backend': 'agg'}):
        data.visualize((X, y))
        titles = [ax.get_title() for ax in plt.gcf().axes]
        plt.close('all')
    assert titles == d2l.FashionMNIST.text_labels(None, y)


# --- the checksums: one place, the official values ------------------------------------------------

def test_readme_lists_torchvisions_md5s_and_the_sha256s_the_code_reads(monkeypatch):
    monkeypatch.undo()  # the official table, not the synthetic one
    readme = (REPO_DATA / 'README.md').read_text()
    md5 = dict(re.findall(r'^\| (\S+) \| \d+ \| ([0-9a-f]{32}) \|', readme, re.M))
    assert {name: md5[name] for name in NAMES} == dict(torchvision.datasets.FashionMNIST.resources)
    table = fm.sha256_table()
    assert len(table) == 8 and set(table) == set(md5)


def test_without_the_repository_the_error_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.undo()
    monkeypatch.setattr(fm, 'REPO', tmp_path)  # as in a non-editable install: no data/README.md
    with pytest.raises(FileNotFoundError, match=r'README.md, which is missing.*pip install -e'):
        fm.sha256_table.__wrapped__()


@needs_real_data
def test_the_real_files_verify_and_load(monkeypatch):
    monkeypatch.undo()
    images, labels = fm.load_tensors(str(REPO_DATA.resolve()), False)
    assert images.shape == (10_000, 28, 28) and labels.bincount().tolist() == [1000] * 10
