"""Summarise py-spy's raw (collapsed) stacks: where the samples went, by package and function.

    uv run python -m tests.perf.stacks PROFILE.txt [PROFILE.txt …] [--top 25]

"self" counts a sample for the frame (or package) running at the top of the stack;
"total" counts it once for every frame (or package) anywhere in the stack.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

_FRAME = re.compile(r"^(?P<name>.*) \((?P<file>[^():]*)(?::\d+)?\)$")
_SITE = re.compile(r".*/(site-packages|lib/python3\.\d+)/")


@dataclass
class Profile:
    samples: int = 0
    self_functions: Counter[str] = field(default_factory=Counter)
    total_functions: Counter[str] = field(default_factory=Counter)
    self_packages: Counter[str] = field(default_factory=Counter)
    total_packages: Counter[str] = field(default_factory=Counter)

    def add(self, frames: list[tuple[str, str]], count: int) -> None:
        self.samples += count
        if not frames:
            return
        name, package = frames[-1]
        self.self_functions[name] += count
        self.self_packages[package] += count
        for seen in {n for n, _ in frames}:
            self.total_functions[seen] += count
        for seen in {p for _, p in frames}:
            self.total_packages[seen] += count


def package_of(path: str) -> str:
    """`…/site-packages/sqlalchemy/orm/session.py` → `sqlalchemy`; `hom/core/db.py` → `hom`."""
    relative = _SITE.sub("", path)
    head = relative.split("/", 1)[0]
    return head.removesuffix(".py") or "?"


def frames_of(stack: str) -> list[tuple[str, str]]:
    frames = []
    for text in stack.split(";"):
        match = _FRAME.match(text)
        if match is None:
            frames.append((text, "?"))
            continue
        file = match["file"]
        frames.append((f"{match['name']} ({file})", package_of(file)))
    return frames


def read(paths: list[Path]) -> Profile:
    """One profile of every file's samples (each worker's, say)."""
    profile = Profile()
    lines = [line for path in paths for line in path.read_text().splitlines()]
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            profile.add(frames_of(stack), int(count))
    return profile


def render(profile: Profile, top: int) -> Iterator[str]:
    n = max(profile.samples, 1)
    yield f"{profile.samples} samples"
    for title, counter in (
        ("packages, self", profile.self_packages),
        ("packages, total", profile.total_packages),
        ("functions, self", profile.self_functions),
        ("functions, total", profile.total_functions),
    ):
        yield f"-- {title}"
        for name, count in counter.most_common(top):
            yield f"  {100 * count / n:5.1f} %  {name}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.stacks", description=__doc__)
    parser.add_argument("profiles", type=Path, nargs="+")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    print("\n".join(render(read(args.profiles), args.top)))


if __name__ == "__main__":
    main()
