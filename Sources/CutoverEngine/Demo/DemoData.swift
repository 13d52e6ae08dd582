import CutoverCore
import CutoverSQLite
import Foundation

/// Deterministic sample tables for `cutover demo`: the same bytes on every machine and run.
public enum DemoData {
    public static let tables = ["call_center", "sample_data", "daily_metrics", "metadata_config_table_elt"]

    /// Creates (replacing) the sample database at `path`.
    public static func generate(at path: String) throws {
        try? FileManager.default.removeItem(atPath: path)  // a fresh demo file; none there is fine
        let session = try SQLiteSession(path: path, create: true)
        try session.executeScript(schema)
        var random = SeededRandom(seed: 20_261_123)
        try session.executeScript("BEGIN")
        try insert(session, "call_center", columns: 31, rows: callCenterRows(&random))
        try insert(session, "sample_data", columns: 10, rows: sampleDataRows(&random))
        try insert(session, "daily_metrics", columns: 5, rows: dailyMetricRows(&random))
        try insert(session, "metadata_config_table_elt", columns: 15, rows: configRows())
        try session.executeScript("COMMIT")
    }

    static let schema = """
        CREATE TABLE call_center (
            cc_call_center_sk INTEGER NOT NULL PRIMARY KEY,
            cc_call_center_id CHAR(16) NOT NULL,
            cc_rec_start_date DATE,
            cc_rec_end_date DATE,
            cc_closed_date_sk INTEGER,
            cc_open_date_sk INTEGER,
            cc_name VARCHAR(50),
            cc_class VARCHAR(50),
            cc_employees INTEGER,
            cc_sq_ft INTEGER,
            cc_hours CHAR(20),
            cc_manager VARCHAR(40),
            cc_mkt_id INTEGER,
            cc_mkt_class CHAR(50),
            cc_mkt_desc VARCHAR(100),
            cc_market_manager VARCHAR(40),
            cc_division INTEGER,
            cc_division_name VARCHAR(50),
            cc_company INTEGER,
            cc_company_name CHAR(50),
            cc_street_number CHAR(10),
            cc_street_name VARCHAR(60),
            cc_street_type CHAR(15),
            cc_suite_number CHAR(10),
            cc_city VARCHAR(60),
            cc_county VARCHAR(30),
            cc_state CHAR(2),
            cc_zip CHAR(10),
            cc_country VARCHAR(20),
            cc_gmt_offset DECIMAL(5,2),
            cc_tax_percentage DECIMAL(5,2)
        );
        CREATE TABLE sample_data (
            id INTEGER PRIMARY KEY,
            name VARCHAR(100) NOT NULL,
            category TEXT,
            amount NUMERIC(12,2),
            ratio REAL,
            is_active BOOLEAN,
            created_at TIMESTAMP,
            event_date DATE,
            notes TEXT,
            attributes JSON_TEXT
        );
        CREATE TABLE daily_metrics (
            metric_date DATE NOT NULL,
            metric_name VARCHAR(50) NOT NULL,
            metric_value NUMERIC(18,4),
            sample_count INTEGER,
            is_estimated BOOLEAN NOT NULL DEFAULT 0,
            PRIMARY KEY (metric_date, metric_name)
        );
        CREATE INDEX daily_metrics_name ON daily_metrics (metric_name, metric_date);
        CREATE TABLE metadata_config_table_elt (
            config_id INTEGER PRIMARY KEY,
            source_system VARCHAR(30) NOT NULL,
            source_schema VARCHAR(60) NOT NULL,
            source_table VARCHAR(120) NOT NULL,
            target_database VARCHAR(60) NOT NULL,
            target_schema VARCHAR(60) NOT NULL,
            target_table VARCHAR(120) NOT NULL,
            load_type VARCHAR(12) NOT NULL,
            watermark_column VARCHAR(60),
            chunk_size INTEGER NOT NULL,
            parallelism INTEGER NOT NULL,
            is_active BOOLEAN NOT NULL,
            environment VARCHAR(8) NOT NULL,
            last_loaded_at TIMESTAMP,
            created_at TIMESTAMP NOT NULL,
            UNIQUE (source_system, source_schema, source_table, environment)
        );
        """

    private static func insert(_ session: SQLiteSession, _ table: String, columns: Int, rows: [[Value]]) throws {
        let statement = try session.prepare("INSERT INTO \(table) VALUES (" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")")
        for row in rows {
            try statement.bind(row)
            _ = try statement.step()
            statement.reset()
        }
    }

    static func date(_ days: Int) -> String {
        let (y, m, d) = Timestamp.civilFromDays(days)
        return String(format: "%04d-%02d-%02d", y, m, d)
    }

    static func callCenterRows(_ random: inout SeededRandom) -> [[Value]] {
        let names = ["NY Metro", "Mid Atlantic", "North Midwest", "California", "Pacific Northwest", "Hawaii/Alaska", "Central Midwest", "Southeast"]
        let classes = ["large", "medium", "small"]
        let managers = ["Bob Belcher", "Felipe Perkins", "Mark Hightower", "Larry Mccray", "Gary Colburn", "Jack Little", "Amy Nguyen", "Zoë Ølsen"]
        let cities = [
            ("Midway", "Williamson County", "TN", "31904"), ("Fairview", "Ziebach County", "SD", "35709"),
            ("Oak Grove", "Barrow County", "GA", "38370"), ("Pleasant Hill", "Walker County", "AL", "33604"),
        ]
        let hours = ["8AM-4PM", "8AM-12AM", "8AM-8AM"]
        return (1...30).map { sk -> [Value] in
            let city = cities[sk % cities.count]
            let start = Timestamp.daysFromCivil(1998, 1, 1) + (sk - 1) / 2 * 730
            let hasEnd = sk % 2 == 1 && sk < 29
            return [
                .int(Int64(sk)), .text(String(format: "AAAAAAAA%08X", sk * 7919)), .text(date(start)), hasEnd ? .text(date(start + 729)) : .null,
                sk % 7 == 0 ? .int(Int64(2_451_000 + sk)) : .null, .int(Int64(2_450_800 + random.int(0..<400))),
                .text(names[sk % names.count]), .text(classes[sk % 3]), .int(Int64(random.int(1..<70_000))),
                .int(Int64(random.int(1_000..<1_000_000))),
                .text(hours[sk % 3]), .text(managers[sk % managers.count]), .int(Int64(1 + sk % 6)), .text("More than other authori"),
                .text("Shared others could not count fully dollars. New members ca"), .text(managers[(sk + 3) % managers.count]),
                .int(Int64(1 + sk % 5)), .text(["pri", "anti", "ought", "able", "ese"][sk % 5]), .int(Int64(1 + sk % 6)),
                .text(["pri", "anti", "ought", "able", "ese", "cally"][sk % 6]), .text(String(100 + random.int(0..<900))),
                .text(["Main", "Oak", "Elm", "Cedar", "Lake"][sk % 5] + " " + ["1st", "2nd", "Park"][sk % 3]),
                .text(["Street", "Ave", "Blvd", "Lane"][sk % 4]),
                .text("Suite \(sk * 10)"), .text(city.0), .text(city.1), .text(city.2), .text(city.3), .text("United States"),
                .text(["-5.00", "-6.00", "-8.00", "-10.00"][sk % 4]), .text(String(format: "0.%02d", random.int(0..<13))),
            ]
        }
    }

    static func sampleDataRows(_ random: inout SeededRandom) -> [[Value]] {
        let names = [
            "Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Ünïcödé", "日本語テキスト", "emoji 🚀✨", "O'Brien", "quote \"double\"", "tab\there",
            "line\nbreak", "back\\slash",
        ]
        let categories: [Value] = [.text("retail"), .text("wholesale"), .text("online"), .text(""), .null]
        let notes: [Value] = [.null, .text(""), .text("NULL"), .text("\\N"), .text("plain note"), .text("multi\nline\r\nnote"), .text("  padded  ")]
        let base = Timestamp.daysFromCivil(2024, 1, 1)
        return (1...500).map { id -> [Value] in
            let cents = random.int(-50_000..<10_000_000)
            let amount = String(format: "%@%d.%02d", cents < 0 ? "-" : "", abs(cents) / 100, abs(cents) % 100)
            let seconds = random.int(0..<86_400)
            let micros = id % 3 == 0 ? random.int(0..<1_000_000) : 0
            let created =
                String(format: "%@ %02d:%02d:%02d", date(base + random.int(0..<700)), seconds / 3600, seconds / 60 % 60, seconds % 60)
                + (micros > 0 ? String(format: ".%06d", micros) : "")
            let ratio: Value = id % 50 == 0 ? .null : .double(Double(random.int(0..<1_000_000)) / 7_919.0)
            return [
                .int(Int64(id)), .text("\(names[id % names.count]) \(id)"), categories[id % categories.count],
                id % 40 == 0 ? .null : .text(amount), ratio, id % 13 == 0 ? .null : .int(Int64(id % 2)),
                id % 60 == 0 ? .null : .text(created), .text(date(base + id % 730)), notes[id % notes.count],
                id % 9 == 0 ? .null : .text("{\"score\":\(random.int(0..<100)),\"tags\":[\"t\(id % 5)\",\"x\"],\"nested\":{\"ok\":\(id % 2 == 0)}}"),
            ]
        }
    }

    static let metrics = ["active_users", "revenue_usd", "orders", "conversion_rate", "avg_latency_ms"]

    static func dailyMetricRows(_ random: inout SeededRandom) -> [[Value]] {
        let start = Timestamp.daysFromCivil(2023, 1, 1)
        var rows: [[Value]] = []
        for day in 0..<730 {
            for (index, metric) in metrics.enumerated() {
                let trend = Double(day) * Double(index + 1) * 0.37
                let seasonal = sin(Double(day) / 7.0 * 2 * .pi) * 50
                let value = 1000.0 * Double(index + 1) + trend + seasonal + Double(random.int(0..<10_000)) / 100
                rows.append([
                    .text(date(start + day)), .text(metric), .text(String(format: "%.4f", value)),
                    .int(Int64(random.int(100..<5_000))), .int(day % 97 == 0 ? 1 : 0),
                ])
            }
        }
        return rows
    }

    static func configRows() -> [[Value]] {
        let tables = ["customers", "orders", "order_items", "products", "payments", "shipments"]
        let environments = ["DEV", "PROD"]
        var rows: [[Value]] = []
        var id = 0
        for environment in environments {
            for table in tables {
                id += 1
                let incremental = table == "orders" || table == "payments" || table == "shipments"
                rows.append([
                    .int(Int64(id)), .text("postgres"), .text("public"), .text(table), .text("ANALYTICS_\(environment)"), .text("RAW"),
                    .text(table.uppercased()), .text(incremental ? "INCREMENTAL" : "FULL"), incremental ? .text("updated_at") : .null,
                    .int(incremental ? 50_000 : 100_000), .int(Int64(1 + id % 4)), .int(table == "shipments" && environment == "DEV" ? 0 : 1),
                    .text(environment), id % 5 == 0 ? .null : .text("2024-06-\(String(format: "%02d", 1 + id)) 02:00:00"),
                    .text("2024-01-0\(1 + id % 9) 09:30:00"),
                ])
            }
        }
        return rows
    }
}

/// A tiny deterministic generator (SplitMix64), so the demo data never depends on the platform.
public struct SeededRandom {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func int(_ range: Range<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }
}
