"""Loading Cube-style YAML models: what compiles, and how problems are reported."""

from __future__ import annotations

import textwrap

import pytest

from sqlgate.semantic import ModelError, compile_model, validate_files
from tests.support.semantic_harness import model_files


def yml(text: str) -> str:
    return textwrap.dedent(text).lstrip()


ORDERS = yml(
    """
    cubes:
      - name: Orders
        sql_table: public.orders
        measures:
          - name: count
            type: count
          - name: total
            type: sum
            sql: amount
        dimensions:
          - name: id
            sql: id
            type: number
            primary_key: true
          - name: status
            sql: status
            type: string
    """
)


def error_of(files: list[tuple[str, str]]) -> ModelError:
    with pytest.raises(ModelError) as caught:
        compile_model(files)
    return caught.value


def test_fixture_models_compile() -> None:
    model = compile_model(model_files())
    names = [r.name for r in model.relations()]
    assert sorted(names) == [
        "completed_orders",
        "line_items",
        "order_facts",
        "orders",
        "product_orders",
        "products",
        "users",
    ]
    assert names[-2:] == ["order_facts", "product_orders"]  # cubes first, then views
    assert model.warnings == []


def test_lookup_is_case_insensitive_unless_quoted() -> None:
    model = compile_model([("Orders.yml", ORDERS)])
    assert model.relation("orders") is model.relation("ORDERS") is model.cubes["Orders"]
    assert model.relation("Orders", quoted=True) is model.cubes["Orders"]
    assert model.relation("orders", quoted=True) is None
    orders = model.cubes["Orders"]
    assert orders.lookup("STATUS") is orders.dimensions["status"]
    assert orders.lookup("Status", quoted=True) is None
    assert [m.name for m in orders.members()] == ["count", "total", "id", "status"]


def test_camel_case_keys_mean_the_same_as_snake_case() -> None:
    camel = ORDERS.replace("sql_table", "sqlTable").replace("primary_key", "primaryKey")
    model = compile_model([("Orders.yml", camel)])
    cube = model.cubes["Orders"]
    assert cube.sql_table == "public.orders"
    assert [d.name for d in cube.primary_keys] == ["id"]


def test_unknown_measure_type_names_file_line_and_member() -> None:
    error = error_of([("Orders.yml", ORDERS.replace("type: sum", "type: summ"))])
    assert error.file == "Orders.yml"
    assert error.member == "measure 'total'"
    assert error.line == 8  # the line of `type: summ`
    assert "unknown type 'summ'" in str(error)
    assert str(error).startswith("Orders.yml:8: cube 'Orders': measure 'total': unknown type 'summ'")


def test_js_models_are_refused_by_name() -> None:
    error = error_of([("Orders.js", "cube(`Orders`, {})")])
    assert error.file == "Orders.js"
    assert "JS models are not supported yet" in str(error)


def test_rolling_window_is_not_supported() -> None:
    text = ORDERS.replace(
        "        sql: amount\n",
        "        sql: amount\n        rolling_window:\n          trailing: 7 day\n",
    )
    error = error_of([("Orders.yml", text)])
    assert "rolling_window is not supported" in str(error)
    assert error.member == "measure 'total'"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("sql_table: public.orders", "title: no table"), "needs 'sql_table' or 'sql'"),
        (("sql_table: public.orders", "sql_table: o\n    sql: SELECT 1"), "either 'sql_table' or 'sql'"),
        (("sql: amount", "sql: '{amountt}'"), "unknown member or cube {amountt}"),
        (("sql: amount", "sql: '{Users.name}'"), "unknown cube 'Users'"),
        (("type: string", "type: geo"), "type 'geo' is not supported"),
        (("sql: status", "sql: '{{ status }}'"), "Jinja templates are not supported"),
        (("- name: total", "- name: 1total"), "invalid measure name '1total'"),
        (("- name: status", "- name: total"), "duplicate member name"),
        (("- name: total", "- name: __user"), "reserved name"),
    ],
)
def test_invalid_definitions(change: tuple[str, str], message: str) -> None:
    error = error_of([("Orders.yml", ORDERS.replace(*change))])
    assert message in str(error)
    assert error.file == "Orders.yml"


def test_invalid_yaml_reports_the_line() -> None:
    error = error_of([("Broken.yml", "cubes:\n  - name: a\n    sql: [unclosed\n")])
    assert error.file == "Broken.yml"
    assert error.line is not None and error.line >= 3
    assert "invalid YAML" in str(error)


def test_circular_references_are_found() -> None:
    text = ORDERS.replace(
        "      - name: status\n        sql: status",
        "      - name: status\n        sql: '{label}'\n        type: string\n"
        "      - name: label\n        sql: '{status}'",
    )
    error = error_of([("Orders.yml", text)])
    assert "circular reference" in str(error)


def test_joins_are_checked() -> None:
    bad_target = (
        ORDERS + "    joins:\n      - name: Nowhere\n        relationship: many_to_one\n        sql: 1 = 1\n"
    )
    assert "joins unknown cube 'Nowhere'" in str(error_of([("Orders.yml", bad_target)]))
    bad_rel = (
        ORDERS + "    joins:\n      - name: Orders\n        relationship: many_to_many\n        sql: 1 = 1\n"
    )
    assert "unknown relationship 'many_to_many'" in str(error_of([("Orders.yml", bad_rel)]))


def test_relationship_spellings() -> None:
    extra = yml(
        """
        cubes:
          - name: A
            sql_table: a
            joins:
              - {name: B, relationship: belongsTo, sql: "{CUBE}.b_id = {B}.id"}
              - {name: C, relationship: hasMany, sql: "{CUBE}.id = {C}.a_id"}
              - {name: D, relationship: has_one, sql: "{CUBE}.id = {D}.a_id"}
            dimensions: [{name: id, sql: id, type: number, primary_key: true}]
          - {name: B, sql_table: b, dimensions: [{name: id, sql: id, type: number}]}
          - {name: C, sql_table: c, dimensions: [{name: id, sql: id, type: number}]}
          - {name: D, sql_table: d, dimensions: [{name: id, sql: id, type: number}]}
        """
    )
    model = compile_model([("a.yml", extra)])
    joins = model.cubes["A"].joins
    assert [joins[t].relationship for t in ("B", "C", "D")] == ["many_to_one", "one_to_many", "one_to_one"]
    assert [j.target for j in model.join_graph.path("A", "C") or ()] == ["C"]
    assert model.join_graph.path("B", "A") is None  # joins are followed in declared direction


def test_duplicate_names_across_files_ignore_case() -> None:
    error = error_of([("Orders.yml", ORDERS), ("Again.yml", ORDERS.replace("name: Orders", "name: ORDERS"))])
    assert error.file == "Again.yml"
    assert "duplicate name" in str(error)


def test_non_public_cubes_and_members_are_hidden_but_usable() -> None:
    text = ORDERS.replace("    sql_table: public.orders", "    sql_table: public.orders\n    public: false")
    text = text.replace("        sql: amount", "        sql: amount\n        shown: false")
    model = compile_model([("Orders.yml", text)])
    assert model.relation("orders") is None
    assert model.cube("Orders").lookup("total") is None
    assert model.cube("Orders").lookup("total", public_only=False) is not None


def test_views_include_prefix_alias_and_exclude() -> None:
    model = compile_model(model_files())
    view = model.views["order_facts"]
    names = [m.name for m in view.members()]
    assert names == [
        "count",
        "total_discount",
        "completed_share",
        "revenue",
        "units",
        "status",
        "created_at",
        "users_city",
        "users_country",
        "vip_customer",
        "products_category",
    ]
    city = view.dimensions["users_city"]
    assert city.origin is not None
    assert (city.origin.cube, city.origin.member, city.origin.path) == ("users", "city", ("orders", "users"))
    assert view.root == "orders"


def test_view_errors() -> None:
    base = model_files()
    bad_path = yml(
        """
        views:
          - name: broken
            cubes:
              - join_path: users.products
                includes: "*"
        """
    )
    assert "cube 'users' has no join to 'products'" in str(error_of([*base, ("broken.yml", bad_path)]))
    bad_member = bad_path.replace("users.products", "orders").replace('"*"', "[nope]")
    assert "includes unknown member 'nope'" in str(error_of([*base, ("broken.yml", bad_member)]))
    clash = yml(
        """
        views:
          - name: clash
            cubes:
              - join_path: orders
                includes: [count]
              - join_path: orders.users
                includes: [count]
        """
    )
    assert "duplicate member name" in str(error_of([*base, ("clash.yml", clash)]))
    excluded = clash.replace("includes: [count]\n", 'includes: "*"\n        excludes: [count, nope]\n', 1)
    assert "excludes unknown member 'nope'" in str(error_of([*base, ("clash.yml", excluded)]))


def test_validate_files_reports_every_problem_and_warnings() -> None:
    text = ORDERS.replace("type: sum", "type: summ").replace("type: string", "type: strng")
    text = text.replace("    sql_table: public.orders", "    sql_table: public.orders\n    colour: blue")
    result = validate_files([("Orders.yml", text), ("README.md", "# notes")])
    assert not result.ok
    assert len(result.errors) == 2
    assert any("unknown key 'colour'" in w for w in result.warnings)
    assert any("README.md" in w for w in result.warnings)
    assert result.cubes == ["Orders"]


def test_several_problems_are_all_kept() -> None:
    text = ORDERS.replace("type: sum", "type: summ").replace("type: string", "type: strng")
    error = error_of([("Orders.yml", text)])
    assert len(error.errors) == 2  # type: ignore[attr-defined]
    assert "and 1 more problem" in str(error)


def test_validate_files_can_parse_sql_for_the_datasource_dialect() -> None:
    text = ORDERS.replace("        sql: amount", "        sql: amount +* 2").replace(
        "      - name: count\n        type: count",
        "      - name: count\n        type: count\n"
        "      - name: ratio\n        type: number\n        sql: amount",
    )
    assert validate_files([("Orders.yml", text)]).ok  # without a dialect only references are checked
    result = validate_files([("Orders.yml", text)], dialect="postgres")
    messages = [str(e) for e in result.errors]
    assert any("measure 'total'" in m and "invalid SQL for postgres" in m for m in messages), messages
    assert any("measure 'ratio'" in m and "must aggregate" in m for m in messages), messages
    assert validate_files(model_files(), dialect="mysql").ok
