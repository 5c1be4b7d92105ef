"""Print markdown (tables) readably: rich tables on a terminal, the plain markdown when piped or redirected."""

from __future__ import annotations

import re
import sys
from typing import TextIO


def is_table_line(line: str) -> bool:
    return line.strip().startswith("|") and line.strip().endswith("|")


def split_row(line: str) -> list[str]:
    """The cells of a markdown table line (``\\|`` is a literal bar inside a cell)."""
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]


def print_markdown(text: str, stream: TextIO | None = None, tty: bool | None = None) -> None:
    """``text`` as is off a terminal; on one, every markdown table becomes a rich table (other lines as is)."""
    stream = stream or sys.stdout
    if not (stream.isatty() if tty is None else tty):
        stream.write(text + ("" if text.endswith("\n") else "\n"))
        stream.flush()
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(file=stream, force_terminal=True if tty else None, soft_wrap=True)
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if is_table_line(lines[i]) and i + 1 < len(lines) and set(lines[i + 1].replace("|", "").strip()) <= set("-: "):
            table = Table(*split_row(lines[i]), show_lines=False, header_style="bold")
            i += 2
            while i < len(lines) and is_table_line(lines[i]):
                table.add_row(*split_row(lines[i]))
                i += 1
            console.print(table)
            continue
        line = lines[i]
        console.print(
            f"[bold]{line.lstrip('#').strip()}[/bold]" if line.startswith("#") else line,
            markup=line.startswith("#"),
            highlight=False,
        )
        i += 1
