"""The reference of the start-up figure: a bare Textual app with a Header and a Footer."""

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header


class Bare(App):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Footer()


if __name__ == "__main__":
    Bare().run()
