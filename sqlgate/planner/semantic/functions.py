"""Which SQL functions, casts and constructs a semantic query may use.

Everything a client writes around cube members is regenerated as datasource SQL, so it is checked
against an allowlist: ordinary scalar, aggregate and window functions are fine; anything that reads
files, the network, the catalog or session state (``pg_read_file``, ``dblink``, ``set_config``,
``current_user``, ``version()`` …) or that sqlglot does not know is refused with 0A000.
"""

from __future__ import annotations

from sqlglot import exp

from sqlgate.errors import FEATURE_NOT_SUPPORTED, PgError
from sqlgate.planner.semantic.dialects import mark_client_cast


def _classes(*names: str) -> tuple[type[exp.Expression], ...]:
    return tuple(getattr(exp, n) for n in names if hasattr(exp, n))


SCALAR_FUNCTIONS = _classes(
    # text
    "Upper",
    "Lower",
    "Length",
    "Substring",
    "Trim",
    "Concat",
    "ConcatWs",
    "Left",
    "Right",
    "Pad",
    "Replace",
    "StrPosition",
    "Initcap",
    "Reverse",
    "Repeat",
    "SplitPart",
    "StartsWith",
    "EndsWith",
    "RegexpLike",
    "RegexpReplace",
    "RegexpExtract",
    "Translate",
    "Chr",
    "Ascii",
    "MD5",
    # numbers
    "Abs",
    "Ceil",
    "Floor",
    "Round",
    "Trunc",
    "Sqrt",
    "Cbrt",
    "Exp",
    "Ln",
    "Log",
    "Pow",
    "Sign",
    "Mod",
    "Greatest",
    "Least",
    "Degrees",
    "Radians",
    "Pi",
    "SafeDivide",
    "ToNumber",
    # conditionals
    "Coalesce",
    "Nullif",
    "If",
    "Nvl2",
    # dates and times
    "DateTrunc",
    "TimestampTrunc",
    "DatetimeTrunc",
    "Extract",
    "DateAdd",
    "DateSub",
    "DateDiff",
    "TimestampAdd",
    "TimestampDiff",
    "CurrentDate",
    "CurrentTimestamp",
    "StrToTime",
    "StrToDate",
    "TimeToStr",
    "ToChar",
    "Date",
    "Year",
    "Month",
    "Day",
    "Quarter",
    "Week",
    "DayOfWeek",
    "DayOfMonth",
    "DayOfYear",
    "WeekOfYear",
    "Hour",
    "Minute",
    "Second",
    "LastDay",
    "TimeStrToTime",
    "TsOrDsToDate",
    "TsOrDsToTimestamp",
    "DateFromParts",
)
AGGREGATE_FUNCTIONS = _classes(
    "Count",
    "Sum",
    "Avg",
    "Min",
    "Max",
    "GroupConcat",
    "Stddev",
    "StddevPop",
    "StddevSamp",
    "Variance",
    "VariancePop",
    "Median",
    "ApproxDistinct",
    "LogicalAnd",
    "LogicalOr",
    "CountIf",
    "AnyValue",
    "Corr",
    "CovarPop",
    "CovarSamp",
    "PercentileCont",
    "PercentileDisc",
    "ArrayAgg",
)
WINDOW_FUNCTIONS = _classes(
    "RowNumber",
    "Rank",
    "DenseRank",
    "PercentRank",
    "CumeDist",
    "Ntile",
    "Lag",
    "Lead",
    "FirstValue",
    "LastValue",
    "NthValue",
)
ALLOWED_FUNCTIONS = SCALAR_FUNCTIONS + AGGREGATE_FUNCTIONS + WINDOW_FUNCTIONS

# Aggregates whose result does not change when the rows they read are duplicated by a join.
DUPLICATE_INSENSITIVE = _classes("Min", "Max", "ApproxDistinct", "LogicalAnd", "LogicalOr", "AnyValue")

CAST_TYPES = frozenset(
    {
        exp.DataType.Type.BIGINT,
        exp.DataType.Type.INT,
        exp.DataType.Type.SMALLINT,
        exp.DataType.Type.TINYINT,
        exp.DataType.Type.DECIMAL,
        exp.DataType.Type.DOUBLE,
        exp.DataType.Type.FLOAT,
        exp.DataType.Type.TEXT,
        exp.DataType.Type.VARCHAR,
        exp.DataType.Type.CHAR,
        exp.DataType.Type.BOOLEAN,
        exp.DataType.Type.DATE,
        exp.DataType.Type.TIMESTAMP,
        exp.DataType.Type.TIMESTAMPTZ,
        exp.DataType.Type.INTERVAL,
    }
)

_FRIENDLY_NAMES = {
    "TimestampTrunc": "date_trunc",
    "DateTrunc": "date_trunc",
    "GroupConcat": "string_agg",
    "StrPosition": "strpos",
    "TimeToStr": "to_char",
    "StrToTime": "to_timestamp",
    "CurrentUser": "current_user",
    "CurrentVersion": "version",
    "CurrentSchema": "current_schema",
    "SessionUser": "session_user",
    "LogicalAnd": "bool_and",
    "LogicalOr": "bool_or",
    "Pad": "lpad",
    "PercentileCont": "percentile_cont",
    "PercentileDisc": "percentile_disc",
    "RegexpLike": "?column?",
}


def function_name(node: exp.Expression) -> str:
    """How a client would name the function ``node`` calls (``upper``, ``date_trunc`` …)."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    friendly = _FRIENDLY_NAMES.get(type(node).__name__)
    if friendly:
        return friendly
    try:
        return node.sql_name().lower()
    except Exception:
        return node.key.lower()


def check_function(node: exp.Expression) -> None:
    """0A000 unless ``node`` (a function call) is on the allowlist."""
    if isinstance(node, exp.Anonymous) or (
        isinstance(node, exp.Func) and not isinstance(node, ALLOWED_FUNCTIONS)
    ):
        raise PgError(
            FEATURE_NOT_SUPPORTED, f"function {function_name(node)}() is not supported in semantic queries"
        )


def check_cast(node: exp.Cast) -> None:
    """0A000 for casts to types outside the plain scalar ones (regclass, json, arrays …)."""
    to = node.args.get("to")
    if (
        not isinstance(to, exp.DataType)
        or to.this not in CAST_TYPES
        or (
            to.expressions
            and to.this
            not in (
                exp.DataType.Type.DECIMAL,
                exp.DataType.Type.VARCHAR,
                exp.DataType.Type.CHAR,
            )
        )
    ):
        shown = to.sql("postgres") if isinstance(to, exp.Expression) else "?"
        raise PgError(FEATURE_NOT_SUPPORTED, f"cast to {shown} is not supported in semantic queries")


# Nodes that may appear in a semantic query's expressions, besides allowed functions.
ALLOWED_NODES = _classes(
    "Column",
    "Identifier",
    "Literal",
    "Boolean",
    "Null",
    "Star",
    "Paren",
    "Alias",
    "Neg",
    "Not",
    "And",
    "Or",
    "Xor",
    "EQ",
    "NEQ",
    "GT",
    "GTE",
    "LT",
    "LTE",
    "NullSafeEQ",
    "NullSafeNEQ",
    "Is",
    "In",
    "Between",
    "Like",
    "ILike",
    "SimilarTo",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "IntDiv",
    "Mod",
    "DPipe",
    "Case",
    "If",
    "Cast",
    "TryCast",
    "Distinct",
    "Interval",
    "Var",
    "DataType",
    "DataTypeParam",
    "Parameter",
    "Placeholder",
    "Window",
    "Ordered",
    "WindowSpec",
    "Order",
    "Subquery",
    "Exists",
    "Tuple",
    "WeekStart",
    "Bracket",
    "Dot",
    "BitwiseAnd",
    "BitwiseOr",
    "BitwiseXor",
    "BitwiseNot",
    "Any",
    "All",
    "Escape",
    "WithinGroup",
    "Filter",
    "Where",
    "RegexpILike",
)


def check_node(node: exp.Expression) -> None:
    """0A000 unless ``node`` may appear in a semantic query's expressions."""
    if isinstance(node, exp.Cast | exp.TryCast):
        check_cast(node)
        mark_client_cast(node)
    elif isinstance(node, exp.Anonymous):
        check_function(node)
    elif isinstance(node, ALLOWED_NODES):
        return
    elif isinstance(node, exp.Func):
        check_function(node)
    else:
        raise PgError(FEATURE_NOT_SUPPORTED, f"{node.key.upper()} is not supported in semantic queries")
