"""The README itself: its size, CI's test command, and the shape check the tour relies on."""

from __future__ import annotations

from pathlib import Path

from tests import readme

CI = Path(__file__).resolve().parents[1] / ".ci" / "run"
TEST_COMMAND = "uv run pytest -n 2"
MAX_LINES = 250

SHOWN = {
    "data": {"products": {"edges": [{"node": {"name": "Чайник", "price": {"amount": "9.90"}}}]}},
    "errors": [{"message": "Authentication required", "extensions": {"code": "UNAUTHENTICATED"}}],
}


def answer(**changes: object) -> dict[str, object]:
    node = {"name": "Kettle", "price": {"amount": "12.00"}, **changes}
    return {
        "data": {"products": {"edges": [{"node": node}, {"node": node}]}},
        "errors": [
            {
                "message": "Sign in",
                "locations": [{"line": 1, "column": 3}],
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ],
        "extensions": {"cost": {"requestedQueryCost": 3, "maximumAvailable": 50000}},
    }


def test_the_readme_is_short_and_gives_the_command_ci_runs() -> None:
    text = readme.README.read_text()
    assert len(text.splitlines()) <= MAX_LINES
    assert f"```bash\n{TEST_COMMAND}\n```" in text
    assert CI.read_text().rstrip().endswith(TEST_COMMAND)


def test_an_answer_of_the_same_shape_passes_whatever_its_values() -> None:
    assert readme.shape_problems(SHOWN, answer()) == []


def test_a_field_gone_or_added_or_retyped_is_a_problem() -> None:
    assert readme.shape_problems(SHOWN, answer(name=None))
    assert readme.shape_problems(SHOWN, answer(sku="DEMO-1"))
    assert readme.shape_problems(SHOWN, answer(price="12.00"))
    gone = answer()
    del gone["data"]["products"]["edges"][0]["node"]["price"]  # type: ignore[index]
    assert readme.shape_problems(SHOWN, gone)


def test_codes_and_booleans_must_be_equal_and_lists_as_full_as_shown() -> None:
    other_code = answer()
    other_code["errors"][0]["extensions"]["code"] = "FORBIDDEN"  # type: ignore[index]
    assert readme.shape_problems(SHOWN, other_code)
    assert readme.shape_problems({"ok": True}, {"ok": False})
    assert readme.shape_problems({"errors": []}, {"errors": [{"code": "INVALID"}]})
    assert readme.shape_problems({"items": [1]}, {"items": []})


def test_curl_lines_are_read_as_requests() -> None:
    curl = readme.parse_curl(
        "curl -s -X POST http://127.0.0.1:8000/auth/logout "
        '-H "Authorization: Bearer $ACCESS" -H "X-Refresh-Token: $REFRESH"'
    )
    assert (curl.method, curl.path) == ("POST", "/auth/logout")
    assert curl.headers == {"Authorization": "Bearer $ACCESS", "X-Refresh-Token": "$REFRESH"}
    login = readme.parse_curl("curl -s http://127.0.0.1:8000/auth/login -d username=a@b.c")
    assert (login.method, login.form) == ("POST", {"username": "a@b.c"})
