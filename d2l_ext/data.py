"""Fashion-MNIST as tensors: fetched once, checksum-verified, served by tensor indexing.

Introduced in notebooks/00_why_regularize.ipynb.
"""

import functools
import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

import torch
import torchvision
from d2l import torch as d2l
from torchvision.datasets.mnist import read_image_file, read_label_file
from torchvision.transforms import functional as TF

__all__ = ['FashionMNIST', 'fetch', 'load_tensors', 'raw_folder']

# Official archives and their MD5s, as torchvision knows them.
ARCHIVES = dict(torchvision.datasets.FashionMNIST.resources)
MIRRORS = torchvision.datasets.FashionMNIST.mirrors
# SHA-256 of the decompressed IDX files (data/README.md), the bytes the loader parses.
IDX_SHA256 = {
    'train-images-idx3-ubyte': 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
    'train-labels-idx1-ubyte': 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
    't10k-images-idx3-ubyte': '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
    't10k-labels-idx1-ubyte': '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
}
TEXT_LABELS = ['t-shirt', 'trouser', 'pullover', 'dress', 'coat',
               'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot']


def raw_folder(root):
    """The folder torchvision's FashionMNIST(root=root) reads: ROOT/FashionMNIST/raw."""
    return Path(root) / 'FashionMNIST' / 'raw'


def _digest(path, algorithm):
    with open(path, 'rb') as f:
        return hashlib.file_digest(f, algorithm).hexdigest()


def _verify(path, algorithm, expected):
    """Raise a clear error if `path` is missing or its checksum is not `expected`."""
    if not path.exists():
        raise FileNotFoundError(
            f'Fashion-MNIST file {path} is missing: run `make data` (from the repository root) '
            'to fetch and verify the dataset.')
    got = _digest(path, algorithm)
    if got != expected:
        raise ValueError(
            f'Fashion-MNIST file {path} is corrupted or truncated: {algorithm.upper()} is {got}, '
            f'expected {expected}. Run `make data` to replace it.')


def _write_verified(path, write, algorithm, expected, origin):
    """Call write(file) on a temporary sibling of `path`; rename it into place only if it verifies.

    An interrupted or corrupted copy never takes the place of `path`.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.', suffix='.part')
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
        got = _digest(tmp, algorithm)
        if got != expected:
            raise ValueError(f'{origin} does not match the official {path.name}: '
                             f'{algorithm.upper()} is {got}, expected {expected}.')
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _is_valid(path, algorithm, expected):
    return path.exists() and _digest(path, algorithm) == expected


def _download(url, f):
    with urllib.request.urlopen(url, timeout=60) as response:
        shutil.copyfileobj(response, f)


def _fetch_archive(folder, name, source):
    """Put the archive `name` into `folder` from `source` (a folder) or the official mirrors."""
    target, md5 = folder / name, ARCHIVES[name]
    if _is_valid(target, 'md5', md5):
        return 'verified'
    local = Path(source) / name if source else None
    if local and local.exists():
        with open(local, 'rb') as src:
            _write_verified(target, lambda f: shutil.copyfileobj(src, f), 'md5', md5, local)
        return f'copied from {local}'
    errors = []
    for url in (mirror + name for mirror in MIRRORS):
        try:
            _write_verified(target, lambda f: _download(url, f), 'md5', md5, url)
            return f'downloaded from {url}'
        except (OSError, ValueError) as error:  # try the next mirror
            errors.append(f'{url}: {error}')
    raise RuntimeError(f'could not fetch {name} ({"; ".join(errors)}). Put the four official '
                       'Fashion-MNIST .gz files in a folder and run '
                       '`make data FASHION_MNIST_SOURCE=that/folder`.')


def _extract(folder, name):
    """Decompress `name`.gz into `name` unless a verified copy is already there."""
    idx = folder / name.removesuffix('.gz')
    expected = IDX_SHA256[idx.name]
    if not _is_valid(idx, 'sha256', expected):
        with gzip.open(folder / name, 'rb') as src:
            _write_verified(idx, lambda f: shutil.copyfileobj(src, f), 'sha256', expected,
                            folder / name)


def fetch(root='data', source=None):
    """Put the verified archives and their decompressed IDX files under root/FashionMNIST/raw.

    Files that are already there and verify are kept; missing or corrupted ones are replaced from
    `source` (a folder with the four official .gz files) or, failing that, downloaded.
    """
    folder = raw_folder(root)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ARCHIVES:
        how = _fetch_archive(folder, name, source)
        _extract(folder, name)
        print(f'{name}: {how}; MD5 and SHA-256 ok')
    return folder


@functools.lru_cache(maxsize=4)
def load_tensors(root, train):
    """Verified uint8 images (N, 28, 28) and int64 labels (N,), parsed once per process."""
    folder, prefix = raw_folder(root), 'train' if train else 't10k'
    images, labels = folder / f'{prefix}-images-idx3-ubyte', folder / f'{prefix}-labels-idx1-ubyte'
    for path in (images, labels):
        _verify(path, 'sha256', IDX_SHA256[path.name])
    return read_image_file(str(images)), read_label_file(str(labels))


class FashionMNIST(d2l.DataModule):
    """Drop-in for d2l.FashionMNIST that keeps the whole dataset in tensors.

    Batches equal d2l's (float32 in [0, 1], shape (B, 1, H, W), int64 labels), but they are cut
    from a pre-loaded tensor instead of decoded image by image through PIL by worker processes.
    """
    def __init__(self, batch_size=64, resize=(28, 28), root='../data', num_train=None):
        super().__init__(root=root, num_workers=0)
        self.save_hyperparameters()
        self.train = self._dataset(train=True, num=num_train)
        self.val = self._dataset(train=False)

    def _dataset(self, train, num=None):
        images, labels = load_tensors(str(Path(self.root).resolve()), train)
        images, labels = images[:num], labels[:num]
        X = images.unsqueeze(1)  # (N, 1, 28, 28), uint8
        if tuple(self.resize) != tuple(X.shape[-2:]):
            X = TF.resize(X, list(self.resize), antialias=True)
        return torch.utils.data.TensorDataset(X.float() / 255, labels)

    def text_labels(self, indices):
        """Return text labels."""
        return [TEXT_LABELS[int(i)] for i in indices]

    def get_dataloader(self, train):
        # Each sampled item is a whole list of indices, so a batch is one tensor-indexing call.
        data = self.train if train else self.val
        sampler = torch.utils.data.RandomSampler if train else torch.utils.data.SequentialSampler
        order = sampler(data)
        batches = torch.utils.data.BatchSampler(order, self.batch_size, drop_last=False)
        return torch.utils.data.DataLoader(data, batch_size=None, sampler=batches)

    def visualize(self, batch, nrows=1, ncols=8, labels=[]):
        """Show images of a batch with their labels."""
        X, y = batch
        if not labels:
            labels = self.text_labels(y)
        d2l.show_images(X.squeeze(1), nrows, ncols, titles=labels)


def main():
    """`make data`: fetch Fashion-MNIST into ./data from $FASHION_MNIST_SOURCE or the mirrors."""
    folder = fetch('data', os.environ.get('FASHION_MNIST_SOURCE') or None)
    print(f'Fashion-MNIST ready in {folder}')


if __name__ == '__main__':
    main()
