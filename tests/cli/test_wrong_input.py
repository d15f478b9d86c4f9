"""Wrong input on the command line: one line on stderr, exit 2, nothing written or replaced.

Every test snapshots the folder it works in (each file's bytes and modification time, each
folder) before the command and compares after it, and checks that the refusal comes before any
work (data loaded, a net trained) by making that work fail loudly if it is reached.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from builder import fileformat
from builder.cli import EXIT_BAD_INPUT, EXIT_PIPE_CLOSED, main
from tests.core.conftest import ROOT
from tests.training.conftest import tiny_net

FAST = ["--dataset", "synthetic", "--device", "cpu", "--batch-size", "64", "--threads", "1", "--quiet"]


def snapshot(root: Path) -> dict[str, tuple[bytes, int] | None]:
    """Every file (bytes, mtime) and folder (None) under ``root``."""
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns) if p.is_file() else None
            for p in sorted(root.rglob("*"))}


def refused(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> str:
    """Run ``args``; assert exit 2, one line on stderr, nothing on stdout, ``root`` unchanged."""
    before = snapshot(root)
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == EXIT_BAD_INPUT, (out, err)
    assert err.startswith("skipwire: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and out == ""
    assert snapshot(root) == before
    return err.strip()


@pytest.fixture
def graph(tmp_path: Path) -> Path:
    path = tmp_path / "res8.json"
    fileformat.save(tiny_net(), path)
    return path


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading data or training fails the test: a refusal must come before both."""
    def reached(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the command did work before refusing")

    monkeypatch.setattr("builder.training.datasets.load_dataset", reached)
    monkeypatch.setattr("builder.training.trainer.Trainer.run", reached)
    monkeypatch.setattr("builder.training.compare.compare", reached)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-epoch run folder made by ``train``."""
    root = tmp_path_factory.mktemp("finished")
    path = root / "res8.json"
    fileformat.save(tiny_net(), path)
    assert main(["train", str(path), *FAST, "--epochs", "1", "--run-dir", str(root / "run")]) == 0
    return root / "run"


# ---------------------------------------------------------------- train: run folders, --resume


def test_an_existing_run_folder_is_never_replaced(finished_run: Path, tmp_path: Path, graph: Path,
                                                  capsys: pytest.CaptureFixture[str], no_work: None) -> None:
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    for extra in ([], ["--print-config"]):
        err = refused(capsys, tmp_path, "train", str(graph), *FAST, "--run-dir", str(run), *extra)
        assert err == (f"skipwire: --run-dir {run} is not empty (an earlier run?) and is never "
                       f"replaced: name a new folder, or continue that run with --resume {run}")


def test_a_run_folder_that_is_a_file_is_one_line(tmp_path: Path, graph: Path,
                                                 capsys: pytest.CaptureFixture[str], no_work: None) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    err = refused(capsys, tmp_path, "train", str(graph), *FAST, "--run-dir", str(tmp_path / "notes.txt"))
    assert err.endswith("notes.txt is a file, not a folder")
    err = refused(capsys, tmp_path, "train", str(graph), *FAST,
                  "--run-dir", str(tmp_path / "notes.txt" / "run"))
    assert err.endswith(f"{tmp_path / 'notes.txt'} is a file, not a folder")


def test_the_default_run_folder_gets_a_fresh_name_when_taken(
        tmp_path: Path, graph: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("builder.training.run_paths.time.strftime", lambda _fmt: "20250101-120000")
    taken = tmp_path / "runs" / "resnet8-20250101-120000"
    taken.mkdir(parents=True)
    (taken / "metrics.csv").write_text("an earlier run")
    before = snapshot(taken)
    assert main(["train", str(graph), *FAST, "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    fresh = Path("runs") / "resnet8-20250101-120000-2"
    assert f"runs/resnet8-20250101-120000 exists; this run goes to {fresh}" in out
    assert f"run folder: {fresh}" in out and (tmp_path / fresh / "checkpoint.pt").is_file()
    assert snapshot(taken) == before


def test_resume_takes_a_run_folder(finished_run: Path, tmp_path: Path, graph: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    code = main(["train", str(graph), "--resume", str(run), "--epochs", "2", "--quiet", "--threads", "1"])
    out = capsys.readouterr().out
    assert code == 0 and "epochs 2/2" in out and f"run folder: {run}" in out
    assert [line.split(",")[0] for line in (run / "metrics.csv").read_text().splitlines()] == \
        ["epoch", "1", "2"]


def test_resume_from_a_loose_checkpoint_leaves_its_folder_alone(
        finished_run: Path, tmp_path: Path, graph: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(finished_run / "checkpoint.pt", tmp_path / "saved.pt")
    monkeypatch.chdir(tmp_path)
    code = main(["train", str(graph), *FAST, "--resume", "saved.pt", "--epochs", "2"])
    assert code == 0, capsys.readouterr()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res8.json", "runs", "saved.pt"]
    (new_run,) = (tmp_path / "runs").iterdir()
    assert (new_run / "checkpoint.pt").is_file()


@pytest.mark.parametrize(("target", "message"), [
    ("nothere", "--resume {p}: no such run folder or checkpoint file"),
    ("empty", "--resume {p}: the folder has no checkpoint.pt (nothing to continue)")])
def test_resume_of_nothing_is_one_line(target: str, message: str, tmp_path: Path, graph: Path,
                                       capsys: pytest.CaptureFixture[str], no_work: None) -> None:
    (tmp_path / "empty").mkdir()
    path = tmp_path / target
    err = refused(capsys, tmp_path, "train", str(graph), *FAST, "--resume", str(path))
    assert err == "skipwire: " + message.format(p=path)


# ---------------------------------------------------------------- train/compare: before the first step


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--threads", "-2", "--threads: must be 1 to 1,024 threads; got -2"),
    ("--threads", "0", "--threads: must be 1 to 1,024 threads; got 0"),
    ("--device", "cuda:99", "--device: cuda:99")])
@pytest.mark.parametrize("command", ["train", "compare"])
def test_bad_settings_stop_before_any_data_is_loaded(
        command: str, flag: str, value: str, message: str, tmp_path: Path, graph: Path,
        capsys: pytest.CaptureFixture[str], no_work: None) -> None:
    args = [a for a in FAST if a not in ("--threads", "1", "--device", "cpu")]
    err = refused(capsys, tmp_path, command, str(graph), *args, flag, value)
    assert err.startswith("skipwire: " + message)


@pytest.mark.parametrize(("output", "message"), [
    ("missing/cmp.png", "-o {p}: the folder {d} does not exist"),
    ("cmp.txt", "-o {p}: the file name must end in .png, .svg or .pdf"),
    (".", "-o {p} is a folder; name the file to write inside it")])
def test_compare_checks_its_output_before_training(
        output: str, message: str, tmp_path: Path, graph: Path, capsys: pytest.CaptureFixture[str],
        no_work: None) -> None:
    path = tmp_path / output
    err = refused(capsys, tmp_path, "compare", str(graph), str(graph), *FAST, "-o", str(path))
    assert err == "skipwire: " + message.format(p=path, d=path.parent)


def test_compare_refuses_a_setting_it_would_ignore(tmp_path: Path, graph: Path,
                                                   capsys: pytest.CaptureFixture[str], no_work: None) -> None:
    err = refused(capsys, tmp_path, "compare", str(graph), *FAST, "--checkpoint-every", "2",
                  "-o", str(tmp_path / "cmp.png"))
    assert err.startswith("skipwire: --checkpoint-every: compare keeps no run folders or checkpoints")


# ---------------------------------------------------------------- export, import, template


@pytest.mark.parametrize(("args", "message"), [
    (["-o", "missing/net.py"], "-o {t}/missing/net.py: the folder {t}/missing does not exist"),
    (["-o", "missing/net.onnx"], "-o {t}/missing/net.onnx: the folder {t}/missing does not exist"),
    (["-o", "missing/net.pt"], "-o {t}/missing/net.pt: the folder {t}/missing does not exist"),
    (["--format", "py", "-o", "b.onnx"], "--format py writes PyTorch code (.py), but -o {t}/b.onnx "
     "names an ONNX model (.onnx); change the suffix or --format"),
    (["--format", "onnx", "-o", "b.pt"], "--format onnx writes an ONNX model (.onnx), but -o {t}/b.pt "
     "names a state_dict (.pt); change the suffix or --format"),
    (["-o", "net.txt"], "-o {t}/net.txt: the suffix does not say what to write; end the name in "
     ".py, .onnx or .pt, or give --format"),
    (["-o", "net.py", "--onnx-exporter", "dynamo"],
     "--onnx-exporter applies to ONNX output only; this writes PyTorch code (.py)"),
    (["-o", "."], "-o {t} is a folder; name the file to write inside it")])
def test_export_refuses_outputs_it_would_get_wrong(args: list[str], message: str, tmp_path: Path,
                                                   graph: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(tmp_path / a) if i and args[i - 1] == "-o" else a for i, a in enumerate(args)]
    err = refused(capsys, tmp_path, "export", str(graph), *args)
    assert err == "skipwire: " + message.format(t=tmp_path)


@pytest.mark.parametrize("suffix", [".pt", ".onnx"])
def test_export_without_weights_says_they_are_untrained(suffix: str, tmp_path: Path, graph: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / f"net{suffix}"
    assert main(["export", str(graph), "-o", str(target)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"wrote {target}: ") and target.is_file()
    assert "untrained: freshly initialised weights (--weights RUN exports a run's trained ones)" in out


@pytest.mark.parametrize("command", [["template", "resnet"], ["import", "model.py:Net"]])
@pytest.mark.parametrize(("output", "message"), [
    ("missing/net.json", "-o {p}: the folder {d} does not exist"),
    ("net.py", "-o {p}: the file name must end in .json")])
def test_graph_outputs_are_checked_first(command: list[str], output: str, message: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "model.py").write_text("raise SystemExit('the file was run')\n")  # never imported
    args = [str(tmp_path / a) if a.startswith("model.py") else a for a in command]
    path = tmp_path / output
    err = refused(capsys, tmp_path, *args, "-o", str(path))
    assert err == "skipwire: " + message.format(p=path, d=path.parent)


# ---------------------------------------------------------------- evaluate, data


@pytest.mark.parametrize(("args", "message"), [
    (["--threads", "0"], "--threads: must be 1 to 1,024 threads; got 0"),
    (["--threads", "-2"], "--threads: must be 1 to 1,024 threads; got -2"),
    (["--threads", "two"], "--threads: expected an integer, got 'two'"),
    (["--top", "-1"], "--top must be 0 or more, got -1"),
    (["--device", "gpu"], "--device: must be auto, cpu, cuda, cuda:N or mps; got 'gpu'"),
    (["-o", "{t}/missing/e.png"], "-o {t}/missing/e.png: the folder {t}/missing does not exist"),
    (["-o", "{t}/e.jpg"], "-o {t}/e.jpg: the file name must end in .png, .svg or .pdf")])
def test_evaluate_checks_every_option_first(args: list[str], message: str, finished_run: Path,
                                            tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    monkeypatch.setattr("builder.training.evaluate.evaluate", lambda *a, **k: pytest.fail("evaluated"))
    err = refused(capsys, tmp_path, "evaluate", str(run), *(a.format(t=tmp_path) for a in args))
    assert err == "skipwire: " + message.format(t=tmp_path)


def test_evaluate_of_a_file_is_one_line(graph: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(capsys, tmp_path, "evaluate", str(graph))
    assert err == f"skipwire: {graph}: not a run folder (a file)"


@pytest.mark.parametrize(("args", "message"), [
    (["fetch", "mnist", "--root", "{t}/file"], "--root {t}/file is a file, not a folder"),
    (["fetch", "mnist", "--root", "{t}/file/data"], "--root {t}/file/data: {t}/file is a file, not a folder"),
    (["list", "--root", "{t}/file"], "--root {t}/file is a file, not a folder"),
    (["fetch", "mnist", "--root", "{t}/data", "--from", "{t}/nothere"],
     "--from {t}/nothere: no such file or folder"),
    (["fetch", "mnist", "--root", "{t}/data", "--from", "{t}"],
     "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
     "t10k-labels-idx1-ubyte.gz: not found in {t} (needed for mnist)"),
    (["fetch", "mnist", "--root", "{t}/data", "--mirror", "ftp://example.org"],
     "--mirror: mirror 'ftp://example.org': expected an http:// or https:// base URL")])
def test_data_commands_check_their_folders_first(args: list[str], message: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("not a folder")
    err = refused(capsys, tmp_path, "data", *(a.format(t=tmp_path) for a in args))
    assert err == "skipwire: " + message.format(t=tmp_path)


# ---------------------------------------------------------------- usage, pipes


@pytest.mark.parametrize(("prog", "operands"), [("train", ["g.json"]), ("compare", ["g.json"]),
                                               ("export", ["g.json", "-o", "g.py"]),
                                               ("data fetch", ["mnist"]), ("evaluate", ["run"])])
def test_an_unknown_flag_prints_that_subcommands_usage(prog: str, operands: list[str],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*prog.split(), *operands, "--bogus", "1"])
    out, err = capsys.readouterr()
    prog = f"skipwire {prog}"
    assert info.value.code == EXIT_BAD_INPUT and out == ""
    assert err.startswith(f"usage: {prog} [-h]")
    assert err.endswith(f"{prog}: error: unrecognized arguments: --bogus 1\n")


def test_an_unknown_flag_before_any_subcommand_prints_the_top_usage(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--bogus"])
    err = capsys.readouterr().err
    assert info.value.code == EXIT_BAD_INPUT
    assert err.startswith("usage: skipwire [-h] COMMAND") and "skipwire: error: unrecognized" in err


@pytest.mark.parametrize(("args", "unbuffered"), [(["summary", "graphs/resnet110.json"], False),
                                                  (["summary", "graphs/resnet110.json"], True),
                                                  (["validate", "--help"], False)])
def test_output_into_a_closed_pipe_is_silent(args: list[str], unbuffered: bool) -> None:
    """``summary … | head``: the reader is gone before the first write; no traceback, exit 141.

    Python buffers stdout into a pipe unless PYTHONUNBUFFERED is set; both ways are covered.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env.update({"PYTHONUNBUFFERED": "1"} if unbuffered else {})
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, stdout=write_end,
                                stderr=subprocess.PIPE, text=True, timeout=120, env=env)
    finally:
        os.close(write_end)
    assert result.stderr == "" and result.returncode == EXIT_PIPE_CLOSED == 141
