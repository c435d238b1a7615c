// Browses the model through pgjdbc's DatabaseMetaData (what DBeaver, DataGrip, Metabase and Tableau do)
// and runs a cube query and a catalog query past prepareThreshold (named statements, binary results).
// Prints one "check=value" line per check.
// Build and run: javac -cp postgresql.jar -d OUT CatalogCheck.java
//                java -cp postgresql.jar:OUT CatalogCheck <jdbc-url> <user> <password> [bench N]
import java.sql.*;
import java.util.ArrayList;
import java.util.List;

public class CatalogCheck {
    static String join(List<String> items) {
        return String.join(",", items);
    }

    static List<String> column(ResultSet rs, String name) throws SQLException {
        List<String> values = new ArrayList<>();
        while (rs.next()) values.add(rs.getString(name));
        rs.close();
        return values;
    }

    public static void main(String[] args) throws Exception {
        try (Connection conn = DriverManager.getConnection(args[0], args[1], args[2])) {
            DatabaseMetaData meta = conn.getMetaData();
            if (args.length > 4 && args[3].equals("bench")) {
                int n = Integer.parseInt(args[4]);
                column(meta.getColumns(null, "public", "orders", "%"), "COLUMN_NAME");  // warm up
                long start = System.nanoTime();
                for (int i = 0; i < n; i++) column(meta.getColumns(null, "public", "orders", "%"), "COLUMN_NAME");
                System.out.println("getcolumns_ms=" + (System.nanoTime() - start) / 1e6 / n);
                return;
            }
            System.out.println("schemas=" + join(column(meta.getSchemas(), "TABLE_SCHEM")));
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = meta.getTables(null, "public", "%", new String[] {"TABLE"})) {
                while (rs.next()) tables.add(rs.getString("TABLE_NAME") + ":" + rs.getString("REMARKS"));
            }
            System.out.println("tables=" + join(tables));
            List<String> columns = new ArrayList<>();
            try (ResultSet rs = meta.getColumns(null, "public", "orders", "%")) {
                while (rs.next()) {
                    columns.add(rs.getString("COLUMN_NAME") + ":" + rs.getString("TYPE_NAME") + ":"
                        + rs.getInt("DATA_TYPE") + ":" + rs.getString("IS_NULLABLE"));
                    if (rs.getString("COLUMN_NAME").equals("status")) {
                        System.out.println("status_remarks=" + rs.getString("REMARKS"));
                    }
                }
            }
            System.out.println("columns=" + join(columns));
            System.out.println("primary_keys=" + column(meta.getPrimaryKeys(null, "public", "orders"), "COLUMN_NAME").size());
            System.out.println("imported_keys=" + column(meta.getImportedKeys(null, "public", "orders"), "FKCOLUMN_NAME").size());
            System.out.println("indexes=" + column(meta.getIndexInfo(null, "public", "orders", false, true), "INDEX_NAME").size());
            System.out.println("type_info=" + (column(meta.getTypeInfo(), "TYPE_NAME").size() > 10));
            // A cube query and a catalog query, each executed 8 times: pgjdbc switches to a named
            // server-side statement and binary results after prepareThreshold (5).
            List<String> counts = new ArrayList<>();
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT status, MEASURE(count) AS n, MEASURE(total_amount) AS total FROM orders WHERE status = ? GROUP BY 1")) {
                for (int i = 0; i < 8; i++) {
                    ps.setString(1, i % 2 == 0 ? "shipped" : "new");
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        counts.add(rs.getString(1) + "=" + rs.getLong(2) + "/" + rs.getBigDecimal(3).stripTrailingZeros().toPlainString());
                    }
                }
            }
            System.out.println("cube_prepared=" + join(counts));
            List<String> natts = new ArrayList<>();
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT c.relname, c.relnatts, c.oid, c.reltuples FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relname = ?")) {
                for (int i = 0; i < 8; i++) {
                    ps.setString(1, i % 2 == 0 ? "orders" : "users");
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        natts.add(rs.getString(1) + "=" + rs.getShort(2) + (rs.getLong(3) > 0 ? "" : "!") + (rs.getFloat(4) == 0.0f ? "" : "?"));
                    }
                }
            }
            System.out.println("catalog_prepared=" + join(natts));
            try (Statement st = conn.createStatement();
                 ResultSet rs = st.executeQuery("SELECT status, created_at FROM orders ORDER BY created_at LIMIT 1")) {
                ResultSetMetaData md = rs.getMetaData();
                System.out.println("result_types=" + md.getColumnTypeName(1) + "," + md.getColumnTypeName(2));
                rs.next();
                System.out.println("first=" + rs.getString(1) + "@" + rs.getTimestamp(2));
            }
            System.out.println("done=true");
        }
    }
}
