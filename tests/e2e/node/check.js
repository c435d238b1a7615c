// Drives node-postgres against a running gateway; prints one JSON object with the results.
// Usage: node check.js <port> <user> <password>
const { Client } = require("pg");
const Cursor = require("pg-cursor");

async function main() {
  const [port, user, password] = process.argv.slice(2);
  const client = new Client({ host: "127.0.0.1", port: Number(port), user, password, database: "db" });
  await client.connect();
  const out = {};
  out.simple = (await client.query("SELECT 1 AS one, 'x' AS s")).rows[0];
  out.params = (await client.query("SELECT $1::int + 1 AS n, $2::text AS t", [41, "hi"])).rows[0];
  out.named = (await client.query({ name: "by-name", text: "SELECT $1::int8 AS v", values: ["9007199254740993"] })).rows[0];
  // pg-cursor: Execute(rows) + Flush, expecting PortalSuspended between reads
  const cursor = client.query(new Cursor("SELECT n FROM numbers LIMIT 7"));
  const pages = [];
  for (;;) {
    const rows = await cursor.read(3);
    if (rows.length === 0) break;
    pages.push(rows.map((r) => r.n));
  }
  await cursor.close();
  out.pages = pages;
  try {
    await client.query("SELECT 1/0");
  } catch (e) {
    out.error = e.code;
  }
  out.after = (await client.query("SELECT 'alive' AS a")).rows[0].a;
  await client.end();
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
