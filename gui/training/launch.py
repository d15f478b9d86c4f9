"""Train in several processes from the window: ``torchrun`` as a child process, followed live.

:class:`ProcessRun` has the interface of :class:`~gui.training.worker.TrainThread` (the same
signals, ``start``/``stop``/``pause``/``resume``/``wait``), so the controller and the plots
treat both alike. For each job it writes the graph and the settings into the run folder, starts

    python -m torch.distributed.run --standalone --nproc-per-node N main.py train GRAPH
        --config CONFIG --run-dir RUN --quiet

as a :class:`QProcess`, and polls rank 0's run folder (:class:`~gui.training.follow.RunFollower`)
four times a second: new rows of the CSVs become the same step, epoch and gradient signals a
run in the window's thread sends. Pause, Resume and Stop write the run folder's control file,
which every rank reads and agrees on (:mod:`builder.training.control`). The run's outcome is
the ``status:`` line ``main.py train`` prints; a process that fails before its first step is a
message (its last line of error output), not a run.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from gui.training.follow import CsvTail, RunFollower
from gui.training.worker import Job, JobStart

POLL_MS = 250
MAIN = Path(__file__).resolve().parent.parent.parent / "main.py"
LAUNCH_GRAPH, LAUNCH_CONFIG = "launch_graph.json", "launch_config.json"
_STATUS = re.compile(r"^status: (\w+)(?: — (.*))?$")


@dataclass
class ProcessResult:
    """What the controller reads of a finished run (the fields of TrainResult it uses)."""

    status: str
    error: str = ""
    epochs_done: int = 0
    seconds: float = 0.0
    bad_block: str | None = None
    health: list[Any] = field(default_factory=list)


def command(job: Job, processes: int, files: Path, python: str = sys.executable) -> list[str]:
    """The torchrun command line for ``job`` (its graph and settings files are in ``files``)."""
    assert job.run_dir is not None
    args = [python, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}",
            str(MAIN), "train", str(files / LAUNCH_GRAPH), "--config", str(files / LAUNCH_CONFIG),
            "--run-dir", str(job.run_dir), "--quiet"]
    return args + ([] if job.adapt else ["--no-adapt"])


def per_process(config: Any, processes: int) -> Any:
    """The config each process trains with: on the CPU the threads are shared out."""
    if config.device != "cpu":
        return config
    return config.replace(cpu_threads=max(1, config.cpu_threads // processes))


class ProcessRun(QObject):
    """Trains ``jobs`` one after another, each under torchrun in ``processes`` processes."""

    job_started = Signal(int, object)  # JobStart
    setup = Signal(int, object)  # RunSetup of rank 0
    step = Signal(int, object)
    epoch = Signal(int, object)
    gradients = Signal(int, object)
    health = Signal(int, object)  # not emitted: rank 0's findings arrive with its health.json at the end
    job_finished = Signal(int, object)  # ProcessResult
    failed = Signal(int, str, bool)
    all_done = Signal()
    finished = Signal()

    def __init__(self, jobs: list[Job], processes: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs, self.processes = jobs, processes
        self.current = -1
        self.process: QProcess | None = None
        self.follower: RunFollower | None = None
        self.out, self.err = "", ""
        self.files: Path | None = None  # the job's graph and settings for the command line
        self._word = "run"  # what the control file should say (written once the run folder exists)
        self._paused = self._stopped = self._running = False
        self._stepped = False
        self.timer = QTimer(self, interval=POLL_MS)
        self.timer.timeout.connect(self.poll)

    # ---- control (the interface of TrainThread) ----
    @property
    def paused(self) -> bool:
        return self._paused

    def isRunning(self) -> bool:  # noqa: N802 (QThread's name)
        return self._running

    def start(self) -> None:
        self._running = True
        self._next()

    def stop(self) -> None:
        self._stopped = True
        self._tell("stop")

    def pause(self) -> None:
        self._paused = True
        self._tell("pause")

    def resume(self) -> None:
        self._paused = False
        self._tell("run")

    def wait(self, timeout_ms: int = 10000) -> bool:
        """Wait for the process in progress (killed when it does not end in time)."""
        process = self.process
        if process is not None and process.state() != QProcess.ProcessState.NotRunning:
            if not process.waitForFinished(timeout_ms):
                process.kill()
                process.waitForFinished(2000)
        return True

    def _tell(self, word: str) -> None:
        self._word = word
        job = self.jobs[self.current] if 0 <= self.current < len(self.jobs) else None
        if job is not None and job.run_dir and os.path.isdir(job.run_dir):
            from builder.training import control

            control.write(job.run_dir, word)

    # ---- one job ----
    def _next(self) -> None:
        self.current += 1
        if self._stopped or self.current >= len(self.jobs):
            self._end()
            return
        job = self.jobs[self.current]
        try:
            self._prepare(job)
        except OSError as exc:
            message = f"{job.run_dir}: cannot write the run folder ({exc.strerror})"
            self.failed.emit(self.current, message, True)
            self._end()
            return
        self.out, self.err, self._stepped = "", "", False
        self.follower = RunFollower(str(job.run_dir), job.config.epochs)
        self.process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        env.insert("OMP_NUM_THREADS", str(per_process(job.config, self.processes).cpu_threads))
        self.process.setProcessEnvironment(env)
        self.process.setWorkingDirectory(str(MAIN.parent))
        self.process.readyReadStandardOutput.connect(self._read_out)
        self.process.readyReadStandardError.connect(self._read_err)
        self.process.finished.connect(self._on_exit)
        assert self.files is not None
        cmd = command(job, self.processes, self.files)
        self.process.start(cmd[0], cmd[1:])
        self.timer.start()

    def _prepare(self, job: Job) -> None:
        from builder import fileformat

        self.files = Path(tempfile.mkdtemp(prefix="skipwire-launch-"))
        fileformat.save(job.graph, self.files / LAUNCH_GRAPH)
        per_process(job.config, self.processes).save(self.files / LAUNCH_CONFIG)

    def _read_out(self) -> None:
        if self.process is not None:
            self.out += bytes(self.process.readAllStandardOutput().data()).decode("utf-8", "replace")

    def _read_err(self) -> None:
        if self.process is not None:
            self.err = (self.err + bytes(self.process.readAllStandardError().data())
                        .decode("utf-8", "replace"))[-20000:]

    def poll(self) -> None:
        """Pass on what rank 0 has written since the last poll."""
        follower, index = self.follower, self.current
        if follower is None:
            return
        was_started = follower.started
        update = follower.poll()
        if follower.started and not was_started:
            if self._word != "run":  # paused or stopped before the run folder existed
                self._tell(self._word)
            self._announce(index, follower)
        for m in update.steps:
            if not self._stepped:
                self._stepped = True
                self._record_start(index)
            self.step.emit(index, m)
        for m in update.epochs:
            self.epoch.emit(index, m)
        for g in update.gradients:
            self.gradients.emit(index, g)

    def _announce(self, index: int, follower: RunFollower) -> None:
        setup = follower.setup
        notes = [line.split(": ", 1)[1] for line in self.out.splitlines()
                 if line.startswith("adapted ") and ": " in line]
        self.job_started.emit(index, JobStart(setup.short(), follower.block_ids, follower.block_types,
                                              notes, setup.data))
        self.setup.emit(index, setup)

    def _record_start(self, index: int) -> None:
        from builder import fileformat
        from gui.training.runindex import ORIGINAL, write_meta

        job = self.jobs[index]
        assert job.run_dir is not None and self.follower is not None
        fileformat.save(job.graph, Path(job.run_dir) / ORIGINAL)
        write_meta(job.run_dir, **job.meta, status="running", processes=self.processes,
                   setup=self.follower.setup.describe())

    def _on_exit(self, code: int, _status: Any) -> None:
        self.timer.stop()
        self._read_out()
        self._read_err()
        self.poll()  # the rows written last
        if self.files is not None:
            shutil.rmtree(self.files, ignore_errors=True)
            self.files = None
        index, job = self.current, self.jobs[self.current]
        result = self._result(code)
        if not self._stepped:
            self._discard(job)
            if not self._stopped:
                self.failed.emit(index, self._error_line(code), code == 2)
        elif result.status == "failed":
            self.failed.emit(index, result.error, False)
            self._finish_meta(job, result)
        else:
            self._finish_meta(job, result)
            self.job_finished.emit(index, result)
        if result.status in ("completed", "stopped") or not self._stepped:
            self._next()
        else:
            self._end()

    def _result(self, code: int) -> ProcessResult:
        from builder.training import health

        match = next((m for line in self.out.splitlines() if (m := _STATUS.match(line.strip()))), None)
        if match is None:
            return ProcessResult("failed", self._error_line(code))
        result = ProcessResult(match.group(1), match.group(2) or "")
        job = self.jobs[self.current]
        try:
            result.health, _ = health.load(str(job.run_dir))
        except ValueError:
            pass
        seconds = self._epoch_seconds(Path(str(job.run_dir)) / "metrics.csv")
        result.epochs_done, result.seconds = len(seconds), sum(seconds)
        return result

    @staticmethod
    def _epoch_seconds(path: Path) -> list[float]:
        """Each finished epoch's seconds, from ``metrics.csv``."""
        tail = CsvTail(path)
        return [float(row["seconds"]) for row in tail.rows() if row.get("seconds")]

    def _error_line(self, code: int) -> str:
        lines = [line for line in self.err.splitlines() if line.strip()]
        said = next((line for line in reversed(lines) if line.startswith("skipwire:")), None)
        if said:
            return said.removeprefix("skipwire: ")
        last = lines[-1] if lines else f"exit code {code}"
        return f"the training processes ended without a result ({last.strip()[:300]})"

    def _finish_meta(self, job: Job, result: ProcessResult) -> None:
        from gui.training.runindex import write_meta

        if job.run_dir:
            setup = self.follower.setup if self.follower is not None else None
            write_meta(job.run_dir, status=result.status, error=result.error, epochs_done=result.epochs_done,
                       device=setup.short() if setup is not None else "")

    @staticmethod
    def _discard(job: Job) -> None:
        """A run that made no step leaves no folder (as in the window's own thread)."""
        if job.run_dir and os.path.isdir(job.run_dir) and \
                not os.path.exists(os.path.join(job.run_dir, "checkpoint.pt")):
            shutil.rmtree(job.run_dir, ignore_errors=True)

    def _end(self) -> None:
        self._running = False
        self.timer.stop()
        self.all_done.emit()
        self.finished.emit()
