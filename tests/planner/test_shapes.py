"""Statement shapes: literals found without parsing, and plans reused by shape without a parse."""

from __future__ import annotations

import pytest

from sqlgate.errors import PgError
from sqlgate.planner import lexer
from sqlgate.planner.semantic import PlanCache, plan_statement
from sqlgate.planner.semantic import plan as plan_module
from sqlgate.planner.shapes import NUMBER_MARK, STRING_MARK, shape_of
from tests.support.semantic_harness import fixture_model


def test_shape_replaces_strings_and_numbers_but_not_identifiers_or_parameters() -> None:
    shape = shape_of("""SELECT "c0", x1 FROM t WHERE a = 'it''s' AND b IN (1, 2.5, .5e3) AND c = $1""")
    assert shape is not None
    assert shape.key == (
        f"""SELECT "c0", x1 FROM t WHERE a = {STRING_MARK} AND b IN ({NUMBER_MARK}, {NUMBER_MARK}, """
        f"""{NUMBER_MARK}) AND c = $1"""
    )
    assert list(shape.literals) == [
        ("it's", True),
        ("1", False),
        ("2.5", False),
        (".5e3", False),
    ]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1 -- comment",
        "SELECT /* c */ 1",
        "SELECT E'a\\nb'",
        "SELECT x'1f'",
        "SELECT $$a$$",
        "SELECT U&'d\\0061t'",
    ],
)
def test_texts_with_unmodelled_syntax_have_no_shape(sql: str) -> None:
    assert shape_of(sql) is None


def test_split_without_tokenizing_agrees_with_the_tokenizer() -> None:
    for sql in ["SELECT 1", " SELECT 1 ; ", "", ";", "SELECT 'a;b'", "SELECT 1; SELECT 2", "-- x",
                "SELECT 'abc;", "SELECT 1 -- c;"]:  # fmt: skip
        assert lexer.split_statements(sql) == lexer._split(sql), sql


def _plan(sql: str, cache: PlanCache):
    return plan_statement(None, sql, fixture_model(), dialect="postgres", paramstyle="numeric", cache=cache)


def test_a_known_shape_is_planned_without_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = PlanCache()
    first, lifted = _plan("SELECT status, MEASURE(count) FROM orders WHERE status = 'a' AND id IN (1, 2) "
                          "GROUP BY 1 LIMIT 10", cache)  # fmt: skip
    assert [v.value for v in lifted] == ["a", 1, 2]
    assert (cache.hits, cache.misses) == (0, 1)

    def no_parse(sql: str) -> None:
        raise AssertionError("parsed although the shape is cached")

    monkeypatch.setattr(plan_module, "parse_statement", no_parse)
    again, lifted = _plan("SELECT status, MEASURE(count) FROM orders WHERE status = 'it''s' AND id IN (7, 8) "
                          "GROUP BY 1 LIMIT 10", cache)  # fmt: skip
    assert again is first
    assert [v.value for v in lifted] == ["it's", 7, 8]
    assert (cache.hits, cache.misses) == (1, 1)
    # LIMIT 10 is no lifted value: another limit is another plan, which needs the parser.
    with pytest.raises(AssertionError, match="parsed"):
        _plan("SELECT status, MEASURE(count) FROM orders WHERE status = 'b' AND id IN (7, 8) "
              "GROUP BY 1 LIMIT 11", cache)  # fmt: skip


def test_a_negative_number_is_not_learnt_as_a_shape_literal() -> None:
    cache = PlanCache()
    _, lifted = _plan("SELECT MEASURE(count) FROM orders WHERE id = -5", cache)
    _, again = _plan("SELECT MEASURE(count) FROM orders WHERE id = -6", cache)
    assert [v.value for v in lifted] == [-5] and [v.value for v in again] == [-6]


def test_a_statement_that_does_not_parse_fails_with_42601() -> None:
    with pytest.raises(PgError) as info:
        _plan("SELECT FROM WHERE orders", PlanCache())
    assert info.value.sqlstate == "42601"


def test_a_repeated_text_converts_its_literals_once(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = PlanCache()
    sql = "SELECT status, MEASURE(count) FROM orders WHERE id IN (1, 2, 3) GROUP BY 1"
    plan, lifted = _plan(sql, cache)
    first = plan_module.convert_lifted(plan, lifted)
    assert sorted(first.values()) == [1, 2, 3]
    calls: list[object] = []
    monkeypatch.setattr(plan_module, "convert", lambda value, oid: calls.append(value) or value)
    again_plan, again_lifted = _plan(sql, cache)
    assert again_plan is plan and plan_module.convert_lifted(again_plan, again_lifted) is first
    assert calls == []  # the exact-text hit reused the converted values
    other_plan, other_lifted = _plan(sql.replace("(1, 2, 3)", "(4, 5, 6)"), cache)
    assert sorted(plan_module.convert_lifted(other_plan, other_lifted).values()) == [4, 5, 6]
    assert len(calls) == 3  # another text of the shape: converted afresh (by the stub here)
