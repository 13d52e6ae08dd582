import CutoverCore
import CutoverTesting
import Foundation
import Testing

@testable import CutoverSQLServer

#if canImport(Glibc)
import Glibc
#endif

/// The live connector's parts that need no SQL Server: DB-Library's values as Cutover reads them,
/// the SELECT each type is read through, and what a user sees when the server is not there — run
/// against the real FreeTDS library scripts/test.sh installs.
@Suite struct SQLServerConnectorTests {
    static func bytes<T>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    static func value(_ type: Int32, _ bytes: [UInt8]) throws -> Value? {
        try bytes.withUnsafeBytes { try TDSValues.value(type: type, bytes: $0, column: 1) }
    }

    @Test func nativeValuesAreReadExactly() throws {
        // tinyint is unsigned: 255 stays 255.
        #expect(try Self.value(48, [255]) == .int(255))
        #expect(try Self.value(52, Self.bytes(Int16(-2))) == .int(-2))
        #expect(try Self.value(56, Self.bytes(Int32.min)) == .int(Int64(Int32.min)))
        #expect(try Self.value(127, Self.bytes(Int64.max)) == .int(.max))
        #expect(try Self.value(50, [1]) == .bool(true) && Self.value(104, [0]) == .bool(false))
        #expect(try Self.value(59, Self.bytes(Float(0.1).bitPattern)) == .double(Double(Float(0.1))))
        #expect(try Self.value(62, Self.bytes((-0.0).bitPattern)) == .double(-0.0))
        #expect(try Self.value(231, Array("Zoë 😀".utf8)) == .text("Zoë 😀"))
        #expect(try Self.value(47, []) == .text(""))
        #expect(try Self.value(165, [0, 0xFF, 0x10]) == .bytes([0, 0xFF, 0x10]))
        // A width that is not the type's, or a type without a native reading, is converted by DB-Library instead.
        #expect(try Self.value(56, [1, 2]) == nil)
        #expect(try Self.value(106, [1, 2, 3]) == nil)
        // Text that is not UTF-8 is an error, never a value with replacement characters.
        #expect(throws: CutoverError.self) { try Self.value(167, [0x41, 0xE9, 0x42]) }
    }

    /// Each type is read in the form that keeps every digit, and those forms compare equal to what
    /// PostgreSQL and Snowflake give for the same value.
    @Test func everyTypeIsReadInAFormTheComparisonKnows() throws {
        let export = try SQLServerExport(path: try #require(TestEnvironment.fixturePath("sqlserver-export.json")))
        let customers = try #require(export.catalog.tables.first { $0.ref.name == "Customers" })
        let request = ReadRequest(table: customers.ref, columns: customers.columns, orderBy: Array(customers.columns.prefix(1)))
        let sql = request.selectSQL(SQLServerDialect(), expression: SQLServerReading.expression)
        for expected in [
            "CONVERT(varchar(32), [Balance], 2) AS [Balance]", "CONVERT(varchar(40), [LastSeen], 127) AS [LastSeen]",
            "CONVERT(char(36), [Guid]) AS [Guid]", "[OrgNode].ToString() AS [OrgNode]", "[Location].STAsText() AS [Location]",
            "[Shape].STAsText() AS [Shape]", "CONVERT(nvarchar(4000), [Extra]) AS [Extra]", "CONVERT(nvarchar(max), [Preferences]) AS [Preferences]",
            "CONVERT(varchar(27), [CreatedAt], 121) AS [CreatedAt]", "CONVERT(varchar(16), [WakesAt], 121) AS [WakesAt]",
            "CONVERT(char(10), [Born], 23) AS [Born]", "CONVERT(varchar(48), [Discount]) AS [Discount]", "[RowVer], ",
        ] {
            #expect(sql.contains(expected), "\(expected) in \(sql)")
        }
        #expect(sql.hasPrefix("SELECT [CustomerId], ") && sql.contains("FROM [dbo].[Customers] ORDER BY [CustomerId]"), "\(sql)")
        // Plain integers, text and bytes are read as DB-Library delivers them.
        let plain = customers.columns.filter { SQLServerReading.expression($0) == nil }.map(\.nativeType)
        #expect(plain.allSatisfy { !["money", "datetimeoffset", "uniqueidentifier", "xml"].contains($0.prefix { $0 != "(" }) }, "\(plain)")

        func same(_ sqlServer: String, _ other: String, _ type: CanonicalType) {
            #expect(CanonicalForm.text(.text(sqlServer), as: type) == CanonicalForm.text(.text(other), as: type), "\(sqlServer) vs \(other)")
        }
        // Style 127 (its offset, or Z at UTC) against PostgreSQL's timestamptz text.
        same("2024-03-01T10:15:30.123456+01:00", "2024-03-01 09:15:30.123456+00", .timestamp(withTimeZone: true, precision: 7))
        same("2024-03-01T09:15:30.123456Z", "2024-03-01 09:15:30.123456+00", .timestamp(withTimeZone: true, precision: 7))
        // Style 121 for datetime, datetime2 and time; style 2 for money; style 23 for date.
        same("2024-03-01 10:15:30.997", "2024-03-01 10:15:30.997", .timestamp(withTimeZone: false, precision: 3))
        same("2024-03-01 10:15:30.1234560", "2024-03-01 10:15:30.123456", .timestamp(withTimeZone: false, precision: 7))
        same("10:15:30.1234560", "10:15:30.123456", .time(withTimeZone: false))
        same("12.3400", "12.34", .decimal(precision: 19, scale: 4))
        same("2024-03-01", "2024-03-01", .date)
        same("6F9619FF-8B86-D011-B42D-00C04FC964FF", "6f9619ff-8b86-d011-b42d-00c04fc964ff", .uuid)
        #expect(
            CanonicalForm.text(.text("12.3401"), as: .decimal(precision: 19, scale: 4))
                != CanonicalForm.text(.text("12.34"), as: .decimal(precision: 19, scale: 4)))
    }

    @Test func urlsNameAHostAndADatabaseAndATimeout() async throws {
        let live = try ConnectionURL(parsing: "sqlserver://sa:Secret-9@db.example.com:1433/Retail?schema=dbo")
        #expect(live.engine == .sqlserver && live.host == "db.example.com" && live.database == "Retail" && live.parameters["schema"] == "dbo")
        #expect(live.description == "sqlserver://sa:***@db.example.com:1433/Retail?schema=dbo")
        #expect(try TDSSession.loginTimeout(live) == 15)
        #expect(try TDSSession.loginTimeout(live.setting("connect_timeout", to: "3")) == 3)
        #expect(throws: CutoverError.self) { try TDSSession.loginTimeout(live.setting("connect_timeout", to: "soon")) }
        await #expect(throws: CutoverError.self) {
            try await SQLServerConnector(url: try ConnectionURL(parsing: "sqlserver://sa:pw@db.example.com:1433/"))
        }
        // encrypt= takes FreeTDS's levels; anything else is refused before connecting.
        #expect(try TDSSession.encryption(live) == nil && TDSSession.encryption(live.setting("encrypt", to: "Require")) == "require")
        #expect(throws: CutoverError.self) { try TDSSession.encryption(live.setting("encrypt", to: "true")) }
        // A FreeTDS before 1.5 cannot set TLS per connection: the URL's setting is refused (never silently
        // dropped), naming the library and where the setting goes instead. A newer one takes it and goes on
        // to connect (here: a host that does not exist).
        let version = try FreeTDS.load().version
        do {
            _ = try await SQLServerConnector(url: live.setting("encrypt", to: "require").setting("connect_timeout", to: "2"))
            Issue.record("connected to db.example.com")
        } catch let error as CutoverError {
            if Self.before15(version) {
                #expect(error.code == .unsupportedURL && error.message.contains(version), "\(error)")
                #expect(error.hint?.contains("encryption = require") == true && error.hint?.contains("CUTOVER_FREETDS_LIBRARY") == true, "\(error)")
            } else {
                #expect(error.code == .connectionFailed, "\(error)")
            }
        }
    }

    /// `freetds v1.3.17` → true.
    static func before15(_ version: String) -> Bool {
        let numbers = version.drop { !$0.isNumber }.split(separator: ".").prefix(2).compactMap { Int($0.prefix { $0.isNumber }) }
        return numbers.count == 2 && (numbers[0], numbers[1]) < (1, 5)
    }

    /// What a user sees when the server is not there, through the real DB-Library: the server named,
    /// the password not, and no wait past the timeout.
    @Test func aServerOutOfReachIsNamedWithoutItsPassword() async throws {
        func refusal(_ url: String) async throws -> CutoverError {
            do {
                _ = try await SQLServerConnector(url: try ConnectionURL(parsing: url))
            } catch let error as CutoverError {
                #expect(!error.description.contains("Secret-9"), "\(error)")
                return error
            }
            Issue.record("\(url) connected")
            return CutoverError(.usage, "connected")
        }
        // A port nobody listens on.
        let closed = try await refusal("sqlserver://sa:Secret-9@127.0.0.1:1/Retail")
        #expect(closed.code == .connectionFailed && closed.exitCode == 3, "\(closed)")
        #expect(
            closed.message.contains("cannot connect to SQL Server at sqlserver://sa:***@127.0.0.1:1/Retail") && closed.message.contains("refused"))
        #expect(closed.hint?.contains("1433") == true)

        // A server that accepts the connection and never answers: cut at connect_timeout.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(listener, socketAddress, length) == 0 && listen(listener, 4) == 0 && getsockname(listener, socketAddress, &length) == 0
            }
        }
        try #require(bound)
        let port = UInt16(bigEndian: address.sin_port)
        let started = Date()
        let silent = try await refusal("sqlserver://sa:Secret-9@127.0.0.1:\(port)/Retail?connect_timeout=1")
        #expect(silent.code == .connectionFailed && silent.message.contains("timed out"), "\(silent)")
        #expect(Date().timeIntervalSince(started) < 60)

        // A server that speaks another protocol (the test PostgreSQL).
        let postgres = try TestEnvironment.postgresURL()
        let other = try await refusal("sqlserver://sa:Secret-9@127.0.0.1:\(try #require(postgres.port))/Retail?connect_timeout=5")
        #expect(other.code == .connectionFailed, "\(other)")
    }
}
