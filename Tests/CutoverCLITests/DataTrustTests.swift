import CutoverCore
import CutoverPostgres
import CutoverSQLite
import CutoverTesting
import Foundation
import Testing

/// Values other projects' type-coverage suites use, moved and compared: each ends in an exact copy
/// or in a failure that names the value — never in "identical" after a change.
@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct DataTrustTests {
    /// A TEXT column holding a BLOB that is not UTF-8 (`b"file\x96name.txt"`) and one that is.
    static let files = """
        CREATE TABLE files (id INTEGER PRIMARY KEY, name TEXT);
        INSERT INTO files VALUES (1, 'plain.txt'), (2, X'66696c65966e616d652e747874'), (3, CAST('ok.txt' AS BLOB));
        """

    @Test func aBlobInATextColumnIsNeverWrittenAsTextNorCertified() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                try CLI.sqliteFile(dir + "/src.db", Self.files)
                let target = TestEnvironment.cliText(pg)
                let migrate = try await CLI.run(["migrate", "--source", "sqlite:src.db", "--target", target], in: dir)
                #expect(migrate.status == 1, "\(migrate.output)")
                #expect(migrate.output.contains("files.name") && migrate.output.contains("BLOB"), "\(migrate.output)")
                #expect(migrate.output.contains("not valid UTF-8"))
                #expect(!migrate.output.contains("identical"))

                // Set aside: the two BLOBs go to the rejects, the text row loads, validation still fails.
                let rejecting = try await CLI.run(
                    ["migrate", "--source", "sqlite:src.db", "--target", target, "--on-error", "reject", "--replace"], in: dir)
                #expect(rejecting.status == 1, "\(rejecting.output)")
                #expect(rejecting.stdout.contains("2 rejected"), "\(rejecting.output)")
                let rows = try await PostgresConnector(url: pg).execute("SELECT count(*) FROM files")
                #expect(rows.rows.first == [.text("1")])

                // A copy where the BLOBs were turned into text (hex, or the same characters): diff names both.
                try await TestEnvironment.psql(pg, #"INSERT INTO files VALUES (2, '\x66696c65966e616d652e747874'), (3, 'ok.txt')"#)
                let diff = try await CLI.run(["diff", "--source", "sqlite:src.db", "--target", target, "--table", "files"], in: dir)
                #expect(diff.status == 1, "\(diff.output)")
                #expect(diff.stdout.contains("id=2") && diff.stdout.contains("id=3"), "\(diff.output)")
                #expect(!diff.stdout.contains("identical"))
                let validate = try await CLI.run(["validate", "--source", "sqlite:src.db", "--target", target], in: dir)
                #expect(validate.status == 1, "\(validate.output)")
            }
        }
    }

    @Test func sqliteToSQLiteKeepsEachStorageClass() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try CLI.sqliteFile(dir + "/src.db", Self.files)
            let migrate = try await CLI.run(["migrate", "--source", "sqlite:src.db", "--target", "sqlite:dst.db"], in: dir)
            #expect(migrate.status == 0, "\(migrate.output)")
            let classes = try SQLiteSession(path: dir + "/dst.db", create: false).execute("SELECT id, typeof(name), hex(name) FROM files ORDER BY id")
            #expect(classes.rows.map { $0[1] } == [.text("text"), .text("blob"), .text("blob")])
            #expect(classes.rows[1][2] == .text("66696C65966E616D652E747874"))
        }
    }

    /// Declared types SQLite never enforced, with values that need more than they declare.
    public static let readings = """
        CREATE TABLE readings (id INTEGER PRIMARY KEY, amount NUMERIC(6,3), qty SMALLINT, ratio INTEGER, taken DATE, seen TIMESTAMP,
                               code VARCHAR(4), n);
        INSERT INTO readings VALUES (1, 0.00188, 5, 2, '2024-01-05', '2024-01-05 10:00:00', 'ab', 1);
        INSERT INTO readings VALUES (2, 12.5, 70000, 2.5, '2024-01-06 08:30:00', '2024-01-05 10:00:00+02:00', 'abcdefg', 2);
        INSERT INTO readings VALUES (3, '123.456', -3, 3, '2024-02-29', 1700000000, 'x', 3);
        INSERT INTO readings VALUES (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        """

    @Test func sqliteValuesGetTypesThatHoldThemAndArriveExactly() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { pg in
                try CLI.sqliteFile(dir + "/src.db", Self.readings)
                let analyze = try await CLI.run(["analyze", "--source", "sqlite:src.db"], in: dir)
                #expect(analyze.status == 0, "\(analyze.output)")
                #expect(analyze.stdout.contains("readings.amount NUMERIC(6,3) → planned as decimal(8,5)"), "\(analyze.stdout)")
                #expect(analyze.stdout.contains("(e.g. 0.00188)"))

                let plan = try await CLI.run(["plan", "--source", "sqlite:src.db", "--target-dialect", "postgres"], in: dir)
                #expect(plan.status == 0, "\(plan.output)")
                #expect(plan.stdout.contains("readings.ratio: INTEGER → numeric(2,1)"), "\(plan.stdout)")

                let target = TestEnvironment.cliText(pg)
                let migrate = try await CLI.run(["migrate", "--source", "sqlite:src.db", "--target", target], in: dir)
                #expect(migrate.status == 0, "\(migrate.output)")
                let rows = try await PostgresConnector(url: pg).execute(
                    "SELECT id, amount::text, qty::text, ratio::text, taken::text, seen::text, code, n::text FROM readings ORDER BY id")
                #expect(
                    rows.rows[0] == [
                        .text("1"), .text("0.00188"), .text("5"), .text("2.0"), .text("2024-01-05 00:00:00"),
                        .text("2024-01-05 10:00:00+00"), .text("ab"), .text("1"),
                    ])
                #expect(
                    rows.rows[1] == [
                        .text("2"), .text("12.50000"), .text("70000"), .text("2.5"), .text("2024-01-06 08:30:00"),
                        .text("2024-01-05 08:00:00+00"), .text("abcdefg"), .text("2"),
                    ])
                #expect(rows.rows[2][1] == .text("123.45600") && rows.rows[2][5] == .text("2023-11-14 22:13:20+00"))

                // Forced back to the declared type, PostgreSQL rounds 0.00188: validation names it.
                try "overrides:\n  columns:\n    readings.amount: numeric(6,3)\n".write(
                    toFile: dir + "/cutover.yml", atomically: true, encoding: .utf8)
                let forced = try await CLI.run(["migrate", "--source", "sqlite:src.db", "--target", target, "--replace"], in: dir)
                #expect(forced.status == 1, "\(forced.output)")
                #expect(forced.stdout.contains("readings changed id=1: amount 0.00188 → 0.002"), "\(forced.output)")
                let diff = try await CLI.run(["diff", "--source", "sqlite:src.db", "--target", target, "--table", "readings"], in: dir)
                #expect(diff.status == 1)
                #expect(diff.stdout.contains("0.00188") && diff.stdout.contains("0.002"), "\(diff.output)")
            }
        }
    }

    /// A target table another tool made spells the columns differently (`orderid` for
    /// `"OrderId"`): diff and validate pair them by name ignoring case, and still find a change.
    @Test func columnsThatDifferOnlyInCaseArePaired() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { source in
                try await TestEnvironment.withPostgresDatabase { target in
                    try await TestEnvironment.psql(
                        source, #"CREATE TABLE ca ("OrderId" int PRIMARY KEY, "Total" numeric); INSERT INTO ca VALUES (1, 2.5), (2, 3)"#)
                    try await TestEnvironment.psql(
                        target, "CREATE TABLE ca (orderid int PRIMARY KEY, total numeric); INSERT INTO ca VALUES (1, 2.50), (2, 3)")
                    let (s, t) = (TestEnvironment.cliText(source), TestEnvironment.cliText(target))
                    let same = try await CLI.run(["diff", "--source", s, "--target", t, "--table", "ca"], in: dir)
                    #expect(same.status == 0, "\(same.output)")
                    let validate = try await CLI.run(["validate", "--source", s, "--target", t], in: dir)
                    #expect(validate.status == 0, "\(validate.output)")
                    try await TestEnvironment.psql(target, "UPDATE ca SET total = 9 WHERE orderid = 2")
                    for strategy in ["merge", "bisect"] {
                        let changed = try await CLI.run(["diff", "--source", s, "--target", t, "--table", "ca", "--strategy", strategy], in: dir)
                        #expect(changed.status == 1 && changed.stdout.contains("changed OrderId=2: Total 3 → 9"), "\(strategy): \(changed.output)")
                    }
                    try await TestEnvironment.psql(target, "ALTER TABLE ca DROP COLUMN total")
                    let missing = try await CLI.run(["diff", "--source", s, "--target", t, "--table", "ca"], in: dir)
                    #expect(missing.status == 3 && missing.stderr.contains("has no column Total"), "\(missing.output)")
                }
            }
        }
    }
}
