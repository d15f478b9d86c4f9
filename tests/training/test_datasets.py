"""Dataset readers on small files written here (valid, truncated, wrong magic), and built-ins."""

from __future__ import annotations

import gzip
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from builder.training import readers
from builder.training.config import TrainConfig
from builder.training.datasets import DatasetError, digits, load_dataset, make_dataset, split, synthetic


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape) + \
        array.astype(np.uint8).tobytes()


def write_mnist(folder: Path, n_train: int = 12, n_val: int = 6, gz: bool = False) -> None:
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_val)):
        images = rng.integers(0, 256, (n, 28, 28))
        labels = np.arange(n) % 10
        for name, arr, magic in ((f"{prefix}-images-idx3-ubyte", images, 2051),
                                 (f"{prefix}-labels-idx1-ubyte", labels, 2049)):
            raw = idx_bytes(arr, magic)
            if gz:
                (folder / (name + ".gz")).write_bytes(gzip.compress(raw))
            else:
                (folder / name).write_bytes(raw)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_idx_files(tmp_path: Path, gz: bool) -> None:
    write_mnist(tmp_path, gz=gz)
    data = readers.mnist(str(tmp_path), "fashion_mnist")
    assert data.x_train.shape == (12, 1, 28, 28) and data.x_val.shape == (6, 1, 28, 28)
    assert data.y_train.tolist() == [i % 10 for i in range(12)]
    assert data.classes[0] == "T-shirt/top" and data.num_classes == 10
    assert abs(float(data.x_train.mean())) < 1e-4  # normalised with the training statistics


def test_idx_truncated_and_wrong_magic(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    raw = path.read_bytes()
    path.write_bytes(raw[:-10])
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte: .* \(truncated or corrupt\)"):
        readers.mnist(str(tmp_path))
    path.write_bytes(raw[:6])
    with pytest.raises(DatasetError, match="truncated IDX header"):
        readers.read_idx(path, 2051)
    path.write_bytes(struct.pack(">I", 2049) + raw[4:])
    with pytest.raises(DatasetError, match="wrong magic number 2049 .*not an IDX image file"):
        readers.mnist(str(tmp_path))


def test_idx_problems_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="data folder not found"):
        readers.mnist(str(tmp_path / "nope"))
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte: file not found"):
        readers.mnist(str(tmp_path))
    write_mnist(tmp_path, gz=True)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DatasetError, match=r"t10k-labels-idx1-ubyte\.gz: cannot read"):
        readers.mnist(str(tmp_path))


def test_idx_label_count_must_match(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(5), 2049))
    with pytest.raises(DatasetError, match="5 labels for 12 images"):
        readers.mnist(str(tmp_path))


def cifar_records(n: int, label_bytes: int, classes: int) -> bytes:
    rng = np.random.default_rng(1)
    rows = rng.integers(0, 256, (n, label_bytes + 3072)).astype(np.uint8)
    rows[:, label_bytes - 1] = np.arange(n) % classes
    return rows.tobytes()


def write_cifar10(folder: Path) -> Path:
    sub = folder / "cifar-10-batches-bin"
    sub.mkdir()
    for i in range(1, 6):
        (sub / f"data_batch_{i}.bin").write_bytes(cifar_records(3, 1, 10))
    (sub / "test_batch.bin").write_bytes(cifar_records(4, 1, 10))
    return sub


def test_cifar10_binary(tmp_path: Path) -> None:
    write_cifar10(tmp_path)
    data = readers.cifar(str(tmp_path), "cifar10")
    assert data.x_train.shape == (15, 3, 32, 32) and len(data.y_val) == 4
    assert data.classes[:2] == ["airplane", "automobile"]
    raw = cifar_records(1, 1, 10)
    expected = np.frombuffer(raw[1:], dtype=np.uint8).reshape(3, 32, 32)[0, 0, :4] / 255.0
    x, _ = readers.read_cifar_bin(tmp_path / "cifar-10-batches-bin" / "test_batch.bin", 1, 10)
    assert np.allclose(x[0, 0, 0, :4] / 255.0, expected)


def test_cifar_truncated_missing_and_bad_label(tmp_path: Path) -> None:
    sub = write_cifar10(tmp_path)
    path = sub / "data_batch_3.bin"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(DatasetError, match=r"data_batch_3\.bin: 9218 bytes is not a whole number"):
        readers.cifar(str(tmp_path), "cifar10")
    path.unlink()
    with pytest.raises(DatasetError, match=r"data_batch_3\.bin: file not found"):
        readers.cifar(str(tmp_path), "cifar10")
    (tmp_path / "train.bin").write_bytes(cifar_records(3, 2, 100))
    (tmp_path / "test.bin").write_bytes(cifar_records(2, 1, 10))  # 3073-byte records, not 3074
    with pytest.raises(DatasetError, match=r"test\.bin: 6146 bytes"):
        readers.cifar(str(tmp_path), "cifar100")
    bad = bytearray(cifar_records(2, 2, 100))
    bad[1] = 200
    (tmp_path / "test.bin").write_bytes(bytes(bad))
    with pytest.raises(DatasetError, match="label 200 is out of range for 100 classes"):
        readers.cifar(str(tmp_path), "cifar100")


def test_cifar100_uses_fine_labels(tmp_path: Path) -> None:
    (tmp_path / "train.bin").write_bytes(cifar_records(5, 2, 100))
    (tmp_path / "test.bin").write_bytes(cifar_records(2, 2, 100))
    data = readers.cifar(str(tmp_path), "cifar100")
    assert data.num_classes == 100 and data.y_train.tolist() == [0, 1, 2, 3, 4]


def write_images(folder: Path, per_class: int = 3) -> None:
    from PIL import Image

    for k, name in enumerate(("cat", "dog")):
        (folder / name).mkdir()
        for i in range(per_class):
            Image.new("RGB", (20 + i, 10), (40 * k, 100, 10 * i)).save(folder / name / f"{i}.png")


def test_image_folder(tmp_path: Path) -> None:
    write_images(tmp_path)
    (tmp_path / "cat" / "notes.txt").write_text("ignored")
    data = readers.image_folder(str(tmp_path), image_size=12, val_fraction=0.34, seed=0)
    assert data.classes == ["cat", "dog"]
    assert data.x_train.shape[1:] == (3, 12, 12)
    assert len(data.y_train) + len(data.y_val) == 6 and len(data.y_val) == 2


def test_image_folder_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DatasetError, match="no class sub-folders"):
        readers.image_folder(str(tmp_path))
    write_images(tmp_path)
    (tmp_path / "dog" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(DatasetError, match=r"broken\.png: not a readable image"):
        readers.image_folder(str(tmp_path))
    (tmp_path / "dog" / "broken.png").unlink()
    monkeypatch.setattr(readers, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(DatasetError, match=r"0\.png: 20×10 image is larger than the 100 pixel cap"):
        readers.image_folder(str(tmp_path))


def test_digits_split_normalise_and_upsample() -> None:
    data = digits(val_fraction=0.2, seed=0)
    assert data.input_shape == (1, 8, 8) and data.num_classes == 10
    assert len(data.y_train) + len(data.y_val) == 1797 and len(data.y_val) == 359
    assert abs(float(data.x_train.mean())) < 1e-4 and abs(float(data.x_train.std()) - 1) < 1e-2
    big = digits(image_size=32)
    assert big.input_shape == (1, 32, 32)
    assert torch.equal(big.y_train, data.y_train)


def test_split_is_fixed_and_disjoint() -> None:
    train, val = split(50, 0.2, seed=4)
    again, _ = split(50, 0.2, seed=4)
    assert np.array_equal(train, again) and len(val) == 10
    assert set(train).isdisjoint(val) and len(set(train) | set(val)) == 50


def test_synthetic_is_deterministic() -> None:
    a, b = synthetic(n=40, shape=(2, 5, 5), seed=9), synthetic(n=40, shape=(2, 5, 5), seed=9)
    assert torch.equal(a.x_train, b.x_train) and a.input_shape == (2, 5, 5)
    assert not torch.equal(a.x_train, synthetic(n=40, shape=(2, 5, 5), seed=10).x_train)


def test_load_dataset_dispatch(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    assert load_dataset(TrainConfig(dataset="mnist", data_dir=str(tmp_path))).name == "mnist"
    assert load_dataset(TrainConfig(dataset="synthetic", image_size=6)).input_shape == (3, 6, 6)
    with pytest.raises(DatasetError, match="data folder not found"):
        load_dataset(TrainConfig(dataset="cifar10", data_dir=str(tmp_path / "x")))


def test_image_folder_with_one_class_is_refused_naming_the_folder(tmp_path: Path) -> None:
    write_images(tmp_path)
    shutil.rmtree(tmp_path / "dog")
    with pytest.raises(DatasetError) as info:
        readers.image_folder(str(tmp_path))
    assert str(info.value) == (f"{tmp_path}: only one class sub-folder ('cat'); classification needs "
                               "two or more classes — put each class's images in its own sub-folder")
    (tmp_path / "dog").mkdir()  # a second class folder, but empty
    with pytest.raises(DatasetError, match=r"only 1 class sub-folder\(s\) hold images \(no images in dog\); "
                       "classification needs two or more classes"):
        readers.image_folder(str(tmp_path))


def test_a_set_whose_labels_are_one_class_is_refused() -> None:
    x = np.zeros((6, 1, 4, 4), np.uint8)
    with pytest.raises(DatasetError, match=r"^mine: every training image is of class 'b'; classification "
                       "needs two or more classes$"):
        make_dataset("mine", x, np.ones(6, np.int64), x, np.zeros(6, np.int64), ["a", "b"])
    with pytest.raises(DatasetError, match=r"^mine: only one class \('a'\)"):
        make_dataset("mine", x, np.zeros(6, np.int64), x, np.zeros(6, np.int64), ["a"])
    with pytest.raises(DatasetError, match="only one class"):
        synthetic(n=20, num_classes=1)


def test_training_on_one_class_stops_before_the_first_step(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """``main.py train`` on a one-class folder: exit 2 and one line, no run reporting 100%."""
    from builder import cli, fileformat, templates

    (tmp_path / "imgs").mkdir()
    write_images(tmp_path / "imgs")
    shutil.rmtree(tmp_path / "imgs" / "dog")
    graph = tmp_path / "net.json"
    fileformat.save(templates.make("lenet", input_shape=(3, 32, 32), num_classes=2), graph)
    code = cli.main(["train", str(graph), "--dataset", "folder", "--data-dir", str(tmp_path / "imgs"),
                     "--epochs", "1", "--device", "cpu", "--quiet", "--run-dir", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0
    assert err.endswith("only one class sub-folder ('cat'); classification needs two or more classes — "
                        "put each class's images in its own sub-folder")
    assert not (tmp_path / "run").exists()


def test_uint8_images_are_scaled_like_before(tmp_path: Path) -> None:
    """The readers hand over uint8; the normalised set equals the one built from [0, 1] floats."""
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (8, 3, 4, 4)).astype(np.uint8)
    y = np.arange(8) % 2
    a = make_dataset("u", x, y, x, y, ["a", "b"])
    b = make_dataset("u", x.astype(np.float32) / 255, y, x.astype(np.float32) / 255, y, ["a", "b"])
    assert torch.allclose(a.x_train, b.x_train, atol=1e-5) and a.mean == pytest.approx(b.mean)
