import CutoverCore
import CutoverSQLite
import CutoverTesting
import Foundation
import Testing

@Suite struct SQLiteConnectorTests {
    @Test func missingSourceFileIsNotCreated() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let url = ConnectionURL(engine: .sqlite, database: dir + "/missing.db")
            #expect {
                try SQLiteConnector(url: url, createIfMissing: false)
            } throws: { error in
                (error as? CutoverError)?.code == .databaseNotFound && "\(error)".contains("missing.db")
            }
            #expect(!FileManager.default.fileExists(atPath: dir + "/missing.db"))
        }
    }

    @Test func fileThatIsNotADatabaseIsReported() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            try "hello, not sqlite".write(toFile: dir + "/fake.db", atomically: true, encoding: .utf8)
            #expect(throws: CutoverError.self) {
                try SQLiteConnector(url: ConnectionURL(engine: .sqlite, database: dir + "/fake.db"), createIfMissing: false)
            }
        }
    }

    /// A count(*) answer that is not a whole number is an error, never 0 (which both sides of a
    /// row-count check could agree on).
    @Test func aCountThatIsNotAWholeNumberIsAnError() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let connector = try SQLiteConnector(url: ConnectionURL(engine: .sqlite, database: dir + "/c.db"), createIfMissing: true)
            let table = TableRef(schema: nil, name: "t")
            #expect(try connector.rowCount(answer: .int(5), of: table) == 5)
            #expect(try connector.rowCount(answer: .text("12"), of: table) == 12)
            #expect(try connector.rowCount(answer: .text("12.000"), of: table) == 12)
            #expect(try connector.rowCount(answer: .double(3), of: table) == 3)
            for answer: Value? in [nil, .null, .text("12.5"), .text("many"), .double(3.5), .bytes([1])] {
                #expect(throws: CutoverError.self, "\(String(describing: answer))") { try connector.rowCount(answer: answer, of: table) }
            }
            try await connector.execute("CREATE TABLE t (id INTEGER); INSERT INTO t VALUES (1), (2)")
            #expect(try await connector.rowCount(table) == 2)
        }
    }

    @Test(arguments: [
        ("INTEGER", CanonicalType.integer(bits: 64)), ("NVARCHAR(160)", .text(maxLength: 160)), ("NUMERIC(10,2)", .decimal(precision: 10, scale: 2)),
        ("DATETIME", .timestamp(withTimeZone: false, precision: nil)), ("DATE", .date), ("BOOLEAN", .boolean), ("REAL", .float(bits: 64)),
        ("DOUBLE PRECISION", .float(bits: 64)), ("BLOB", .binary), ("JSON_TEXT", .json(binary: false)), ("UUID", .uuid),
        ("DECIMAL_TEXT(38,10)", .decimal(precision: 38, scale: 10)), ("TIMESTAMPTZ", .timestamp(withTimeZone: true, precision: nil)),
        ("CHAR(3)", .text(maxLength: 3)), ("SMALLINT", .integer(bits: 16)), ("", .unknown(native: "(no declared type)")),
    ])
    func declaredTypesMapByAffinityAndIntent(declared: String, expected: CanonicalType) {
        #expect(SQLiteTypes.canonical(declared) == expected)
    }

    /// Values that SQLite's affinity would otherwise bend (NaN → NULL, JSON scalars → numbers) stay exact.
    @Test func writesKeepValuesExact() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let url = ConnectionURL(engine: .sqlite, database: dir + "/t.db")
            let connector = try SQLiteConnector(url: url, createIfMissing: true)
            try await connector.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, f REAL, j JSON_TEXT, d DECIMAL_TEXT(38,10), b BLOB, e TEXT)")
            let columns = [
                Column(name: "id", ordinal: 1, nativeType: "INTEGER", canonical: .integer(bits: 64)),
                Column(name: "f", ordinal: 2, nativeType: "REAL", canonical: .float(bits: 64)),
                Column(name: "j", ordinal: 3, nativeType: "JSON_TEXT", canonical: .json(binary: false)),
                Column(name: "d", ordinal: 4, nativeType: "DECIMAL_TEXT(38,10)", canonical: .decimal(precision: 38, scale: 10)),
                Column(name: "b", ordinal: 5, nativeType: "BLOB", canonical: .binary),
                Column(name: "e", ordinal: 6, nativeType: "TEXT", canonical: .text(maxLength: nil)),
            ]
            var batch = RowBatch(columnCount: 6)
            batch.append(row: [.int(1), .double(.nan), .text("42"), .text("1234567890123456789012345678.0123456789"), .bytes([]), .text("")])
            batch.append(row: [.int(2), .double(-0.0), .text("\"s\""), .text("-0.0000000001"), .bytes([0, 255]), .null])
            _ = try await connector.write(.batches([batch]), to: TableRef(schema: nil, name: "t"), columns: columns)
            var rows: [Value] = []
            for try await read in connector.read(ReadRequest(table: TableRef(schema: nil, name: "t"), columns: columns, orderBy: [columns[0]])) {
                rows += read.values
            }
            guard case .double(let nan) = rows[1] else { Issue.record("NaN came back as \(rows[1])"); return }
            #expect(nan.isNaN)
            #expect(rows[2] == .text("42"))
            #expect(rows[3] == .text("1234567890123456789012345678.0123456789"))
            #expect(rows[4] == .bytes([]))
            #expect(rows[5] == .text(""))
            guard case .double(let zero) = rows[7] else { Issue.record("-0.0 came back as \(rows[7])"); return }
            #expect(zero == 0)  // REAL affinity keeps the value but not the sign of -0.0 (documented in the type rationale)
            #expect(rows[10] == .bytes([0, 255]))
            #expect(rows[11] == .null)
        }
    }
}

@Suite struct SQLiteIdentifierTests {
    /// SQLite would read `"missing"` as the string 'missing'; Cutover's sessions make it an error.
    @Test func aQuotedNameThatIsNoColumnIsAnErrorNotAString() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let session = try SQLiteSession(path: dir + "/t.db", create: true)
            try session.executeScript("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);")
            #expect(throws: CutoverError.self) { try session.execute("SELECT \"missing\" FROM t") }
            #expect(try session.execute("SELECT \"a\" FROM t").rows == [[.int(1)]])
        }
    }
}
