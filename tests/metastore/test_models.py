"""The SQLAlchemy models describe the migrated schema exactly (names, nullability, keys)."""

from __future__ import annotations

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from sqlgate.metastore import models
from tests.metastore.catalog import read_catalog


async def test_every_table_and_column_is_modelled(metadata_url: str) -> None:
    catalog = await read_catalog(metadata_url)
    modelled = {f"{t.schema}.{t.name}": t for t in models.Base.metadata.tables.values()}
    assert set(modelled) == catalog.tables - {"public.sqlgate_alembic_version"}
    for name, table in modelled.items():
        db_columns = catalog.columns[name]
        assert {c.name for c in table.columns} == set(db_columns), name
        for column in table.columns:
            assert column.nullable == (db_columns[column.name][1] == "YES"), f"{name}.{column.name}"
            assert (column.server_default is not None) == (db_columns[column.name][2] is not None), (
                f"{name}.{column.name}"
            )


async def test_foreign_keys_are_modelled(metadata_url: str) -> None:
    catalog = await read_catalog(metadata_url)
    in_db = {(t, cols[0], ref, ref_cols[0]) for t, cols, ref, ref_cols, _, _ in catalog.foreign_keys}
    in_models = {
        (
            f"{t.schema}.{t.name}",
            fk.parent.name,
            f"{fk.column.table.schema}.{fk.column.table.name}",
            fk.column.name,
        )
        for t in models.Base.metadata.tables.values()
        for fk in t.foreign_keys
    }
    assert in_models == in_db


async def test_orm_round_trip(metadata_engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(metadata_engine, expire_on_commit=False)
    async with sessions() as session, session.begin():
        user = models.User(display_name="Ann")
        session.add(user)
        await session.flush()
        session.add(models.Account(user_id=user.id, email="Ann@Example.com"))
        team = models.Team(name="t", user_id=user.id)
        session.add(team)
        await session.flush()
        ds = models.Datasource(
            user_id=user.id, team_id=team.id, name="pg", db_type="POSTGRES", db_params={"a": 1}
        )
        session.add(ds)
        await session.flush()
        session.add(models.SqlCredential(datasource_id=ds.id, user_id=user.id, username="u1", password="p"))
    async with sessions() as session:
        account = (
            await session.execute(select(models.Account).where(models.Account.email == "ann@example.com"))
        ).scalar_one()
        assert account.user_id == user.id
        credential = (await session.execute(select(models.SqlCredential))).scalar_one()
        assert credential.username == "u1"
        assert "scram_verifier" not in credential.__dict__  # deferred: not read unless asked for
        assert inspect(credential).unloaded >= {"scram_verifier"}
        stored = (await session.execute(select(models.Datasource))).scalar_one()
        assert stored.db_params == {"a": 1}
        assert stored.created_at.tzinfo is not None
