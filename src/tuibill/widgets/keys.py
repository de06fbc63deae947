"""The keys of the list screens: choosing rows, the number keys, and the line of keys under a
list (every key of the screen, where the footer is cut at 80 columns).

The hint line is built from the screen's live bindings, so that a user's keymap and the keys
that apply right now (``check_action``) show, and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.binding import Binding
from textual.screen import Screen

# One footer entry for the three selection keys: the footer is 80 columns wide.
SELECTION = Binding.Group("Sélection")


def selection_bindings(prefix: str) -> list[Binding]:
    """Espace chooses the row (and moves on), + chooses all, - none; ids ``{prefix}_…``."""
    return [
        Binding(
            "space",
            "toggle_mark",
            "Sélectionner",
            key_display="Espace",
            group=SELECTION,
            id=f"{prefix}_selection",
        ),
        Binding(
            "plus",
            "mark_all",
            "Tout sélectionner",
            key_display="+",
            group=SELECTION,
            id=f"{prefix}_tout_selectionner",
        ),
        Binding(
            "minus",
            "unmark_all",
            "Tout désélectionner",
            key_display="-",
            group=SELECTION,
            id=f"{prefix}_tout_deselectionner",
        ),
    ]


def delete_binding(action: str, description: str, binding_id: str) -> Binding:
    """Suppr (« Delete » on the keyboard, « Suppr » in the footer) for *action*."""
    return Binding("delete", action, description, key_display="Suppr", id=binding_id)


def number_bindings(action: str, labels: Mapping[str, str], id_prefix: str) -> list[Binding]:
    """1, 2, 3…: ``action('name')`` for each name of *labels*, in order; hidden from the
    footer (the hint line lists them)."""
    return [
        Binding(str(n), f"{action}('{name}')", label, show=False, id=f"{id_prefix}_{n}")
        for n, (name, label) in enumerate(labels.items(), start=1)
    ]


def key_hint(
    screen: Screen,
    prefix: str,
    *,
    groups: Mapping[str, str] | None = None,
    shown: bool = True,
    hidden: bool = True,
    span_digits: bool = False,
    lead: Sequence[tuple[str, str]] = (),
) -> Text:
    """« key description » for each enabled binding of *screen* whose id starts with *prefix*.

    Keys whose action starts with a key of *groups* are listed together under its label, and the
    keys of one ``Binding.Group`` under the group's description. The other bindings are listed
    when they are shown in the footer (*shown*) or hidden from it (*hidden*). *span_digits*
    writes the keys « 1 2 3 4 » of a group as « 1-4 »; *lead* comes first.
    """
    parts: list[tuple[str, str]] = list(lead)
    grouped: dict[str, list[str]] = {}
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        binding_id = binding.id or ""
        if not binding_id.startswith(prefix) or not active.enabled or binding_id in seen:
            continue
        seen.add(binding_id)  # a binding of two keys is listed once
        key = screen.app.get_key_display(binding)
        label = next(
            (text for start, text in (groups or {}).items() if binding.action.startswith(start)),
            binding.group.description if binding.group is not None else None,
        )
        if label is not None:
            grouped.setdefault(label, []).append(key)
        elif shown if binding.show else hidden:
            parts.append((key, binding.description))
    for label, keys in grouped.items():
        consecutive = span_digits and keys == [str(n) for n in range(1, len(keys) + 1)]
        parts.append((f"1-{len(keys)}" if consecutive else " ".join(keys), label))
    hint = Text()
    for key, description in parts:
        hint.append(key, style="bold")
        hint.append(f" {description}  ")
    return hint
