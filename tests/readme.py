"""The README's tour as data: its requests and answers in order, and the shape check.

Conventions (docs/TESTING.md, "The README's tour"): a ```graphql block whose first line
is `# as anyone` or `# as EMAIL`, followed by a ```json answer; a ```bash block with a
curl to the local server followed by a ```json (body) or ```http (status line) answer;
`uv run hom seed-demo` and `printf '%s\\n' 'PASSWORD' | uv run hom create-admin --email
EMAIL --password-stdin` lines in ```bash blocks.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[1] / "README.md"
SERVER = "http://127.0.0.1:8000"
ANYONE = "anyone"

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)
_AS = re.compile(r"^#\s*as\s+(\S+)\s*$")
_CREATE_ADMIN = re.compile(
    r"printf '%s\\n' '(?P<password>[^']+)' \| uv run hom create-admin "
    r"--email (?P<email>\S+) --password-stdin"
)
_OPTIONAL_KEYS = {(): {"extensions"}, ("errors",): {"locations"}}


@dataclass(frozen=True)
class Block:
    info: str
    text: str
    line: int  # of the opening fence, 1-based


@dataclass(frozen=True)
class Curl:
    method: str
    path: str
    form: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """One thing the tour does: a request with its shown answer, or a command."""

    line: int
    kind: str  # "graphql", "curl", "seed-demo", "create-admin"
    sender: str = ANYONE
    query: str = ""
    curl: Curl | None = None
    answer: Any = None
    status: int | None = None  # of an ```http answer
    admin: tuple[str, str] | None = None  # (email, password) of `hom create-admin`

    @property
    def is_subscription(self) -> bool:
        return self.kind == "graphql" and self.query.lstrip().startswith("subscription")


def blocks(text: str) -> list[Block]:
    return [Block(m[1], m[2], text.count("\n", 0, m.start()) + 1) for m in _FENCE.finditer(text)]


def steps(text: str) -> list[Step]:
    """Every step of the document, in order."""
    found: list[Step] = []
    fenced = blocks(text)
    for index, block in enumerate(fenced):
        after = fenced[index + 1] if index + 1 < len(fenced) else None
        answered = after is not None and after.info in ("json", "http")
        if block.info == "graphql" and answered:
            assert after is not None
            found.append(graphql_step(block, after))
        elif block.info == "bash":
            found.extend(bash_steps(block, after if answered else None))
    return found


def graphql_step(block: Block, answer: Block) -> Step:
    first, _, rest = block.text.partition("\n")
    sender = _AS.match(first)
    assert sender, f"README line {block.line}: a tour document starts with `# as WHO`"
    return Step(block.line, "graphql", sender=sender[1], query=rest, answer=parse_answer(answer))


def bash_steps(block: Block, answer: Block | None) -> list[Step]:
    found: list[Step] = []
    for line in block.text.splitlines():
        command = line.split("  #", 1)[0].strip()
        if command.startswith("uv run hom seed-demo"):
            found.append(Step(block.line, "seed-demo"))
        elif admin := _CREATE_ADMIN.search(command):
            found.append(
                Step(block.line, "create-admin", admin=(admin["email"], admin["password"]))
            )
        elif command.startswith("curl ") and answer is not None:
            found.append(curl_step(block, command, answer))
    return found


def curl_step(block: Block, command: str, answer: Block) -> Step:
    status, body = (None, parse_answer(answer)) if answer.info == "json" else http_answer(answer)
    return Step(block.line, "curl", curl=parse_curl(command), answer=body, status=status)


def parse_answer(block: Block) -> Any:
    try:
        return json.loads(block.text)
    except ValueError as error:
        raise AssertionError(f"README line {block.line}: the answer is not JSON: {error}") from None


def http_answer(block: Block) -> tuple[int, Any]:
    head, _, body = block.text.partition("\n\n")
    status = int(head.split()[1])
    return status, json.loads(body) if body.strip() else None


def parse_curl(command: str) -> Curl:
    words = shlex.split(command, posix=True)
    method, url, form, body, headers = "GET", "", {}, None, {}
    i = 1
    while i < len(words):
        word = words[i]
        if word in ("-X", "--request"):
            method, i = words[i + 1], i + 1
        elif word in ("-d", "--data"):
            data, i = words[i + 1], i + 1
            if data.startswith("{"):
                body = json.loads(data)
            else:
                name, _, value = data.partition("=")
                form[name] = value
            method = "POST" if method == "GET" else method
        elif word in ("-H", "--header"):
            name, _, value = words[i + 1].partition(":")
            headers[name.strip()] = value.strip()
            i += 1
        elif word.startswith(SERVER):
            url = word
        i += 1
    assert url.startswith(SERVER), f"not a request to {SERVER}: {command}"
    return Curl(method, url.removeprefix(SERVER) or "/", form, body, headers)


def shape_problems(shown: Any, actual: Any, path: tuple[str, ...] = ()) -> list[str]:
    """How `actual` differs in shape from `shown` (empty: the same shape).

    Same keys (the README may leave out the top-level `extensions` and an error's
    `locations`), same JSON types, null where null is shown, lists empty where `[]` is
    shown and else at least as long, booleans and UPPER_CASE strings equal."""
    where = "/".join(path) or "the answer"
    if shown is None or actual is None:
        return [] if shown is actual else [f"{where}: shown {shown!r}, got {actual!r}"]
    if isinstance(shown, dict):
        return _dict_problems(shown, actual, path)
    if isinstance(shown, list):
        return _list_problems(shown, actual, path)
    if type(shown) is not type(actual):
        return [f"{where}: shown a {type(shown).__name__}, got {actual!r}"]
    fixed = isinstance(shown, bool) or (isinstance(shown, str) and _is_code(shown))
    return [f"{where}: shown {shown!r}, got {actual!r}"] if fixed and shown != actual else []


def _is_code(text: str) -> bool:
    return re.fullmatch(r"[A-Z][A-Z0-9_]+", text) is not None


def _dict_problems(shown: dict[str, Any], actual: Any, path: tuple[str, ...]) -> list[str]:
    where = "/".join(path) or "the answer"
    if not isinstance(actual, dict):
        return [f"{where}: shown an object, got {actual!r}"]
    optional = _OPTIONAL_KEYS.get(tuple(p for p in path if not p.isdigit()), set())
    missing = sorted(set(shown) - set(actual))
    extra = sorted(set(actual) - set(shown) - optional)
    problems = [f"{where}: missing {missing}" for _ in missing[:1]]
    problems += [f"{where}: not shown {extra}" for _ in extra[:1]]
    for key in sorted(set(shown) & set(actual)):
        problems += shape_problems(shown[key], actual[key], (*path, key))
    return problems


def _list_problems(shown: list[Any], actual: Any, path: tuple[str, ...]) -> list[str]:
    where = "/".join(path) or "the answer"
    if not isinstance(actual, list):
        return [f"{where}: shown a list, got {actual!r}"]
    if not shown:
        return [] if not actual else [f"{where}: shown [], got {actual!r}"]
    if len(actual) < len(shown):
        return [f"{where}: shown {len(shown)} items, got {len(actual)}: {actual!r}"]
    problems: list[str] = []
    for index, item in enumerate(actual):
        problems += shape_problems(shown[min(index, len(shown) - 1)], item, (*path, str(index)))
    return problems
