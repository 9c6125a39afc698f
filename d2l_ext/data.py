"""Fashion-MNIST as tensors: fetched once, checksum-verified, served by tensor indexing.

Introduced in notebooks/00_why_regularize.ipynb.
"""

import contextlib
import functools
import gzip
import hashlib
import os
import re
import shutil
import tempfile
import urllib.request
from pathlib import Path

import torch
import torchvision
from d2l import torch as d2l
from torchvision.datasets.mnist import read_image_file, read_label_file
from torchvision.transforms import functional as TF

__all__ = ['FashionMNIST', 'SMALL_DATA', 'fetch', 'load_tensors', 'raw_folder']

REPO = Path(__file__).resolve().parents[1]
ARCHIVES = [name for name, _ in torchvision.datasets.FashionMNIST.resources]  # official names
MIRRORS = torchvision.datasets.FashionMNIST.mirrors
# The course's one "more capacity than data" setting (`FashionMNIST(**SMALL_DATA)`, trained with the
# lecture's SGD at lr 0.1): 1000 training images, the first 2000 test images to validate, batch 64.
SMALL_DATA = {'num_train': 1000, 'num_val': 2000, 'batch_size': 64}


@functools.cache
def sha256_table():
    """{file name: SHA-256} of the archives and their decompressed files, from data/README.md."""
    readme = REPO / 'data' / 'README.md'
    if not readme.exists():  # a non-editable install has no repository around it
        raise FileNotFoundError(f'd2l_ext reads the Fashion-MNIST checksums from {readme}, which '
                                'is missing: install d2l_ext from a clone with `pip install -e .`')
    return dict(re.findall(r'^\| (\S+) \| \d+ \| [0-9a-f]{32} \| ([0-9a-f]{64}) \|$',
                           readme.read_text(), re.M))


def raw_folder(root):
    """The folder torchvision's FashionMNIST(root=root) reads: ROOT/FashionMNIST/raw."""
    return Path(root) / 'FashionMNIST' / 'raw'


def _advice(root):
    """How to put the files in place, in the words that fit where the user is."""
    if Path(root).resolve() == REPO / 'data' and (REPO / 'Makefile').exists():
        return f'Run `make data` in {REPO} to fetch and verify them.'
    return (f'd2l_ext.fetch({str(root)!r}) fetches and verifies them (pass source=, a folder with '
            'the four official .gz files, on a machine without internet).')


def _digest(path):
    with open(path, 'rb') as f:
        return hashlib.file_digest(f, 'sha256').hexdigest()


def _is_valid(path):
    return path.exists() and _digest(path) == sha256_table()[path.name]


def _verify(path, name, origin=None, advice=''):
    """Raise ValueError naming the file and the checksums unless `path` is the official `name`."""
    got, expected = _digest(path), sha256_table()[name]
    if got != expected:
        raise ValueError(f'{origin or path} is not the official Fashion-MNIST {name} (corrupted '
                         f'or truncated?): SHA-256 is {got}, expected {expected}. {advice}'.strip())


@contextlib.contextmanager
def replaced_atomically(path):
    """Yield a temporary sibling of `path`: it replaces `path` if the block completes, else goes."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.', suffix='.part')
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _write_verified(path, src, origin):
    """Copy the file object `src` to `path` if its bytes verify: an interrupted copy leaves none."""
    with replaced_atomically(path) as tmp:
        with open(tmp, 'wb') as f:
            shutil.copyfileobj(src, f)
        _verify(tmp, path.name, origin)


def _fetch_archive(folder, name, source):
    """Put the archive `name` into `folder` from `source` (a folder) or the official mirrors."""
    target = folder / name
    if _is_valid(target):
        return 'verified'
    local = Path(source) / name if source else None
    if local and local.exists():
        with open(local, 'rb') as src:
            _write_verified(target, src, local)
        return f'copied from {local}'
    errors = []
    for url in (mirror + name for mirror in MIRRORS):
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                _write_verified(target, response, url)
            return f'downloaded from {url}'
        except (OSError, ValueError) as error:  # try the next mirror
            errors.append(f'{url}: {error}')
    raise RuntimeError(f'could not fetch {name} ({"; ".join(errors)}). Put the four official '
                       'Fashion-MNIST .gz files in a folder and pass it as source (in a clone of '
                       'the course: `make data FASHION_MNIST_SOURCE=that/folder`).')


def _extract(archive):
    """Decompress `archive` (a verified .gz) beside it, unless a verified copy is already there."""
    idx = archive.with_suffix('')
    if not _is_valid(idx):
        with gzip.open(archive, 'rb') as src:
            _write_verified(idx, src, archive)


def fetch(root='data', source=None):
    """Put the verified archives and their IDX files under root/FashionMNIST/raw, keeping those that
    verify; the others come from `source` (a folder with the official .gz files) or the mirrors."""
    folder = raw_folder(root)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ARCHIVES:
        how = _fetch_archive(folder, name, source)
        _extract(folder / name)
        print(f'{name}: {how}; archive and decompressed file SHA-256 ok')
    return folder


@functools.lru_cache(maxsize=4)
def load_tensors(root, train):
    """Verified uint8 images (N, 28, 28) and int64 labels (N,) from torchvision's raw folder (IDX
    files, or official .gz archives decompressed beside them), parsed once per process."""
    folder, prefix = raw_folder(root), 'train' if train else 't10k'
    paths = [folder / f'{prefix}-images-idx3-ubyte', folder / f'{prefix}-labels-idx1-ubyte']
    for path in paths:
        archive = path.with_name(f'{path.name}.gz')
        if not path.exists() and archive.exists():
            _verify(archive, archive.name, advice=_advice(root))
            _extract(archive)
        if not path.exists():
            raise FileNotFoundError(f'Fashion-MNIST file {path} is missing. {_advice(root)}')
        _verify(path, path.name, advice=_advice(root))
    return read_image_file(str(paths[0])), read_label_file(str(paths[1]))


class _Scaled(torch.utils.data.Dataset):
    """uint8 images and their labels; indexing returns the images as float32 in [0, 1]."""
    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):  # a list of indices: a whole batch in one indexing call
        if isinstance(index, list):  # index_select takes a fraction of advanced indexing's time
            index = torch.tensor(index)
            images, labels = self.images.index_select(0, index), self.labels.index_select(0, index)
        else:
            images, labels = self.images[index], self.labels[index]
        return images.float() / 255, labels

    @property
    def tensors(self):  # (float32 images, labels) as in a TensorDataset, made on each access
        return self[:]


class FashionMNIST(d2l.FashionMNIST):
    """d2l.FashionMNIST's batches (float32 in [0, 1], (B, 1, H, W), int64 labels), from tensors in
    memory: no PIL, no worker processes; uint8 images, shared per root, scaled batch by batch."""
    def __init__(self, batch_size=64, resize=(28, 28), root='../data', num_train=None,
                 num_val=None):
        # d2l.FashionMNIST.__init__ would decode every image through PIL: skip to DataModule's.
        d2l.DataModule.__init__(self, root=root, num_workers=0)
        self.save_hyperparameters()
        self.train = self._dataset(train=True, num=num_train)
        self.val = self._dataset(train=False, num=num_val)

    def _dataset(self, train, num=None):
        images, labels = load_tensors(str(Path(self.root).resolve()), train)
        X = images[:num].unsqueeze(1)  # (N, 1, 28, 28), uint8
        if tuple(self.resize) != tuple(X.shape[-2:]):
            X = TF.resize(X, list(self.resize), antialias=True)
        return _Scaled(X, labels[:num])

    def get_dataloader(self, train):
        data = self.train if train else self.val
        sampler = torch.utils.data.RandomSampler if train else torch.utils.data.SequentialSampler
        batches = torch.utils.data.BatchSampler(sampler(data), self.batch_size, drop_last=False)
        return torch.utils.data.DataLoader(data, batch_size=None, sampler=batches)


def main():
    """`make data`: fetch Fashion-MNIST into ./data from $FASHION_MNIST_SOURCE or the mirrors."""
    folder = fetch('data', os.environ.get('FASHION_MNIST_SOURCE') or None)
    print(f'Fashion-MNIST ready in {folder}')
