"""Data sets on request in the window: *Get Data Set…*, a progress dialog with Cancel, consent.

:class:`FetchJob` runs :func:`builder.training.fetch.fetch` on a Python thread (never the GUI
thread) and reports through queued signals; :class:`FetchProgress` is its progress dialog
(bytes, speed, time left, Cancel — what arrived is kept, so the next fetch continues).
:class:`GetDataDialog` lists the sets (size, on disk), the data folder and the mirrors, and
fetches the selected one or installs it from archives the person already has.
:func:`ensure_dataset` is what the training form calls before Start: a set already on disk
(or one that needs no download) is fine; otherwise it asks, fetches with progress and says
whether the set is now there.

Settings (QSettings): ``data/folder`` (empty = ``$SKIPWIRE_DATA`` or the user data folder) and
``data/mirrors`` (base URLs, space separated). :func:`apply_settings` exports the folder as
``SKIPWIRE_DATA`` so the trainer's readers find the fetched copies there too.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from builder.training import fetch
from gui.files import settings

FOLDER_KEY, MIRRORS_KEY = "data/folder", "data/mirrors"
TITLE = "Get data set"
_jobs: set[FetchJob] = set()  # running jobs, kept alive until their thread ends


def folder_setting() -> str:
    return str(settings().value(FOLDER_KEY, "") or "")


def mirrors_setting() -> list[str]:
    return str(settings().value(MIRRORS_KEY, "") or "").split()


def apply_settings() -> None:
    """Export the data folder setting so the core (readers, trainer) uses the same folder."""
    folder = folder_setting()
    if folder:
        os.environ[fetch.ENV_ROOT] = folder


def mb(n: float) -> str:
    return fetch.human_bytes(n)


class FetchJob(QObject):
    """One fetch on a daemon thread; signals arrive queued on the GUI thread."""

    progress = Signal(float, float, str)  # bytes done, bytes in all, archive name
    finished = Signal(str)  # the set's folder
    failed = Signal(str)  # one line
    cancelled = Signal()

    def __init__(self, name: str, archives: list[str] | None = None) -> None:
        super().__init__()
        self.name, self.archives = name, archives
        self.cancel_event = threading.Event()
        self.worker = threading.Thread(target=self._run, name=f"fetch-{name}", daemon=True)

    def start(self) -> None:
        apply_settings()
        _jobs.add(self)
        self.worker.start()

    def cancel(self) -> None:
        self.cancel_event.set()

    def _run(self) -> None:
        try:
            folder = fetch.fetch(self.name, folder_setting() or None, mirrors_setting() or None,
                                 lambda d, t, f: self.progress.emit(float(d), float(t), f),
                                 self.cancel_event, self.archives)
        except fetch.FetchCancelled:
            self.cancelled.emit()
        except fetch.FetchError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # an unexpected fault is still one line, never a dead thread
            self.failed.emit(f"{self.name}: {type(exc).__name__}: {exc}")
        else:
            self.finished.emit(str(folder))
        finally:
            _jobs.discard(self)


def wait_for_jobs(timeout: float = 30.0) -> bool:
    """Wait until every fetch thread has ended (tests, and closing the app); True when none is left."""
    end = time.monotonic() + timeout
    for job in list(_jobs):
        job.worker.join(max(0.0, end - time.monotonic()))
    return not any(job.worker.is_alive() for job in list(_jobs))


class FetchProgress(QProgressDialog):
    """A progress dialog for one :class:`FetchJob`; ``ended`` says how it ended (True = there)."""

    ended = Signal(bool)

    def __init__(self, parent: QWidget | None, name: str, archives: list[str] | None = None) -> None:
        super().__init__(f"Starting the download of {name}…", "Cancel", 0, 1000, parent)
        src = fetch.source(name)
        self.setWindowTitle(f"Getting {src.title.split(' (')[0]}")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(460)
        self.setMinimumDuration(0)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.name, self.result_ok, self.error = name, False, ""
        self._t0, self._d0 = time.monotonic(), -1.0
        self.job = FetchJob(name, archives)
        self.job.progress.connect(self._on_progress)
        # bound methods only: a lambda here would run on the fetch thread, not queued to this one
        self.job.finished.connect(self._on_finished)
        self.job.failed.connect(self._on_failed)
        self.job.cancelled.connect(self._on_cancelled)
        self.canceled.connect(self._on_cancel)

    def start(self) -> None:
        self.show()
        self.job.start()

    def _on_progress(self, done: float, total: float, filename: str) -> None:
        if self._d0 < 0:
            self._t0, self._d0 = time.monotonic(), done  # a resumed download starts part-way
        self.setValue(int(1000 * done / total) if total else 0)
        self.setLabelText(f"{filename}\n{progress_text(done, total, time.monotonic() - self._t0, self._d0)}")

    def _on_finished(self, _folder: str) -> None:
        self._end(True)

    def _on_cancelled(self) -> None:
        self._end(False)

    def _on_failed(self, message: str) -> None:
        self.error = message
        self._end(False)

    def _on_cancel(self) -> None:
        self.job.cancel()  # the thread stops at its next block; what arrived is kept
        self._end(False)

    def _end(self, ok: bool) -> None:
        if self.property("ended"):
            return
        self.setProperty("ended", True)
        for signal in (self.job.progress, self.job.finished, self.job.failed, self.job.cancelled):
            signal.disconnect()
        self.result_ok = ok
        self.hide()
        if self.error:
            QMessageBox.critical(self.parentWidget(), TITLE, self.error)
        self.ended.emit(ok)
        self.deleteLater()


def progress_text(done: float, total: float, seconds: float, start: float = 0.0) -> str:
    """``12.3 MB of 170.1 MB · 4.5 MB/s · 0:31 left`` (speed once a second has passed)."""
    text = f"{mb(done)} of {mb(total)}"
    speed = (done - start) / seconds if seconds >= 1 and done > start else 0.0
    if speed > 0:
        left = int(max(0.0, total - done) / speed)
        text += f" · {mb(speed)}/s · {left // 60}:{left % 60:02d} left"
    return text


def fetch_and_wait(parent: QWidget | None, name: str, archives: list[str] | None = None) -> bool:
    """Fetch ``name`` with a progress dialog, waiting in a local event loop; True when it is there."""
    dialog = FetchProgress(parent, name, archives)
    loop = QEventLoop()
    outcome: list[bool] = []

    def ended(ok: bool) -> None:
        outcome.append(ok)
        loop.quit()

    dialog.ended.connect(ended)
    dialog.start()
    if not outcome:
        loop.exec()
    return bool(outcome and outcome[0])


def ensure_dataset(parent: QWidget | None, name: str) -> bool:
    """Before training on ``name``: True when it is ready (or needs no download), else ask and fetch.

    Asks once ("Download … MB into …?"); No leaves everything as it was and returns False.
    """
    if name not in fetch.SOURCES:
        return True  # digits, synthetic and image folders need nothing fetched
    apply_settings()
    root = folder_setting() or None
    if fetch.fetched_dir(name, root) is not None:
        return True
    src = fetch.source(name)
    answer = QMessageBox.question(
        parent, TITLE, f"{src.title} is not on this computer yet.\n\nDownload it now "
        f"({mb(src.size)}) into {fetch.dataset_dir(name, root)}?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes)
    if answer != QMessageBox.StandardButton.Yes:
        return False
    return fetch_and_wait(parent, name)


class GetDataDialog(QDialog):
    """The fetchable sets, the data folder and the mirrors; Download / Use archives I have."""

    COLUMNS = ("Data set", "Contents", "Download", "On disk")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Get Data Set")
        self.resize(760, 360)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.folder = QLineEdit(folder_setting())
        self.folder.setPlaceholderText(str(fetch.data_root()))
        self.mirrors = QLineEdit(" ".join(mirrors_setting()))
        self.mirrors.setPlaceholderText("the official locations (or base URLs, tried in order)")
        self.choose_button = QPushButton("Choose…")
        self.download_button = QPushButton("&Download")
        self.local_button = QPushButton("Use &Archives I Have…")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.intro = QLabel("Choose a data set and press Download: its archives come from the official "
                            "sites (or your mirrors), are checked against their published MD5 and "
                            "unpacked into the data folder. A download that stops continues where it "
                            "left off next time.")
        self.intro.setWordWrap(True)
        self._layout()
        self.progress: FetchProgress | None = None
        self.refresh()

    def _layout(self) -> None:
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(self.choose_button)
        form = QFormLayout()
        form.addRow("Data folder", row)
        form.addRow("Mirrors", self.mirrors)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.download_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.local_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.choose_button.clicked.connect(self.choose_folder)
        self.download_button.clicked.connect(lambda _checked=False: self.start(None))
        self.local_button.clicked.connect(self.use_archives)
        self.folder.editingFinished.connect(self.save_settings)
        self.mirrors.editingFinished.connect(self.save_settings)
        self.table.itemSelectionChanged.connect(self._update_buttons)

    def save_settings(self) -> None:
        store = settings()
        store.setValue(FOLDER_KEY, self.folder.text().strip())
        store.setValue(MIRRORS_KEY, " ".join(self.mirrors.text().split()))
        apply_settings()
        self.refresh()

    def refresh(self) -> None:
        selected = self.selected()
        rows = fetch.status(folder_setting() or None)
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            cells = (r.name, r.title, mb(r.download_bytes), mb(r.disk_bytes) if r.on_disk else "—")
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, r.name)
                item.setToolTip(str(r.folder))
                self.table.setItem(i, j, item)
            if r.name == selected:
                self.table.selectRow(i)
        self.table.resizeColumnToContents(0)
        self._update_buttons()

    def selected(self) -> str | None:
        items = self.table.selectedItems()
        return str(items[0].data(Qt.ItemDataRole.UserRole)) if items else None

    def select(self, name: str) -> None:
        for i in range(self.table.rowCount()):
            item = self.table.item(i, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == name:
                self.table.selectRow(i)

    def _update_buttons(self) -> None:
        busy = self.progress is not None
        self.download_button.setEnabled(self.selected() is not None and not busy)
        self.local_button.setEnabled(self.selected() is not None and not busy)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.folder.text() or
                                                  str(fetch.data_root()))
        if folder:
            self.folder.setText(folder)
            self.save_settings()

    def use_archives(self) -> None:
        name = self.selected()
        if name is None:
            return
        wanted = " ".join(a.filename for a in fetch.source(name).archives)
        paths, _ = QFileDialog.getOpenFileNames(self, f"Archives of {name} ({wanted})", "",
                                                "Archives (*.gz *.tar.gz);;All files (*)")
        if paths:
            self.start(paths)

    def start(self, archives: list[str] | None) -> None:
        name = self.selected()
        if name is None or self.progress is not None:
            return
        self.save_settings()
        self.progress = FetchProgress(self, name, archives)
        self.progress.ended.connect(lambda ok, n=name: self._finished(n, ok))
        self._update_buttons()
        self.progress.start()

    def _finished(self, name: str, ok: bool) -> None:
        self.progress = None
        folder = fetch.dataset_dir(name, folder_setting() or None)
        self.status.setText(f"{name} is ready in {folder}." if ok else f"{name} was not fetched.")
        self.refresh()


def open_get_dialog(parent: QWidget | None) -> GetDataDialog:
    """Show the (one) Get Data Set dialog of ``parent`` (non-modal)."""
    existing: Any = getattr(parent, "_get_data_dialog", None)
    if existing is None:
        existing = GetDataDialog(parent)
        if parent is not None:
            parent._get_data_dialog = existing  # type: ignore[attr-defined]
    existing.refresh()
    existing.show()
    existing.raise_()
    return existing
