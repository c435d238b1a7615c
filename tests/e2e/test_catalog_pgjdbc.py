"""pgjdbc's DatabaseMetaData over the shadow catalog, and prepared cube/catalog queries past the
prepare threshold (named statements, binary results). The Java program is compiled with javac."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.e2e.conftest import require_program
from tests.support.catalog import CatalogEnv

pytestmark = pytest.mark.e2e

JAR = Path("/usr/share/java/postgresql.jar")
SOURCE = Path(__file__).parent / "java" / "CatalogCheck.java"


async def run(command: list[str], timeout: float = 120) -> str:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode == 0, err.decode() or out.decode()
    return out.decode()


@pytest.fixture(scope="module")
async def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    javac = require_program("javac")
    if not JAR.exists():
        pytest.skip("pgjdbc is not installed (Debian package libpostgresql-jdbc-java)")
    out = tmp_path_factory.mktemp("java")
    await run([javac, "-cp", str(JAR), "-d", str(out), str(SOURCE)])
    return out


def jdbc_url(env: CatalogEnv) -> str:
    return f"jdbc:postgresql://{env.host}:{env.port}/db?sslmode=disable"


async def test_database_metadata_and_prepared_statements(catalog_env: CatalogEnv, compiled: Path) -> None:
    java = require_program("java")
    out = await run(
        [java, "-cp", f"{JAR}:{compiled}", "CatalogCheck", jdbc_url(catalog_env),
         catalog_env.owner.username, catalog_env.owner.password]
    )  # fmt: skip
    checks = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert checks.pop("schemas").split(",") == ["information_schema", "pg_catalog", "public"]
    assert checks.pop("tables") == "line_items:Line items,orders:Orders,products:Products,users:Users"
    columns = checks.pop("columns").split(",")
    assert columns[:4] == [
        "count:int8:-5:NO",
        "total_amount:numeric:2:NO",
        "id:numeric:2:YES",
        "status:text:12:YES",
    ]
    assert columns[4:] == [
        "created_at:timestamp:93:YES", "completed_at:timestamp:93:YES", "amount:numeric:2:YES",
        "user_id:numeric:2:YES", "product_id:numeric:2:YES", "is_completed:bool:-7:YES",
        "__user:text:12:YES", "__cubeJoinField:text:12:YES",
    ]  # fmt: skip
    assert checks == {
        "status_remarks": "Order status",
        "primary_keys": "0",
        "imported_keys": "0",
        "indexes": "0",
        "type_info": "true",
        "cube_prepared": ",".join(["shipped=2/27.25", "new=1/10.5"] * 4),
        "catalog_prepared": ",".join(["orders=12", "users=7"] * 4),
        "result_types": "text,timestamp",
        "first": "new@2024-01-05 10:00:00.0",
        "done": "true",
    }
