"""Readable at every zoom: block text down to ~70 px blocks, group names when further out, heat colours.

Rendering checks grab the real viewport and count text-coloured pixels inside a block; the
overview labels and the gradient heat are driven through the view and the document as in use.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from builder import fileformat
from builder.graph import Graph
from builder.layout import BLOCK_W
from gui.canvas import overview
from gui.canvas.items import ERROR_TEXT, contrast, short_id, text_colors
from gui.training.heat import LEVELS, CanvasHeat, heat_color
from gui.training.history import RunData
from tests.gui.conftest import GRAPHS
from tests.gui.excepthook import hook  # noqa: F401  (autouse: no exception may escape a slot)
from tests.gui.test_canvas import make_view, small_graph


def zoom_to(view: Any, zoom: float, block_id: str) -> None:
    view.resetTransform()
    view.scale(zoom, zoom)
    view.centerOn(view.graph_scene.blocks[block_id])
    QApplication.processEvents()


def dark_pixels(view: Any, block_id: str) -> int:
    """Pixels of text colour inside a block's box (its outline and colour bar left out)."""
    image: QImage = view.viewport().grab().toImage()
    rect = view.mapFromScene(view.graph_scene.blocks[block_id].sceneBoundingRect()).boundingRect()
    inner = rect.adjusted(rect.width() // 8, rect.height() // 5, -rect.width() // 12, -rect.height() // 5)
    count = 0
    for x in range(inner.left(), inner.right()):
        for y in range(inner.top(), inner.bottom()):
            c = QColor(image.pixel(x, y))
            count += max(c.red(), c.green(), c.blue()) < 110
    return count


def test_block_names_are_drawn_until_blocks_are_about_70_px_wide(qtbot: Any, resnet20: Graph) -> None:
    view = make_view(qtbot, resnet20)
    at_70px = 70 / BLOCK_W
    zoom_to(view, at_70px, "layer1_0_bn1")
    on_screen = view.mapFromScene(view.graph_scene.blocks["layer1_0_bn1"].sceneBoundingRect()).boundingRect()
    assert 66 <= on_screen.width() <= 80
    assert dark_pixels(view, "layer1_0_bn1") > 25  # "bn1" and "16×32×32" are there
    zoom_to(view, 0.75 * 1.0, "layer1_0_bn1")
    assert dark_pixels(view, "layer1_0_bn1") > 60  # full detail at 75%
    zoom_to(view, 0.3, "layer1_0_bn1")
    assert dark_pixels(view, "layer1_0_bn1") < 5  # too small: the frames are labelled instead


def test_fitted_zoo_graphs_show_group_names_and_shapes_not_empty_boxes(qtbot: Any) -> None:
    graph = fileformat.load(GRAPHS / "resnet110.json")
    view = make_view(qtbot, graph)
    view.fit_all()
    QApplication.processEvents()
    assert view.zoom() < 0.2
    labels = overview.labels(view)
    names = {label.name for label in labels}
    assert {"layer1", "layer2", "layer3"} <= names
    shapes = {label.name: label.shape for label in labels}
    assert shapes["layer2"] == "→ 32×16×16" and shapes["layer3"] == "→ 64×8×8"
    for i, a in enumerate(labels):  # none hides another
        assert all(not a.rect.intersects(b.rect) for b in labels[i + 1:])
    image = view.viewport().grab().toImage()
    first = next(label for label in labels if label.name == "layer1")
    spot = first.rect.toRect().adjusted(2, 2, -2, -2)
    assert _pixels_like(image, spot, QColor(255, 255, 255)) > 20  # the label's pill is drawn


def _pixels_like(image: QImage, rect: QRect, color: QColor) -> int:
    count = 0
    for x in range(rect.left(), rect.right()):
        for y in range(rect.top(), rect.bottom()):
            c = QColor(image.pixel(x, y))
            near = abs(c.red() - color.red()) + abs(c.green() - color.green()) + abs(c.blue() - color.blue())
            count += near < 40
    return count


def test_at_full_detail_the_view_draws_no_labels_of_its_own(qtbot: Any, resnet20: Graph) -> None:
    view = make_view(qtbot, resnet20)
    assert view.zoom() == 1.0 and overview.labels(view) == []


@pytest.mark.parametrize("error", [False, True])
def test_text_on_every_heat_tint_is_readable_and_never_red(error: bool) -> None:
    for level in range(LEVELS + 1):
        fill = heat_color(level / LEVELS)
        for color in text_colors(fill, error, tinted=True):
            assert contrast(fill, color) >= 4.5, (level, fill.name(), color.name())
            assert color.hsvSaturation() < 40 or 40 < color.hsvHue() < 320  # never red text


def test_error_text_on_an_untinted_block_is_red_and_readable() -> None:
    from gui import style

    for category in style.CATEGORY_COLORS.values():
        fill = QColor(category).lighter(185)
        _, _, shape = text_colors(fill, True, tinted=False)
        assert contrast(fill, shape) >= 4.5
    assert text_colors(QColor("white"), True, tinted=False)[2] == ERROR_TEXT


def _run(block_norms: dict[str, float]) -> RunData:
    run = RunData("run1", "small", None)
    run.add_gradients(SimpleNamespace(block_ids=list(block_norms), weight_norms=list(block_norms.values()),
                                      step=1))
    return run


def test_the_heat_legend_goes_with_the_last_tinted_block(qtbot: Any) -> None:
    view = make_view(qtbot, small_graph())
    heat = CanvasHeat(view)
    heat.show_run(_run({"relu": 0.5, "sig": 0.001}))
    assert heat.legend.isVisible()
    assert view.graph_scene.blocks["relu"].tint is not None
    for block_id in ("relu", "sig"):
        view.select_blocks([block_id])
        view.setFocus()
        QTest.keyClick(view.viewport(), Qt.Key.Key_Delete)
        qtbot.wait(5)
        assert heat.legend.isVisible() == (block_id == "relu")  # one tinted block is left after relu
    view.doc.undo_stack.undo()  # sig is back: so is the legend
    qtbot.wait(5)
    assert heat.legend.isVisible()


def test_the_heat_legend_goes_when_the_graph_is_replaced(qtbot: Any) -> None:
    view = make_view(qtbot, small_graph())
    heat = CanvasHeat(view)
    heat.show_run(_run({"relu": 0.5}))
    assert heat.legend.isVisible()
    view.doc.set_graph(Graph("fresh"))
    assert not heat.legend.isVisible()


def test_a_tinted_block_with_an_error_draws_its_text_in_the_tint_contrast_colour(qtbot: Any) -> None:
    view = make_view(qtbot, small_graph())
    red = heat_color(0.55)
    item = view.graph_scene.blocks["add"]
    item.set_tint(red)
    item.set_diagnostics([SimpleNamespace(severity="error", message="broken")])  # type: ignore[list-item]
    title, detail, shape = item.text_colors()
    assert shape == title and contrast(red, shape) >= 4.5


@pytest.mark.parametrize("stem", ["resnet20", "googlenet"])
def test_an_ungrouped_blocks_name_never_covers_a_group_frame(qtbot: Any, stem: str) -> None:
    """At Fit, "output" under ResNet-20's last stage (and GoogLeNet's pools between its
    inception frames) used to sit on the frame above: their names go below or give way."""
    graph = fileformat.load(GRAPHS / f"{stem}.json")
    view = make_view(qtbot, graph)
    view.fit_all()
    QApplication.processEvents()
    short = {short_id(b.id, b.group) for b in graph.blocks() if b.group}  # "relu1" in layer3.1
    loose = {b.id for b in graph.blocks() if not b.group} - short
    frames = [view.mapFromScene(f.box_rect()).boundingRect() for f in view.graph_scene.frames.values()]
    shown = [label for label in overview.labels(view) if label.name in loose]
    assert shown  # the names are drawn ...
    for label in shown:  # ... clear of every frame
        assert not any(label.rect.toRect().intersects(f) for f in frames), label.name
