"""The journeys of issue 10, each through the widgets only (the steps are in ``scenes``).

Every test runs with ``sys.excepthook`` captured (an exception escaping a slot fails it), file
and input dialogs answered by the journey, and no other dialog left open by the watchdog.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gui.journeys import scenes
from tests.gui.journeys.driver import Journey
from tests.gui.window_helpers import escaped  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("escaped")


@pytest.fixture
def journey(window: Any) -> Iterator[Journey]:
    with Journey(window) as j:
        yield j
        for win in {window, j.window}:
            if win.training is not None:
                win.training.stop_and_wait()
    assert j.closed == [], f"dialogs or popups nobody expected: {j.closed}"
    assert not [m for m in j.messages if m.startswith("Internal error")]


def test_a_residual_block_built_from_the_palette_and_its_add_fixed(journey: Journey) -> None:
    ids = scenes.build_residual_block(journey)
    graph = journey.window.document.graph  # type: ignore[attr-defined]
    skip = graph.inputs_of(ids["add"])[1]
    assert graph.block(skip).type == "shortcut_pad" and graph.inputs_of(skip) == {0: ids["input"]}


def test_one_epoch_from_the_start_button(journey: Journey) -> None:
    scenes.train_one_epoch(journey)


def test_compare_depths_from_the_button_and_from_the_train_menu(journey: Journey) -> None:
    scenes.compare_depths(journey)


def test_train_plain_twin_on_a_resnet(journey: Journey) -> None:
    scenes.plain_twin(journey)


def test_pause_resume_and_stop_with_buttons_and_shortcuts(journey: Journey) -> None:
    scenes.pause_resume_stop(journey)


def test_trained_weights_export_to_code_and_onnx_and_load_back(journey: Journey, tmp_path: Path) -> None:
    scenes.train_one_epoch(journey)
    written = scenes.export_trained(journey, tmp_path)
    scenes.check_exports(written)


def test_a_restarted_window_lists_the_runs_and_restores_the_settings(journey: Journey, qtbot: Any,
                                                                       tmp_path: Path) -> None:
    def restart() -> Any:
        from gui.mainwindow import MainWindow

        window = MainWindow(background=False)
        window.autosaver.folder = tmp_path / "appdata-restarted"
        window.autosaver.folder.mkdir()
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    scenes.restart_finds_runs_and_settings(journey, restart)
    journey.window.document.undo_stack.setClean()  # type: ignore[attr-defined]
