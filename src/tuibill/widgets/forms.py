"""Form pieces: labelled one-line fields, a field picked from another screen, and each French
error shown under the field it names.

Every check is the services' own: a form only turns text into values, then shows the service's
message at the field its ``ValidationError.field`` names (``show_error``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Label, Select, Static

from tuibill.domain.errors import TuibillError

DATE_CHARS = r"[0-9/]*"  # what a JJ/MM/AAAA field accepts


def field(label: str, widget: Widget) -> Horizontal:
    """One labelled line. Compact one-line widgets keep a whole tab readable at 80×24; a line
    for the field's error is added under it only when there is one (fewer widgets to build)."""
    return Horizontal(Label(label, classes="field-label"), widget, classes="field-line")


class PickField(Static, can_focus=True):
    """A value chosen from another screen (an assuré, a prescripteur): Entrée to choose,
    Suppr to clear. The chosen record's id is ``value``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "request", "Choisir", id="choix_choisir", key_display="Entrée"),
        Binding("delete", "clear", "Effacer", id="choix_effacer", key_display="Suppr"),
    ]

    @dataclass
    class Requested(Message):
        pick_field: PickField

        @property
        def control(self) -> PickField:
            return self.pick_field

    def __init__(self, empty_text: str, *, id: str) -> None:
        # A form value like any input: counted when looking for unsaved changes.
        super().__init__(empty_text, id=id, markup=False, classes="form-value -empty")
        self.empty_text = empty_text
        self.value: int | None = None

    def set_value(self, value: int | None, text: str = "") -> None:
        self.value = value
        self.update(text if value is not None else self.empty_text)
        self.set_class(value is None, "-empty")

    def action_request(self) -> None:
        self.post_message(self.Requested(self))

    def action_clear(self) -> None:
        self.set_value(None)


def clear_errors(root: Widget) -> None:
    for message in root.query(".field-error"):
        message.remove_class("-shown")
    for widget in root.query(".-invalid"):
        widget.remove_class("-invalid")


def clear_error(root: Widget, widget: Widget) -> None:
    """Forget a field's error once its value changes."""
    if not widget.has_class("-invalid"):
        return  # the usual case, and it costs no query
    widget.remove_class("-invalid")
    for message in root.query(f"#err-{widget.id}"):
        message.remove_class("-shown")


def show_error(
    root: Widget, error: TuibillError, aliases: dict[str, str] | None = None
) -> Widget | None:
    """Put a service's French message under the field it names and focus that field.

    *aliases* maps a service's field name to the widget id when they differ. An error with no
    field on this form becomes a notification. Returns the field's widget, if any.
    """
    name = getattr(error, "field", None)
    widget_id = (aliases or {}).get(name, name) if name else None
    found = root.query(f"#{widget_id}") if widget_id else None
    line = found.first().parent if found else None
    if line is None or not line.has_class("field-line") or line.parent is None:
        root.notify(str(error), severity="error", title="Refusé", markup=False)
        return None
    widget = found.first()
    existing = root.query(f"#err-{widget_id}")
    if existing:
        message = existing.first(Static)
        message.update(str(error))
        message.add_class("-shown")
    else:
        message = Static(
            str(error), id=f"err-{widget_id}", classes="field-error -shown", markup=False
        )
        line.parent.mount(message, after=line)
    widget.add_class("-invalid")
    widget.focus()
    return widget


def show_message(widget: Static, message: str) -> None:
    """A form's fixed error line: shown with *message*, hidden when there is none."""
    widget.update(message)
    widget.display = bool(message)


def form_state(root: Widget) -> tuple[Any, ...]:
    """The values of every ``.form-value`` widget under *root*: compared to detect changes."""
    return tuple(getattr(widget, "value", None) for widget in root.query(".form-value"))


class FormBaseline:
    """A form's unsaved changes, for the guard of every way out (``dialogs.unsaved``): its
    ``.form-value`` widgets against their values when last filled or saved.

    Call :meth:`mark_saved` once the fields are filled (at the end of ``on_mount``, not after a
    refresh: keys typed meanwhile would count as saved) and after each save.
    """

    _baseline: tuple[Any, ...] | None = None

    def mark_saved(self) -> None:
        self._baseline = form_state(self)  # type: ignore[arg-type]

    def has_unsaved_changes(self) -> bool:
        return self._baseline is not None and form_state(self) != self._baseline  # type: ignore[arg-type]


def select_value(select: Select) -> Any:
    return None if select.value is Select.NULL else select.value
