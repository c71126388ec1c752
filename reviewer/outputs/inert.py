"""Nothing archreview prints can become a GitHub Actions workflow command.

The Actions runner reads every line a step writes to stdout or stderr. A line whose text, after
leading white space, starts with `::` is a workflow command (`::error file=..::`,
`::add-mask::`, `::stop-commands::`), and so is a line holding `##[` anywhere (the legacy form,
`##[group]`, `##[error]`). Repository text reaches those streams in many ways: a file or folder
name, a logical id, a property value in a message, a profile name, git's own output relayed in a
warning. Escaping each of them where it is formatted would leave a gap at the next new message,
so the command line puts ONE filter in front of stdout and stderr under `GITHUB_ACTIONS=true`
(`guard_standard_streams`, called by `reviewer.cli.main.run`): every byte any part of archreview
writes passes through it, and it breaks each would-be command as the text goes by.

How a command is broken depends on the document on the stream, so that what it says is kept:

- human text (the text report, Markdown, HTML, every message): a ZERO WIDTH SPACE (U+200B) goes
  between the two colons and between `##` and `[`. The line reads the same; the runner, which
  trims only white space (U+200B is a format character, not white space) and looks for the
  exact characters, sees no command;
- JSON and SARIF on stdout: `##[` can only sit inside a string there, and becomes `##\\u005b`,
  the same string to any JSON reader (a JSON line never starts with `::`);
- XML (JUnit) on stdout: `&#58;` and `&#91;`, the same characters to any XML reader.

The filter works on a stream of writes, so a command split across two writes is still seen: it
remembers whether the line written so far is only white space, and holds back the one or two
characters that could be the start of a command (a first `:` at such a line's start, a trailing
`#` or `##`) until the next write says what they are; they are written when the stream is
released.

archreview's own annotations (`workflow_command`) go around the filter, with their message
escaped as the runner expects (`%`, CR and LF as `%25`, `%0D`, `%0A`), so they stay one line.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, TextIO

ZWSP = "\u200b"
# style -> (what goes between the colons of a leading `::`, what `##[` becomes)
_STYLES: dict[str, tuple[str, str]] = {
    "text": (":" + ZWSP + ":", "##" + ZWSP + "["),
    "json": (":" + ZWSP + ":", "##\\u005b"),
    "xml": (":&#58;", "##&#91;"),
}
_FORMAT_STYLES = {"json": "json", "sarif": "json", "junit": "xml"}


def in_actions() -> bool:
    """True when running as a GitHub Actions step (the runner sets GITHUB_ACTIONS=true)."""
    return os.environ.get("GITHUB_ACTIONS") == "true"


def style_of(fmt: str) -> str:
    """The neutralising style for an output format: json, xml or text."""
    return _FORMAT_STYLES.get(fmt, "text")


def neutralise(text: str, style: str = "text", *, at_line_start: bool = True) -> str:
    """`text` with every would-be workflow command broken (see the module docstring).
    `at_line_start`: whether `text` begins a line (else a leading `::` is mid-line)."""
    colons, bracket = _STYLES.get(style, _STYLES["text"])
    if "::" in text:
        text = _break_leading(text, colons, at_line_start)
    return text.replace("##[", bracket) if "##[" in text else text


def _break_leading(text: str, colons: str, at_line_start: bool) -> str:
    """Replace the `::` that starts a line (after white space) with `colons`. Lines are split
    wherever Python splits them, which includes CR and LF (the runner's line breaks) and a few
    more (breaking a `::` there too costs only an invisible character). Linear in the text."""
    lines = text.splitlines(keepends=True)
    for n, line in enumerate(lines):
        if "::" not in line or (n == 0 and not at_line_start):
            continue
        body = line.lstrip()
        if body.startswith("::"):
            lines[n] = line[: len(line) - len(body)] + colons + body[2:]
    return "".join(lines)


def has_command(text: str) -> bool:
    """Whether any line of `text` would be read as a workflow command (for tests and checks)."""
    for line in re.split(r"\r\n|\r|\n", text):
        if line.strip().startswith("::") or "##[" in line:
            return True
    return False


class ActionsLogStream:
    """A text stream in front of stdout or stderr that lets no workflow command through.

    It has no `buffer`: whoever writes must write text through it (click then writes to it as
    it is, and `print` does too)."""

    def __init__(self, raw: TextIO) -> None:
        self.raw = raw
        self.style = "text"
        self._pending = ""
        self._at_start = True  # the line written so far is empty or white space only

    # -- the filter --------------------------------------------------------------------------

    def _feed(self, data: str) -> str:
        data = self._pending + data
        self._pending = ""
        last = max(data.rfind("\n"), data.rfind("\r"))
        line = data[last + 1 :]  # the line still open at the end of the text
        line_start = last >= 0 or self._at_start
        if line_start and line.endswith(":") and not line[:-1].strip():
            cut = len(data) - 1  # a first colon where a command could start: wait for more
        elif data.endswith("##"):
            cut = len(data) - 2
        elif data.endswith("#"):
            cut = len(data) - 1
        else:
            cut = len(data)
        if cut < len(data):
            data, self._pending = data[:cut], data[cut:]
            last = max(data.rfind("\n"), data.rfind("\r"))
            line = data[last + 1 :]
        out = neutralise(data, self.style, at_line_start=self._at_start)
        self._at_start = (last >= 0 or self._at_start) and not line.strip()
        return out

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click asks whether this is a binary stream this way
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        out = self._feed(text)
        if out:
            self.raw.write(out)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def release(self) -> None:
        """Write what is held back (harmless on its own: white space, a colon, `#`s)."""
        if self._pending:
            held, self._pending = self._pending, ""
            self.raw.write(held)
        self._at_start = True

    def command(self, line: str) -> None:
        """Write one line of archreview's own around the filter (an annotation)."""
        self.release()
        self.raw.write(line + "\n")
        self.raw.flush()

    # -- the rest of a text stream -----------------------------------------------------------

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    def fileno(self) -> int:
        return self.raw.fileno()

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    @property
    def encoding(self) -> str:
        return getattr(self.raw, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:
        return getattr(self.raw, "errors", None)

    @property
    def closed(self) -> bool:
        return bool(self.raw.closed)


def guard_standard_streams() -> bool:
    """Under GitHub Actions, put the filter in front of sys.stdout and sys.stderr (once).
    Returns whether the streams are guarded."""
    if not in_actions():
        return False
    if not isinstance(sys.stdout, ActionsLogStream):
        sys.stdout = ActionsLogStream(sys.stdout)
    if not isinstance(sys.stderr, ActionsLogStream):
        sys.stderr = ActionsLogStream(sys.stderr)
    return True


def release_standard_streams() -> None:
    """Write what the filters hold back and put the original streams back."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, ActionsLogStream):
            stream.release()
            setattr(sys, name, stream.raw)


def set_stdout_style(fmt: str) -> None:
    """Tell the filter on stdout which document comes next (json/sarif/junit keep their
    values exact); nothing to do when stdout is not filtered."""
    if isinstance(sys.stdout, ActionsLogStream):
        sys.stdout.release()
        sys.stdout.style = style_of(fmt)


def escape_data(value: str) -> str:
    """A workflow command's message as the runner reads it back: one line."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A workflow command's property value (`title=...`): also no `:` or `,`."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def workflow_command(name: str, message: str, **properties: str) -> str:
    """One of archreview's own workflow commands, e.g. ('notice', 'text', title='archreview'):
    the message and properties are escaped, and a `##[` in them is broken too."""
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    head = f"::{name} {props}::" if props else f"::{name}::"
    return head + neutralise(escape_data(message), at_line_start=False)


def emit_command(name: str, message: str, **properties: str) -> None:
    """Write one of archreview's own workflow commands to stdout, around the filter."""
    line = workflow_command(name, message, **properties)
    if isinstance(sys.stdout, ActionsLogStream):
        sys.stdout.command(line)
    else:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
