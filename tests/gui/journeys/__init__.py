"""Journeys: what a person does in the window, step by step, through its widgets only.

``driver`` holds :class:`~tests.gui.journeys.driver.Journey` (click a button by its text, trigger
a menu path, type into a field, drag on the canvas, answer the next modal dialog) and
:class:`~tests.gui.journeys.driver.Dialogs`; ``scenes`` the journeys themselves, shared by the
tests (``test_journeys``) and the screenshot script (``tools/journey_shots.py``).
"""
