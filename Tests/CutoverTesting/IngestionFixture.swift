import CutoverCore
import Foundation

/// Ingestion metadata in the demo's shape (plus a frequency) with a load history, as portable SQL
/// that SQLite, PostgreSQL and Snowflake all run.
public enum IngestionFixture {
    /// `YYYY-MM-DD HH:MM:SS` UTC, `seconds` ago.
    public static func stamp(_ seconds: Double, from now: Date) -> String {
        String(ISOTime.string(now.addingTimeInterval(-seconds)).replacingOccurrences(of: "T", with: " ").prefix(19))
    }

    /// Five pipelines in the demo's metadata shape (plus a frequency) and their load history:
    /// customers is fresh, orders is 5 h late on an hourly schedule and its last load failed, ledger
    /// loaded 40 rows where it usually loads about 5000, old is switched off, dev is another environment.
    public static func sql(now: Date) -> [String] {
        let h = 3600.0
        var sql = [
            """
            CREATE TABLE metadata_config_table_elt (config_id INTEGER PRIMARY KEY, source_system VARCHAR(30), source_schema VARCHAR(60),
              source_table VARCHAR(120), target_schema VARCHAR(60), target_table VARCHAR(120), frequency VARCHAR(10), is_active BOOLEAN,
              environment VARCHAR(8), last_loaded_at TIMESTAMP)
            """,
            "CREATE TABLE elt_load_history (load_id INTEGER PRIMARY KEY, config_id INTEGER, loaded_at TIMESTAMP, rows_loaded INTEGER, status VARCHAR(10))",
            "INSERT INTO metadata_config_table_elt VALUES (1, 'crm', 'dbo', 'customers', 'raw', 'customers', '1h', TRUE, 'PROD', '\(stamp(1200, from: now))')",
            "INSERT INTO metadata_config_table_elt VALUES (2, 'crm', 'dbo', 'orders', 'raw', 'orders', 'hourly', TRUE, 'PROD', '\(stamp(5 * h, from: now))')",
            "INSERT INTO metadata_config_table_elt VALUES (3, 'erp', 'fin', 'ledger', 'raw', 'ledger', 'daily', TRUE, 'PROD', '\(stamp(2 * h, from: now))')",
            "INSERT INTO metadata_config_table_elt VALUES (4, 'erp', 'fin', 'old', 'raw', 'old', 'daily', FALSE, 'PROD', NULL)",
            "INSERT INTO metadata_config_table_elt VALUES (5, 'erp', 'fin', 'dev', 'raw', 'dev', 'daily', TRUE, 'DEV', NULL)",
        ]
        var id = 0
        func load(_ pipeline: Int, _ secondsAgo: Double, _ rows: Int, _ status: String) {
            id += 1
            sql.append("INSERT INTO elt_load_history VALUES (\(id), \(pipeline), '\(stamp(secondsAgo, from: now))', \(rows), '\(status)')")
        }
        for n in 1...10 {
            load(1, Double(n) * h - 2400, 1000 + n, "success")
            load(3, Double(n) * 24 * h - 2 * h + 3600, 5000 + 3 * n, "success")
        }
        load(3, 1 * h, 40, "success")
        load(2, 5 * h, 700, "success")
        load(2, 1800, 0, "failed")
        load(1, 60 * 24 * h, 1, "success")  // outside the 30-day window: not read
        return sql
    }

}
