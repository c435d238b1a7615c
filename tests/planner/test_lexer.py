"""Statement splitting and tokenizing."""

from __future__ import annotations

import pytest

from sqlgate.errors import PgError
from sqlgate.planner.lexer import STRING, first_word, significant_tokens, split_statements


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1; SELECT 2", ["SELECT 1", "SELECT 2"]),
        ("SELECT 1;;; SELECT 2;", ["SELECT 1", "SELECT 2"]),
        ("SELECT ';' AS a; SELECT 'it''s;'", ["SELECT ';' AS a", "SELECT 'it''s;'"]),
        ("SELECT E'a\\';b'; SELECT 2", ["SELECT E'a\\';b'", "SELECT 2"]),
        ("SELECT 'a\\'; SELECT 2", ["SELECT 'a\\'", "SELECT 2"]),
        ("SELECT $$;$$; SELECT $tag$ $$ ; $tag$", ["SELECT $$;$$", "SELECT $tag$ $$ ; $tag$"]),
        ("SELECT $1; SELECT 2", ["SELECT $1", "SELECT 2"]),
        ('SELECT 1 AS ";"; SELECT 2', ['SELECT 1 AS ";"', "SELECT 2"]),
        ("SELECT 1 -- ; comment\n; SELECT 2", ["SELECT 1 -- ; comment", "SELECT 2"]),
        (
            "SELECT /* a /* nested ; */ still ; */ 1; SELECT 2",
            ["SELECT /* a /* nested ; */ still ; */ 1", "SELECT 2"],
        ),
        ("-- only a comment", []),
        ("/* c */ ; ;", []),
        ("", []),
        ("SELECT 'unterminated; SELECT 2", ["SELECT 'unterminated; SELECT 2"]),
    ],
)
def test_split_statements(sql: str, expected: list[str]) -> None:
    assert split_statements(sql) == expected


def test_tokens_unescape_strings() -> None:
    tokens = significant_tokens("SET x = E'a\\nb\\x41', 'it''s', U&'plain'")
    strings = [t.value for t in tokens if t.kind == STRING]
    assert strings == ["a\nbA", "it's", "plain"]


def test_unterminated_string_is_a_syntax_error_when_strict() -> None:
    with pytest.raises(PgError) as info:
        significant_tokens("SET x = 'oops")
    assert info.value.sqlstate == "42601"


def test_first_word_skips_comments() -> None:
    assert first_word("/* hi */ -- x\n  BEGIN") == "begin"
    assert first_word("(SELECT 1)") == ""
