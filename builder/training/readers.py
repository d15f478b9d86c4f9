"""Readers for datasets on disk: MNIST-style IDX files, CIFAR binary batches, image folders.

Files are data: IDX and CIFAR records are parsed with numpy (never unpickled), images are
decoded by Pillow with a pixel cap. Every problem is a one-line
:class:`~builder.training.imagesets.DatasetError` naming the file. An empty ``data_dir`` for
CIFAR/MNIST means the copy fetched into the data folder (:mod:`builder.training.fetch`).
The ``*_raw`` readers return the images as stored (:class:`~builder.training.imagesets.RawSet`).
"""

from __future__ import annotations

import gzip
import os
import warnings
from pathlib import Path

import numpy as np

from builder.training.imagesets import Dataset, DatasetError, RawSet, check_classes, split

IDX_IMAGES, IDX_LABELS = 2051, 2049  # magic numbers: unsigned byte, 3 or 1 dimensions
MNIST_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "val": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot"]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck"]
CIFAR_PIXELS = 3 * 32 * 32
MAX_FILE_BYTES = 2 << 30
MAX_IMAGE_PIXELS = 4096 * 4096  # larger images are refused before decoding
MAX_IMAGES = 200_000
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def _read_bytes(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise DatasetError(f"{path}: file is larger than {MAX_FILE_BYTES >> 20} MiB")
        with open(path, "rb") as fh:
            data = fh.read()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DatasetError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    return data


def _find(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise DatasetError(f"{folder / stem}: file not found (also looked for {stem}.gz)")


def read_idx(path: str | os.PathLike[str], magic: int) -> np.ndarray:
    """An IDX array of unsigned bytes (``magic`` 2051 for images, 2049 for labels)."""
    path = Path(path)
    data = _read_bytes(path)
    ndim = 3 if magic == IDX_IMAGES else 1
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{path}: truncated IDX header ({len(data)} bytes)")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise DatasetError(f"{path}: wrong magic number {found} (expected {magic}); "
                           f"not an IDX {'image' if ndim == 3 else 'label'} file")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    expected = header + int(np.prod(dims))
    if len(data) != expected:
        raise DatasetError(f"{path}: {len(data)} bytes, expected {expected} for shape "
                           f"{'×'.join(map(str, dims))} (truncated or corrupt)")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _idx_pair(folder: Path, images: str, labels: str) -> tuple[np.ndarray, np.ndarray]:
    x = read_idx(_find(folder, images), IDX_IMAGES)
    label_path = _find(folder, labels)
    y = read_idx(label_path, IDX_LABELS)
    if len(x) != len(y):
        raise DatasetError(f"{label_path}: {len(y)} labels for {len(x)} images")
    if len(y) and y.max() > 9:
        raise DatasetError(f"{label_path}: label {int(y.max())} is not a digit class 0-9")
    return x, y


def mnist_raw(data_dir: str, name: str = "mnist") -> RawSet:
    """MNIST or Fashion-MNIST from a folder of the four standard IDX files (gzipped or not)."""
    folder = _set_folder(name, data_dir)
    x_train, y_train = _idx_pair(folder, *MNIST_FILES["train"])
    x_val, y_val = _idx_pair(folder, *MNIST_FILES["val"])
    classes = FASHION_CLASSES if name == "fashion_mnist" else [str(i) for i in range(10)]
    return RawSet(name, x_train, y_train.astype(np.int64), x_val, y_val.astype(np.int64), classes)


def mnist(data_dir: str, name: str = "mnist", image_size: int = 0) -> Dataset:
    """MNIST or Fashion-MNIST as a normalised :class:`Dataset` (see :func:`mnist_raw`)."""
    return mnist_raw(data_dir, name).to_dataset(image_size)


def read_cifar_bin(path: str | os.PathLike[str], label_bytes: int, num_classes: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR binary batch: records of label byte(s) + 3,072 pixel bytes (the last label is used)."""
    path = Path(path)
    data = _read_bytes(path)
    record = label_bytes + CIFAR_PIXELS
    if not data or len(data) % record:
        raise DatasetError(f"{path}: {len(data)} bytes is not a whole number of {record}-byte "
                           "CIFAR records (truncated or not the binary version)")
    rows = np.frombuffer(data, dtype=np.uint8).reshape(-1, record)
    labels = rows[:, label_bytes - 1].astype(np.int64)
    if labels.max() >= num_classes:
        raise DatasetError(f"{path}: label {int(labels.max())} is out of range for "
                           f"{num_classes} classes (wrong CIFAR version?)")
    return rows[:, label_bytes:].reshape(-1, 3, 32, 32), labels


def cifar_raw(data_dir: str, name: str = "cifar10") -> RawSet:
    """CIFAR-10 (``data_batch_1..5.bin``, ``test_batch.bin``) or CIFAR-100 (``train.bin``, ``test.bin``)."""
    folder = _set_folder(name, data_dir)
    if name == "cifar10":
        sub = folder / "cifar-10-batches-bin"
        folder = sub if sub.is_dir() else folder
        train_files = [folder / f"data_batch_{i}.bin" for i in range(1, 6)]
        val_files, label_bytes = [folder / "test_batch.bin"], 1
        classes = _label_names(folder / "batches.meta.txt", CIFAR10_CLASSES)
    else:
        sub = folder / "cifar-100-binary"
        folder = sub if sub.is_dir() else folder
        train_files, val_files = [folder / "train.bin"], [folder / "test.bin"]
        label_bytes = 2
        classes = _label_names(folder / "fine_label_names.txt", [f"class{i}" for i in range(100)])
    for path in train_files + val_files:
        if not path.is_file():
            raise DatasetError(f"{path}: file not found (expected the CIFAR binary version)")
    parts = [read_cifar_bin(p, label_bytes, len(classes)) for p in train_files]
    x_val, y_val = read_cifar_bin(val_files[0], label_bytes, len(classes))
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    return RawSet(name, x_train, y_train, x_val, y_val, classes)


def cifar(data_dir: str, name: str = "cifar10", image_size: int = 0) -> Dataset:
    """CIFAR-10 or CIFAR-100 as a normalised :class:`Dataset` (see :func:`cifar_raw`)."""
    return cifar_raw(data_dir, name).to_dataset(image_size)


def _label_names(path: Path, default: list[str]) -> list[str]:
    """Class names from a CIFAR ``*.txt`` (one per line) when it has exactly as many as expected."""
    try:
        names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError):
        return default
    return names if len(names) == len(default) else default


def image_folder_raw(data_dir: str, image_size: int = 32, val_fraction: float = 0.2, seed: int = 0
                     ) -> RawSet:
    """Images in one sub-folder per class, resized to ``image_size``² RGB (uint8)."""
    folder = _folder(data_dir)
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DatasetError(f"{folder}: no class sub-folders (expected one folder of images per class)")
    if len(classes) == 1:
        raise DatasetError(f"{folder}: only one class sub-folder ({classes[0]!r}); classification "
                           "needs two or more classes — put each class's images in its own sub-folder")
    files = [(p, i) for i, c in enumerate(classes) for p in sorted((folder / c).iterdir())
             if p.suffix.lower() in IMAGE_SUFFIXES]
    empty = [c for i, c in enumerate(classes) if not any(j == i for _, j in files)]
    if len(classes) - len(empty) < 2:
        raise DatasetError(f"{folder}: only {len(classes) - len(empty)} class sub-folder(s) hold images "
                           f"(no images in {', '.join(empty)}); classification needs two or more classes")
    if len(files) < 2:
        raise DatasetError(f"{folder}: found {len(files)} image(s); need at least 2")
    if len(files) > MAX_IMAGES:
        raise DatasetError(f"{folder}: {len(files)} images is more than the {MAX_IMAGES} allowed")
    x = np.stack([_read_image(p, image_size) for p, _ in files])
    y = np.array([i for _, i in files], dtype=np.int64)
    train, val = split(len(y), val_fraction, seed)
    check_classes(str(folder), y[train], classes)
    return RawSet("folder", x[train], y[train], x[val], y[val], classes)


def image_folder(data_dir: str, image_size: int = 32, val_fraction: float = 0.2, seed: int = 0
                 ) -> Dataset:
    """Images in one sub-folder per class as a normalised :class:`Dataset`."""
    return image_folder_raw(data_dir, image_size, val_fraction, seed).to_dataset()


def _read_image(path: Path, size: int) -> np.ndarray:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(path)
        with img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise DatasetError(f"{path}: {img.width}×{img.height} image is larger than the "
                                   f"{MAX_IMAGE_PIXELS} pixel cap")
            rgb = img.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
            return np.asarray(rgb, dtype=np.uint8).transpose(2, 0, 1)
    except DatasetError:
        raise
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DatasetError(f"{path}: not a readable image ({exc})") from None


def _set_folder(name: str, data_dir: str) -> Path:
    """``data_dir``, or when it is empty the set's fetched copy in the data folder."""
    if data_dir:
        return _folder(data_dir)
    from builder.training import fetch

    folder = fetch.fetched_dir(name)
    if folder is None:
        raise DatasetError(f"{name}: not on this computer yet — run `python main.py data fetch {name}` "
                           f"(or Train → Get Data Set…), or choose the folder with its files")
    return folder


def _folder(data_dir: str) -> Path:
    folder = Path(data_dir)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: data folder not found")
    return folder
