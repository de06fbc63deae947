"""The application's header and footer, tuned for slow links and the Linux console."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.content import Content
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip
from textual.visual import VisualType
from textual.widget import Widget
from textual.widgets import Header
from textual.widgets._header import HeaderTitle

from tuibill.widgets.recent import Recent


class AppFooter(Widget, can_focus=False):
    """The keys of the screen, as Textual's compact Footer shows them, in one widget.

    Textual's Footer is a container of one widget per key (here ~20, with the global F-keys),
    all unmounted and mounted again whenever the keys shown change — at most focus moves, 20 ms
    of a desk's key press. This one is a single line of text, made again only when the keys
    shown change (the key, its label, whether it is enabled), a fraction of a millisecond.
    A click on a key presses it, as on Textual's.
    """

    DEFAULT_CSS = """
    AppFooter {
        dock: bottom;
        height: 1;
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: clip;
        color: $footer-foreground;
        background: $footer-background;

        & > .app-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .app-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .app-footer--disabled {
            text-style: dim;
        }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "app-footer--key",
        "app-footer--description",
        "app-footer--disabled",
    }

    def __init__(self) -> None:
        super().__init__()
        # (key, its display, label, enabled) for each key shown, in order.
        self._shown: tuple[tuple[str, str, str, bool], ...] = ()
        self._spans: list[tuple[int, int, str, bool]] = []  # x from, x to, key, enabled
        # The lines drawn for the last few sets of keys (see render_lines).
        self._drawn = Recent(self.DRAWN)

    @property
    def keys_shown(self) -> tuple[tuple[str, str, str, bool], ...]:
        """What the footer shows: (key, key as shown, label, enabled) for each key."""
        return self._shown

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        seen: set[str] = set()
        shown = []
        for binding, enabled, _ in (
            (active.binding, active.enabled, active.tooltip)
            for active in screen.active_bindings.values()
        ):
            # One key per action, as Textual's Footer: « / » for « slash,ctrl+f ».
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            display = self.app.get_key_display(binding)
            shown.append((binding.key, display, binding.description, enabled))
        shown_now = tuple(shown)
        if shown_now != self._shown:
            self._shown = shown_now
            self.refresh()

    DRAWN = 4  # sets of keys whose line is kept

    def render_lines(self, crop: Region) -> list[Strip]:
        # A focus move goes from one set of keys to another and back (a list's, a filter
        # field's): the line of each is kept, not made again — ~0.5–1 ms of the frame that
        # moves the focus, and a line left to the collector each time (Textual's strips, once
        # cut by the screen, refer to themselves).
        look = (
            self._shown, crop, self.size, self.rich_style, self.app.ansi_theme,
            tuple(self.get_line_filters()),
            *(self.get_component_rich_style(f"app-footer--{part}")
              for part in ("key", "description", "disabled")),
        )  # fmt: skip
        drawn = self._drawn.get(look)
        if drawn is None:
            drawn = self._drawn[look] = super().render_lines(crop), self._spans
        lines, self._spans = drawn
        return lines

    def render(self) -> Text:
        key_style = self.get_component_rich_style("app-footer--key")
        label_style = self.get_component_rich_style("app-footer--description")
        dim = self.get_component_rich_style("app-footer--disabled")
        text = Text(no_wrap=True, overflow="crop")
        self._spans = []

        def add(key: str, display: str, label: str, enabled: bool) -> None:
            start = text.cell_len
            text.append(display, key_style if enabled else key_style + dim)
            if label:
                text.append(" " + label, label_style if enabled else label_style + dim)
            self._spans.append((start, text.cell_len, key, enabled))
            text.append(" ")

        shown, help_key = self._fitted(self.size.width)
        for entry in shown:
            add(*entry)
        if help_key is not None:  # the keys left out are all in F1's list
            text.append("… ", label_style)
            add(*help_key)
        return text

    def _fitted(
        self, width: int
    ) -> tuple[tuple[tuple[str, str, str, bool], ...], tuple[str, str, str, bool] | None]:
        """The keys that fit in *width* columns, in order; when some do not, the last place
        goes to « … F1 Aide » (the help lists every key) rather than to half a label."""

        def cells(entry: tuple[str, str, str, bool]) -> int:
            _, display, label, _ = entry
            return len(display) + (len(label) + 1 if label else 0) + 1

        if width <= 0 or sum(map(cells, self._shown)) <= width:
            return self._shown, None
        help_key = next((entry for entry in self._shown if entry[0] == "f1"), None)
        if help_key is None:
            return self._shown, None
        room = width - cells(help_key) - 2
        kept = []
        for entry in self._shown:
            if entry is help_key:
                continue
            room -= cells(entry)
            if room < 0:
                break
            kept.append(entry)
        return tuple(kept), help_key

    def on_resize(self, event: events.Resize) -> None:
        self.refresh()  # what fits changed

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        for start, end, key, enabled in self._spans:
            if start <= offset.x < end:
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return


class HeaderLine(HeaderTitle):
    """The header's title and sub-title, on the full width of its one line whatever they say:
    repainted when they change, never laid out again. Textual's header sets them from four
    watchers once mounted (the app's and the screen's title and sub-title), each a layout and a
    new frame of the whole screen, after a first frame that had none (issue 12, start-up)."""

    def update(self, content: VisualType = "", *, layout: bool = False) -> None:
        shown = self.content
        if isinstance(content, Content) and isinstance(shown, Content):
            if content.plain == shown.plain and content.spans == shown.spans:
                return
        elif content == shown:
            return
        super().update(content, layout=False)


class AppHeader(Header):
    """Textual's header with an icon the Linux console's font has (no round « ⭘ »), its title
    there from the first frame (``HeaderLine``)."""

    def __init__(self) -> None:
        super().__init__(icon="≡")

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            yield HeaderLine(self.format_title()) if isinstance(widget, HeaderTitle) else widget

    def on_mount(self) -> None:
        if getattr(self.app, "ascii_borders", False):
            self.icon = "="
