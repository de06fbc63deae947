"""A real headless Chromium (Debian's ``chromium``) driven over the DevTools protocol, enough
to open a page, type keys and read what a textual-serve page shows.

The terminal in a textual-serve page is drawn on a canvas: its text is read from the xterm.js
buffer, reached through the page's own resize handler (a closure over the terminal's owner),
with DevTools' scope inspection — nothing is added to the page.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator

import aiohttp


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "chromium-headless-shell"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


# Keys as DevTools' Input.dispatchKeyEvent wants them.
KEYS = {
    "enter": {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r"},
    "escape": {"key": "Escape", "code": "Escape", "windowsVirtualKeyCode": 27},
    **{f"f{n}": {"key": f"F{n}", "code": f"F{n}", "windowsVirtualKeyCode": 111 + n} for n in range(1, 13)},
}

_BUFFER_TEXT = """function () {
  const lines = [];
  const buffer = this.terminal.buffer.active;
  for (let i = 0; i < this.terminal.rows; i++) {
    const line = buffer.getLine(buffer.viewportY + i);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
}"""


class Page:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.terminal_owner: str | None = None

    async def send(self, method: str, **params) -> dict:
        message_id = next(self.ids)
        await self.ws.send_str(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            reply = json.loads((await self.ws.receive()).data)
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    async def goto(self, url: str) -> None:
        await self.send("Page.enable")
        await self.send("Page.navigate", url=url)

    async def _owner(self) -> str | None:
        """The object of textual.js that holds the xterm.js terminal: an instance of a class
        in the scope of the page's ``window.onresize`` handler, found with DevTools'
        ``Runtime.queryObjects``."""
        handler = await self.send("Runtime.evaluate", expression="window.onresize")
        object_id = handler.get("result", {}).get("objectId")
        if not object_id:
            return None
        props = await self.send("Runtime.getProperties", objectId=object_id, ownProperties=False)
        scopes = next(
            (p for p in props.get("internalProperties", []) if p["name"] == "[[Scopes]]"), None
        )
        if scopes is None:
            return None
        listed = await self.send("Runtime.getProperties", objectId=scopes["value"]["objectId"])
        for scope in listed.get("result", []):
            if scope.get("value", {}).get("description") != "Closure":
                continue
            variables = await self.send("Runtime.getProperties", objectId=scope["value"]["objectId"])
            for variable in variables.get("result", []):
                value = variable.get("value", {})
                if value.get("type") != "function" or "objectId" not in value:
                    continue
                prototype = await self.send(
                    "Runtime.callFunctionOn", objectId=value["objectId"],
                    functionDeclaration="function () { return this.prototype; }",
                )  # fmt: skip
                prototype_id = prototype.get("result", {}).get("objectId")
                if not prototype_id:
                    continue
                found = await self.send("Runtime.queryObjects", prototypeObjectId=prototype_id)
                first = await self.send(
                    "Runtime.callFunctionOn", objectId=found["objects"]["objectId"],
                    functionDeclaration="function () { const o = this[0];"
                    " return o && o.terminal && o.terminal.buffer ? o : null; }",
                )  # fmt: skip
                owner = first.get("result", {}).get("objectId")
                if owner:
                    return owner
        return None

    async def screen(self) -> str:
        """The text the terminal in the page shows, line by line."""
        if self.terminal_owner is None:
            self.terminal_owner = await self._owner()
            if self.terminal_owner is None:
                return ""
        result = await self.send(
            "Runtime.callFunctionOn", objectId=self.terminal_owner,
            functionDeclaration=_BUFFER_TEXT, returnByValue=True,
        )  # fmt: skip
        return result.get("result", {}).get("value", "")

    async def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = await self.screen()
            if text in screen:
                return screen
            await asyncio.sleep(0.25)
        raise AssertionError(f"« {text} » jamais affiché dans la page ; écran :\n{screen}")

    async def press(self, key: str) -> None:
        spec = KEYS[key]
        await self.send("Input.dispatchKeyEvent", type="keyDown", **spec)
        await self.send("Input.dispatchKeyEvent", type="keyUp", **{k: v for k, v in spec.items() if k != "text"})

    async def type(self, text: str) -> None:
        for char in text:
            await self.send("Input.dispatchKeyEvent", type="char", text=char)

    async def focus_terminal(self) -> None:
        """Keys go to the terminal's input element, as after a click in the page."""
        await self.send(
            "Runtime.evaluate", expression="document.querySelector('.xterm-helper-textarea').focus()"
        )


@contextlib.asynccontextmanager
async def chromium_page(width: int = 1280, height: int = 800) -> AsyncIterator[Page]:
    """A headless Chromium with one page, closed afterwards."""
    binary = chromium_path()
    if binary is None:
        raise RuntimeError("Chromium absent : installez le paquet Debian « chromium ».")
    port = free_port()
    profile = tempfile.mkdtemp(prefix="tuibill-chromium-")
    process = subprocess.Popen(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-extensions", f"--remote-debugging-port={port}", f"--user-data-dir={profile}",
         f"--window-size={width},{height}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ},
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/json/version")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as reply:
            targets = json.load(reply)
        page = next(t for t in targets if t["type"] == "page")
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                yield Page(ws)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)
