// Browses the model with node-postgres and reads a cube and a catalog query with pg-cursor
// (Execute with a row limit + Flush, PortalSuspended between reads). Prints one JSON object.
// Usage: node catalog_check.js <port> <user> <password>
const { Client } = require("pg");
const Cursor = require("pg-cursor");

async function readAll(client, text, values, pageSize) {
  const cursor = client.query(new Cursor(text, values));
  const pages = [];
  for (;;) {
    const rows = await cursor.read(pageSize);
    if (rows.length === 0) break;
    pages.push(rows);
  }
  await cursor.close();
  return pages;
}

async function main() {
  const [port, user, password] = process.argv.slice(2);
  const client = new Client({ host: "127.0.0.1", port: Number(port), user, password, database: "db",
                              application_name: "node-check" });
  await client.connect();
  const out = {};
  out.tables = (await client.query(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1", ["public"]
  )).rows.map((r) => r.table_name);
  out.columns = (await readAll(client,
    "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type FROM pg_catalog.pg_attribute a" +
    " WHERE a.attrelid = $1::regclass AND a.attnum > 0 ORDER BY a.attnum", ["orders"], 5
  )).map((page) => page.map((r) => `${r.attname}:${r.type}`));
  out.cube = (await readAll(client,
    "SELECT id, status FROM orders ORDER BY id", [], 2
  )).map((page) => page.map((r) => `${r.id}:${r.status}`));
  out.app = (await client.query("SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()")).rows;
  await client.end();
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
