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
                let rejecting = try await CLI.run(["migrate", "--source", "sqlite:src.db", "--target", target, "--on-error", "reject", "--replace"], in: dir)
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
}
