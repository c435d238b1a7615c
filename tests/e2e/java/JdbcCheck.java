// Drives pgjdbc against a running gateway and prints one "check=value" line per check.
// Run: java -cp postgresql.jar JdbcCheck.java <jdbc-url> <user> <password>
import java.sql.*;
import java.time.OffsetDateTime;

public class JdbcCheck {
    public static void main(String[] args) throws Exception {
        try (Connection conn = DriverManager.getConnection(args[0], args[1], args[2])) {
            DatabaseMetaData meta = conn.getMetaData();
            System.out.println("major=" + meta.getDatabaseMajorVersion());
            System.out.println("product=" + meta.getDatabaseProductName());
            try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT 1 AS one")) {
                rs.next();
                System.out.println("select1=" + rs.getInt("one"));
            }
            long sum = 0;
            try (PreparedStatement ps = conn.prepareStatement("SELECT ?::int8 * 2 AS doubled")) {
                for (int i = 1; i <= 8; i++) {  // past prepareThreshold: named statements, binary results
                    ps.setLong(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        sum += rs.getLong(1);
                    }
                }
            }
            System.out.println("prepared_sum=" + sum);
            System.out.println("isolation=" + conn.getTransactionIsolation());
            conn.setAutoCommit(false);
            int rows = 0;
            try (Statement st = conn.createStatement()) {
                st.setFetchSize(10);  // portal with a row limit, resumed after each Sync
                try (ResultSet rs = st.executeQuery("SELECT n FROM numbers LIMIT 35")) {
                    while (rs.next()) rows++;
                }
            }
            conn.commit();
            conn.setAutoCommit(true);
            System.out.println("fetched=" + rows);
            try (Statement st = conn.createStatement()) {
                st.executeQuery("SELECT 1/0");
            } catch (SQLException e) {
                System.out.println("error=" + e.getSQLState());
            }
            try (Statement st = conn.createStatement()) {
                st.setQueryTimeout(1);
                st.executeQuery("SELECT pg_sleep(20)");
            } catch (SQLException e) {
                System.out.println("timeout=" + e.getSQLState());
            }
            try (Statement st = conn.createStatement();
                 ResultSet rs = st.executeQuery("SELECT '2024-01-01 10:00:00+00'::timestamptz AS t, 'x'::text AS s")) {
                rs.next();
                System.out.println("timestamptz=" + rs.getObject("t", OffsetDateTime.class).toInstant());
                System.out.println("text=" + rs.getString("s"));
            }
            System.out.println("done=true");
        }
    }
}
