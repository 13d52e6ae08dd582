import CutoverCore
import CutoverPostgres
import CutoverStore
import CutoverTesting
import Foundation
import Testing

/// Incremental loads (`--watermark`): a change is never skipped, whatever happens to a run.
@Suite(.enabled(if: TestEnvironment.hasPostgres)) struct IncrementalTests {
    static let orders = """
        CREATE TABLE orders (id int PRIMARY KEY, status text, updated_at timestamp);
        INSERT INTO orders SELECT g, 'new', timestamp '2024-01-01' + g * interval '1 second' FROM generate_series(1, 3000) g;
        """

    /// A scratch directory, a source holding `orders` and an empty target database.
    static func withOrders(_ body: (String, ConnectionURL, ConnectionURL) async throws -> Void) async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { source in
                try await TestEnvironment.withPostgresDatabase { target in
                    try await TestEnvironment.psql(source, Self.orders)
                    try await body(dir, source, target)
                }
            }
        }
    }

    /// Both sides' rows as one digest, so "the copy is exact" is one comparison.
    static func digest(_ url: ConnectionURL) async throws -> [Value] {
        try await PostgresConnector(url: url).execute(
            "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM orders t"
        ).rows.first ?? []
    }

    /// A run that fails on one chunk must not move the watermark: the next run would start past
    /// rows that never arrived. Here chunks 0–1 load and chunk 2 fails, then a row of a loaded
    /// chunk changes and a row is added; the resumed run loads chunk 2 in the window the run chose
    /// at its start, and the next incremental run brings the changes.
    @Test func aFailedChunkDoesNotMoveTheWatermarkAndChangesArriveNextRun() async throws {
        try await Self.withOrders { dir, source, target in
            let arguments = [
                "migrate", "--source", TestEnvironment.cliText(source), "--target", TestEnvironment.cliText(target),
                "--watermark", "updated_at", "--chunk-rows", "1000", "--parallel", "1",
            ]
            let failed = try await CLI.run(arguments + ["--max-attempts", "1"], in: dir, environment: ["CUTOVER_FAILPOINTS": "move.chunk:1@2"])
            #expect(failed.status == 1, "\(failed.output)")
            let loaded = try await PostgresConnector(url: target).execute("SELECT count(*) FROM orders")
            #expect(loaded.rows.first == [.text("2000")], "chunks 0 and 1 loaded: \(failed.output)")

            try await TestEnvironment.psql(
                source,
                """
                UPDATE orders SET status = 'changed', updated_at = timestamp '2024-02-01' WHERE id = 500;
                INSERT INTO orders VALUES (3001, 'later', timestamp '2024-02-02');
                """)
            let resumed = try await CLI.run(arguments + ["--resume", "--no-validate"], in: dir)
            #expect(resumed.status == 0, "\(resumed.output)")
            let next = try await CLI.run(arguments, in: dir)
            #expect(next.status == 0, "\(next.output)")
            #expect(next.stdout.contains("validation: 1 passed"), "\(next.output)")
            #expect(try await Self.digest(source) == Self.digest(target))
            let show = try await CLI.run(["watermark", "show"], in: dir)
            #expect(show.stdout.contains("public.orders.updated_at = 2024-02-02"), "\(show.output)")
        }
    }

    /// An unfinished incremental run is superseded by the next one (not resumed for ever), and
    /// the new run loads what changed since.
    @Test func aNewIncrementalRunSupersedesAFailedOne() async throws {
        try await Self.withOrders { dir, source, target in
            let arguments = [
                "migrate", "--source", TestEnvironment.cliText(source), "--target", TestEnvironment.cliText(target),
                "--watermark", "updated_at", "--chunk-rows", "1000", "--parallel", "1",
            ]
            let failed = try await CLI.run(arguments + ["--max-attempts", "1"], in: dir, environment: ["CUTOVER_FAILPOINTS": "move.chunk:1"])
            #expect(failed.status == 1, "\(failed.output)")
            try await TestEnvironment.psql(source, "INSERT INTO orders VALUES (3001, 'later', timestamp '2024-02-02')")
            let next = try await CLI.run(arguments, in: dir)
            #expect(next.status == 0, "\(next.output)")
            #expect(next.stdout.contains("did not finish: starting a new incremental run"), "\(next.output)")
            #expect(try await Self.digest(source) == Self.digest(target))
            let runs = try await CLI.run(["runs", "list"], in: dir)
            #expect(runs.stdout.contains("superseded"), "\(runs.output)")
        }
    }

    /// `--truncate`/`--replace` with `--watermark` empty the target, so they must load every row,
    /// not the rows past the stored watermark; `watermark reset` makes the next run load all.
    @Test func truncateReplaceAndResetLoadEveryRow() async throws {
        try await Self.withOrders { dir, source, target in
            let (sourceText, targetText) = (TestEnvironment.cliText(source), TestEnvironment.cliText(target))
            let arguments = ["migrate", "--source", sourceText, "--target", targetText, "--watermark", "updated_at"]
            #expect(try await CLI.run(arguments, in: dir).status == 0)
            for flag in ["--truncate", "--replace"] {
                let reload = try await CLI.run(arguments + [flag], in: dir)
                #expect(reload.status == 0, "\(reload.output)")
                #expect(try await Self.digest(target).first == .text("3000"), "\(flag): \(reload.output)")
            }
            try await TestEnvironment.psql(target, "DELETE FROM orders WHERE id <= 10")
            let refused = try await CLI.run(["watermark", "reset", "--source", sourceText, "--target", targetText], in: dir)
            #expect(refused.status == 2, "a reset names a table or --all: \(refused.output)")
            let reset = try await CLI.run(
                ["watermark", "reset", "--source", sourceText, "--target", targetText, "--table", "public.orders"], in: dir)
            #expect(reset.status == 0, "\(reset.output)")
            let none = try await CLI.run(["watermark", "show", "--format", "json"], in: dir)
            #expect(none.stdout.filter { !$0.isWhitespace } == "[]", "\(none.output)")
            let all = try await CLI.run(arguments, in: dir)
            #expect(all.status == 0, "\(all.output)")
            #expect(try await Self.digest(source) == Self.digest(target))
            let again = try await CLI.run(
                ["watermark", "reset", "--source", sourceText, "--target", targetText, "--table", "public.nothing"], in: dir)
            #expect(again.status == 2 && again.output.contains("stored: public.orders"), "\(again.output)")
        }
    }

    /// `--replace` re-creates a table that exists but is empty: its old definition may not hold the rows.
    @Test func replaceRecreatesAnEmptyTableWithTheNewDefinition() async throws {
        try await Self.withOrders { dir, source, target in
            try await TestEnvironment.psql(target, "CREATE TABLE orders (id int PRIMARY KEY, status varchar(2), updated_at date)")
            let replace = try await CLI.run(
                [
                    "migrate", "--source", TestEnvironment.cliText(source), "--target", TestEnvironment.cliText(target),
                    "--replace",
                ], in: dir)
            #expect(replace.status == 0, "\(replace.output)")
            let types = try await PostgresConnector(url: target).execute(
                "SELECT data_type FROM information_schema.columns WHERE table_name = 'orders' ORDER BY ordinal_position")
            #expect(types.rows.map(\.first) == [.text("integer"), .text("text"), .text("timestamp without time zone")])
        }
    }

    /// A run resumed after its target table was dropped creates it again and reloads every chunk,
    /// instead of failing on the missing table or skipping the chunks it had loaded into it.
    @Test func aResumedRunRecreatesADroppedTargetTable() async throws {
        try await Self.withOrders { dir, source, target in
            let arguments = [
                "migrate", "--source", TestEnvironment.cliText(source), "--target", TestEnvironment.cliText(target),
                "--chunk-rows", "1000", "--parallel", "1",
            ]
            let failed = try await CLI.run(arguments + ["--max-attempts", "1"], in: dir, environment: ["CUTOVER_FAILPOINTS": "move.chunk:1@1"])
            #expect(failed.status == 1, "\(failed.output)")
            try await TestEnvironment.psql(target, "DROP TABLE orders")
            let resumed = try await CLI.run(arguments, in: dir)
            #expect(resumed.status == 0, "\(resumed.output)")
            #expect(resumed.stdout.contains("was missing at the target"), "\(resumed.output)")
            #expect(try await Self.digest(source) == Self.digest(target))
        }
    }

    /// The ledger counts every try of a chunk, also the retries within one lease, and the table's
    /// record keeps the move's figures after validation.
    @Test func theLedgerCountsRetriesAndTableRecordsKeepTheMovesFigures() async throws {
        try await Self.withOrders { dir, source, target in
            let migrate = try await CLI.run(
                [
                    "migrate", "--source", TestEnvironment.cliText(source), "--target", TestEnvironment.cliText(target),
                    "--chunk-rows", "1000", "--parallel", "1", "--max-attempts", "4",
                ],
                in: dir, environment: ["CUTOVER_FAILPOINTS": "move.chunk:2"])
            #expect(migrate.status == 0, "\(migrate.output)")
            let store = try await SQLMetadataStore.open(ConnectionURL(engine: .sqlite, database: dir + "/.cutover/cutover.db"))
            let run = try #require(try await store.runs(limit: 1).first)
            let attempts = try await store.chunks(runID: run.id).map(\.attempts)
            #expect(attempts == [3, 1, 1], "\(attempts)")
            // Validation wrote the table's record last: the move's bytes and times are still in it.
            let record = try #require(try await store.tables(runID: run.id).first)
            #expect(record.status == "passed" && record.bytes ?? 0 > 0 && record.startedAt != nil && record.finishedAt != nil, "\(record)")
        }
    }

    /// Appending into an existing table that lacks a source column is refused by name, before any
    /// row is written, instead of failing inside the engine's load.
    @Test func aTargetMissingAColumnIsRefusedByName() async throws {
        try await Self.withOrders { dir, source, target in
            try await TestEnvironment.psql(target, "CREATE TABLE orders (id int PRIMARY KEY, updated_at timestamp)")
            let append = try await CLI.run(
                [
                    "migrate", "--source", TestEnvironment.cliText(source), "--target", TestEnvironment.cliText(target),
                    "--mode", "append",
                ], in: dir)
            #expect(append.status == 1, "\(append.output)")
            #expect(append.stdout.contains(#"has no column "status" for public.orders"#), "\(append.output)")
            #expect(try await Self.digest(target).first == .text("0"))
        }
    }

    /// `table_settings:` in cutover.yml: one table loads incrementally with its own chunk size
    /// while the command names no watermark.
    @Test func tableSettingsInTheConfigApplyPerTable() async throws {
        try await Self.withOrders { dir, source, target in
            try """
            table_settings:
              public.orders: { watermark: updated_at, chunk_rows: 1000 }
            """.write(toFile: dir + "/cutover.yml", atomically: true, encoding: .utf8)
            let arguments = ["migrate", "--source", TestEnvironment.cliText(source), "--target", TestEnvironment.cliText(target)]
            let first = try await CLI.run(arguments, in: dir)
            #expect(first.status == 0, "\(first.output)")
            #expect(first.stdout.contains("3 chunk(s)") || first.stdout.contains("in 3 chunk"), "\(first.output)")
            try await TestEnvironment.psql(source, "UPDATE orders SET status = 'changed', updated_at = timestamp '2024-02-01' WHERE id = 7")
            let second = try await CLI.run(arguments, in: dir)
            #expect(second.status == 0, "\(second.output)")
            #expect(second.stdout.contains("2 rows"), "the changed row and the one at the watermark: \(second.output)")
            #expect(try await Self.digest(source) == Self.digest(target))
            try "table_settings:\n  orders: { mode: teleport }\n".write(toFile: dir + "/cutover.yml", atomically: true, encoding: .utf8)
            let bad = try await CLI.run(arguments, in: dir)
            #expect(bad.status == 2 && bad.stderr.contains("mode teleport is not copy, append or upsert"), "\(bad.output)")
        }
    }

    /// Text keys split into ranges compared by bytes on both sides: a chunk that failed is reloaded
    /// on resume without leaving duplicates, whatever the databases' collations.
    @Test func textKeysLoadInChunksAndResumeExactly() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try await TestEnvironment.withPostgresDatabase { source in
                try await TestEnvironment.withPostgresDatabase { target in
                    try await TestEnvironment.psql(
                        source,
                        """
                        CREATE TABLE codes (code varchar(20) PRIMARY KEY, n int);
                        INSERT INTO codes SELECT CASE g % 4 WHEN 0 THEN 'a' WHEN 1 THEN 'B' WHEN 2 THEN 'é' ELSE 'Z ' END || g, g FROM generate_series(1, 3000) g;
                        """)
                    let arguments = [
                        "migrate", "--source", TestEnvironment.cliText(source), "--target", TestEnvironment.cliText(target),
                        "--chunk-rows", "500", "--parallel", "1",
                    ]
                    let failed = try await CLI.run(
                        arguments + ["--max-attempts", "1"], in: dir, environment: ["CUTOVER_FAILPOINTS": "move.chunk:1@3"])
                    #expect(failed.status == 1, "\(failed.output)")
                    let resumed = try await CLI.run(arguments, in: dir)
                    #expect(resumed.status == 0 && resumed.stdout.contains("validation: 1 passed"), "\(resumed.output)")
                    #expect(resumed.stdout.contains("in 6 chunk(s)") || resumed.stdout.contains("in 7 chunk(s)"), "\(resumed.output)")
                    let counts = try await PostgresConnector(url: target).execute("SELECT count(*), count(DISTINCT code) FROM codes")
                    #expect(counts.rows.first == [.text("3000"), .text("3000")])
                }
            }
        }
    }
}
