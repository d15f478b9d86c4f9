"""Application names, recent files and crash recovery.

* :func:`ensure_app_names` names the application "Skipwire" (organisation "Skipwire"), so its
  data lives in ``…/Skipwire/Skipwire/`` (Linux: ``~/.local/share/Skipwire/Skipwire``);
  :func:`migrate_legacy_data` moves what older versions kept under ``…/Skipwire/main.py/``.

* :class:`RecentFiles` keeps the last :data:`MAX_RECENT` opened/saved paths in QSettings
  (organisation "Skipwire"), pruning files that no longer exist.
* :class:`Autosaver` writes a modified document every :data:`AUTOSAVE_MS` to a recovery file
  in the application data folder (with a JSON sidecar holding the original path), and removes
  it when the document is saved or closed cleanly. :func:`find_recovery` finds one left by a
  crash so the window can offer to restore it.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QSettings, QStandardPaths, QTimer
from PySide6.QtGui import QGuiApplication

from builder import fileformat
from builder.graph import Graph

ORGANISATION = APPLICATION = "Skipwire"
LEGACY_APP_FOLDERS = ("main.py", "skipwire")  # app names Qt took from argv[0] before they were set
MAX_RECENT = 10
AUTOSAVE_MS = 30_000
AUTOSAVE_ENV = "SKIPWIRE_AUTOSAVE_MS"  # overrides the interval (tests use a short one)
RECOVERY_NAME = "recovery.skipwire.json"
SIDECAR_NAME = "recovery.meta.json"


def ensure_app_names() -> None:
    """Name the application for QSettings, QStandardPaths and window titles.

    Always set, not only when unset: without it Qt names the app after ``argv[0]`` and keeps
    its data under ``…/Skipwire/main.py/``.
    """
    QCoreApplication.setOrganizationName(ORGANISATION)
    QCoreApplication.setApplicationName(APPLICATION)
    if isinstance(QCoreApplication.instance(), QGuiApplication):
        QGuiApplication.setApplicationDisplayName(APPLICATION)


def settings() -> QSettings:
    return QSettings(ORGANISATION, APPLICATION)


def data_dir() -> Path:
    """The per-user application data folder (created on demand)."""
    ensure_app_names()
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    folder = Path(location) if location else Path.home() / ".local" / "share" / APPLICATION
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def migrate_legacy_data(folder: Path | None = None) -> list[Path]:
    """Move what earlier versions kept under the script's name (``…/Skipwire/main.py/``,
    ``…/Skipwire/skipwire/``: runs, recovery files) into the data folder; returns the paths
    moved. Names already present in the data folder are left where they were."""
    target = folder or data_dir()
    moved: list[Path] = []
    for name in LEGACY_APP_FOLDERS:
        old = target.parent / name
        if old.is_dir() and old.resolve() != target.resolve():
            moved += _merge_folder(old, target)
    return moved


def _merge_folder(source: Path, target: Path) -> list[Path]:
    """Move the entries of ``source`` into ``target`` (folders merged, files never
    overwritten) and remove ``source`` if that emptied it."""
    target.mkdir(parents=True, exist_ok=True)
    moved: list[Path] = []
    for entry in sorted(source.iterdir()):
        destination = target / entry.name
        if not destination.exists():
            shutil.move(str(entry), str(destination))
            moved.append(destination)
        elif entry.is_dir() and destination.is_dir() and not entry.is_symlink():
            moved += _merge_folder(entry, destination)
    try:
        source.rmdir()
    except OSError:
        pass  # something was left (a name taken in the new folder): keep it
    return moved


def short_folder(path: Path) -> str:
    """``path``'s folder for people: under the home folder as ``~/…``."""
    folder = Path(path).parent
    try:
        inside = folder.relative_to(Path.home())
    except ValueError:
        return str(folder)
    return "~" if not inside.parts else str(Path("~") / inside)


def recent_label(path: Path) -> str:
    """How a recent file is listed: its name and its folder, e.g. ``resnet20.json — ~/proj``."""
    return f"{path.name} — {short_folder(path)}"


class RecentFiles:
    """Most recently used graph files, newest first."""

    KEY = "recent_files"

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store or settings()

    def _raw(self) -> list[str]:
        value = self.store.value(self.KEY, [])
        if isinstance(value, str):  # QSettings returns a lone string for a one-item list
            value = [value]
        return [str(v) for v in value] if isinstance(value, list) else []

    def paths(self) -> list[Path]:
        """Existing recent files; missing ones are dropped from the list."""
        raw = self._raw()
        kept = [p for p in raw if Path(p).is_file()]
        if kept != raw:
            self.store.setValue(self.KEY, kept)
        return [Path(p) for p in kept]

    def add(self, path: str | Path) -> None:
        text = str(Path(path).resolve())
        items = [text] + [p for p in self._raw() if p != text]
        self.store.setValue(self.KEY, items[:MAX_RECENT])

    def clear(self) -> None:
        self.store.setValue(self.KEY, [])


@dataclass(frozen=True)
class Recovery:
    """A recovery file left behind, and where its document came from."""

    path: Path
    original: Path | None
    saved_at: float

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))
        source = str(self.original) if self.original else "an unsaved graph"
        return f"Unsaved changes to {source} were recovered from {when}."

    def load(self) -> Graph:
        """The recovered graph; raises GraphFileError when the file is damaged."""
        return fileformat.load(self.path)


def find_recovery(folder: Path | None = None) -> Recovery | None:
    """The recovery file left by a session that did not close cleanly, if any."""
    folder = folder or data_dir()
    graph_file, sidecar = folder / RECOVERY_NAME, folder / SIDECAR_NAME
    if not graph_file.is_file():
        return None
    original, saved_at = None, graph_file.stat().st_mtime
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        original = Path(meta["original_path"]) if meta.get("original_path") else None
        saved_at = float(meta.get("saved_at", saved_at))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass  # the graph is what matters; the sidecar is only a hint
    return Recovery(graph_file, original, saved_at)


def discard_recovery(folder: Path | None = None) -> None:
    folder = folder or data_dir()
    for name in (RECOVERY_NAME, SIDECAR_NAME):
        (folder / name).unlink(missing_ok=True)


def autosave_interval() -> int:
    """Milliseconds between autosaves: ``$SKIPWIRE_AUTOSAVE_MS`` (at least 100) or 30 s."""
    try:
        return max(100, int(os.environ[AUTOSAVE_ENV]))
    except (KeyError, ValueError):
        return AUTOSAVE_MS


class Autosaver(QObject):
    """Writes the document to the recovery file every ``interval_ms`` while it is modified."""

    def __init__(self, document, folder: Path | None = None,  # type: ignore[no-untyped-def]
                 interval_ms: int | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        interval_ms = interval_ms or autosave_interval()
        self.document = document
        self.folder = folder or data_dir()
        self.last_error = ""
        self.timer = QTimer(self, interval=interval_ms)
        self.timer.timeout.connect(self.save_now)
        self.timer.start()
        document.undo_stack.cleanChanged.connect(self._on_clean_changed)

    def save_now(self) -> bool:
        """Write the recovery file if the document has unsaved changes; True if written."""
        if not self.document.modified:
            return False
        meta = {"original_path": str(self.document.path) if self.document.path else None,
                "saved_at": time.time(), "graph_name": self.document.graph.name}
        try:
            # sidecar first: a crash between the two writes must not leave a graph without its path
            fileformat.atomic_write(self.folder / SIDECAR_NAME, json.dumps(meta, indent=1))
            fileformat.atomic_write(self.folder / RECOVERY_NAME, fileformat.dumps(self.document.graph))
        except OSError as exc:
            self.last_error = f"autosave to {self.folder} failed: {exc.strerror or exc}"
            return False
        self.last_error = ""
        return True

    def discard(self) -> None:
        """Remove the recovery file (after a save or a clean close)."""
        discard_recovery(self.folder)

    def _on_clean_changed(self, clean: bool) -> None:
        if clean:
            self.discard()


# ----------------------------------------------------------------------------- file actions


class FileController(QObject):
    """New / Open / Open Template / Save / Save As / recovery for one window and document.

    Every dialog is a static QFileDialog/QMessageBox call so tests can replace it. Nothing the
    user made is dropped without asking: :meth:`maybe_save` guards every replacement.
    """

    FILTER = "Skipwire graphs (*.json);;All files (*)"

    def __init__(self, window, document, recent: RecentFiles | None = None,  # type: ignore[no-untyped-def]
                 autosaver: Autosaver | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.document = document
        self.recent = recent or RecentFiles()
        self.autosaver = autosaver

    # ------------------------------------------------------------------ guards
    def maybe_save(self) -> bool:
        """Ask Save/Discard/Cancel when there are unsaved changes; True to go on."""
        from PySide6.QtWidgets import QMessageBox

        if not self.document.modified:
            return True
        path = self.document.path
        question = (f"Save the changes to {path.name} first?" if path else
                    f"{self.document.graph.name} has never been saved. Save it first?")
        buttons = (QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                   | QMessageBox.StandardButton.Cancel)
        answer = QMessageBox.question(self.window, "Unsaved changes",
                                      question, buttons,
                                      QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def _error(self, title: str, message: str) -> None:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(self.window, title, message)

    # ------------------------------------------------------------------ replace the graph
    def replace(self, graph: Graph, path: Path | None) -> None:
        self.document.set_graph(graph, path)
        if self.autosaver is not None:
            self.autosaver.discard()
        self.window.graph_loaded()

    def new(self) -> bool:
        if not self.maybe_save():
            return False
        self.replace(Graph("untitled"), None)
        return True

    def open(self, path: str | Path | None = None) -> bool:
        """Open ``path`` (or ask for one); errors are shown, never raised."""
        from PySide6.QtWidgets import QFileDialog

        if not self.maybe_save():
            return False
        if path is None:
            start = str(self.document.path.parent) if self.document.path else ""
            path, _ = QFileDialog.getOpenFileName(self.window, "Open graph", start, self.FILTER)
            if not path:
                return False
        return self.load(Path(path))

    def load(self, path: Path) -> bool:
        """Read ``path`` into the document (no prompt); False with a message box on errors."""
        graph = self._read(path, "Cannot open graph")
        if graph is None:
            return False
        self.replace(graph, path)
        self.recent.add(path)
        return True

    def open_copy(self, path: Path) -> bool:
        """Open ``path`` as a new, unsaved graph (a shipped template): saving asks where."""
        graph = self._read(path, "Cannot open template") if self.maybe_save() else None
        if graph is None:
            return False
        self.replace(graph, None)
        return True

    def _read(self, path: Path, title: str) -> Graph | None:
        """The graph in ``path``, or None after a message box saying why not."""
        try:
            return fileformat.load(path)
        except fileformat.GraphFileError as exc:
            self._error(title, str(exc))
            return None

    def open_template(self) -> bool:
        from gui.template_dialog import TemplateDialog

        if not self.maybe_save():
            return False
        dialog = TemplateDialog(self.window)
        if not dialog.exec() or dialog.built_graph() is None:
            return False
        self.replace(dialog.built_graph(), None)  # type: ignore[arg-type]
        return True

    # ------------------------------------------------------------------ save
    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self.write(self.document.path)

    def save_as(self) -> bool:
        from PySide6.QtWidgets import QFileDialog

        start = str(self.document.path or f"{self.document.graph.name}.json")
        path, _ = QFileDialog.getSaveFileName(self.window, "Save graph as", start, self.FILTER)
        if not path:
            return False
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(".json")
        return self.write(target)

    def write(self, path: Path) -> bool:
        try:
            fileformat.save(self.document.graph, path)
        except OSError as exc:
            self._error("Cannot save graph", f"{path}: {exc.strerror or exc}")
            return False
        self.document.mark_saved(path)
        self.recent.add(path)
        if self.autosaver is not None:
            self.autosaver.discard()
        return True

    # ------------------------------------------------------------------ recovery
    def offer_recovery(self) -> bool:
        """If a crash left a recovery file, offer to restore it; True when restored."""
        from PySide6.QtWidgets import QMessageBox

        found = find_recovery(self.autosaver.folder if self.autosaver else None)
        if found is None:
            return False
        buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
        answer = QMessageBox.question(self.window, "Restore unsaved changes?",
                                      found.describe() + "\nRestore them?", buttons,
                                      QMessageBox.StandardButton.Yes)
        if answer != QMessageBox.StandardButton.Yes:
            discard_recovery(found.path.parent)
            return False
        try:
            graph = found.load()
        except fileformat.GraphFileError as exc:
            kept = found.path.with_name(f"recovery-damaged-{int(time.time())}.json")
            found.path.replace(kept)  # not offered again, but not deleted either
            discard_recovery(found.path.parent)
            self._error("Cannot restore", f"{exc}\nThe damaged recovery file was kept as {kept}.")
            return False
        self.document.set_graph(graph, found.original)
        self.document.undo_stack.resetClean()  # restored work is unsaved work
        self.window.graph_loaded()
        return True
