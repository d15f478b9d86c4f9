"""Every reference model is reachable from the Open Template dialog, as a person reaches it."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialogButtonBox

from builder import templates
from gui.template_dialog import TemplateDialog

from .reference_zoo import REFERENCES


@pytest.fixture
def dialog(qtbot, monkeypatch):
    raised: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, value, tb: raised.append(value))
    window = TemplateDialog()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    assert not raised, raised


def _names(dialog: TemplateDialog) -> list[str]:
    return [dialog.list.item(row).data(256) for row in range(dialog.list.count())]


def test_the_dialog_lists_every_reference_model(dialog) -> None:
    assert set(REFERENCES) <= set(_names(dialog))


@pytest.mark.parametrize("name", ["resnext29_4x64d", "densenet_cifar", "preact_resnet18_identity", "vgg13"])
def test_clicking_a_reference_model_and_open_builds_it(dialog, name: str) -> None:
    item = dialog.list.item(_names(dialog).index(name))
    dialog.list.scrollToItem(item)
    QTest.mouseClick(dialog.list.viewport(), Qt.MouseButton.LeftButton,
                     pos=dialog.list.visualItemRect(item).center())
    assert dialog.template_name() == name and name in dialog.description.text()
    dialog.classes.setValue(100)
    button = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Open)
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    assert dialog.result() == TemplateDialog.DialogCode.Accepted
    assert dialog.built_graph() == templates.make(name, num_classes=100)
