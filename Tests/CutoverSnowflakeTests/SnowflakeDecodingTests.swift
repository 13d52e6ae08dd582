import CutoverCore
import CryptoExtras
import CutoverTesting
import Foundation
import Testing

@testable import CutoverSnowflake

/// Result decoding, URL settings and login bodies: pure logic, no server.
@Suite struct SnowflakeDecodingTests {
    static let settings = try! SnowflakeSettings(ConnectionURL(parsing: "snowflake://u:p@acct/DB/PUBLIC"))

    @Test func arrowResultFromTheEmulatorDecodesEveryType() async throws {
        let path = try #require(Bundle.module.path(forResource: "all_types_arrow", ofType: "json", inDirectory: "Fixtures"))
        let response = try JSONDecoder().decode(SnowflakeResponse<QueryData>.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        let data = try #require(response.data)
        let pages = SnowflakeResultPages(data, client: SnowflakeClient(settings: Self.settings))
        let rows = try await pages.all()
        #expect(rows.count == 2)
        #expect(
            rows[0] == [
                .int(1), .int(9_223_372_036_854_775_807), .text("-12345678901234567890123.4567"), .text("-1234.05"), .double(-0.5),
                .text("héllo 世界 🚀"), .bool(true), .text("1969-07-20"), .text("13:14:15.5"),
                .text("1960-01-02 03:04:05.123456"), .text("2024-01-02 01:04:05.25+00:00"), .text(#"{"a":[1,2]}"#), .bytes([0x00, 0xFF, 0x10]),
            ])
        // NULL timestamps arrive as valid structs with null children: they must read as NULL, not 1970.
        #expect(rows[1] == [.int(2)] + [Value](repeating: .null, count: 4) + [.text("")] + [Value](repeating: .null, count: 7))
    }

    @Test func jsonRowSetsAsRealSnowflakeSendsThem() throws {
        func column(_ type: String, scale: Int? = nil) -> SnowflakeColumnType {
            SnowflakeColumnType(name: "X", type: type, scale: scale)
        }
        #expect(try SnowflakeCells.value("42", column("fixed", scale: 0)) == .int(42))
        #expect(try SnowflakeCells.value("-0.50", column("fixed", scale: 2)) == .text("-0.50"))
        #expect(try SnowflakeCells.value("1", column("boolean")) == .bool(true))
        #expect(try SnowflakeCells.value("-1", column("date")) == .text("1969-12-31"))
        #expect(try SnowflakeCells.value("47655.500000000", column("time", scale: 9)) == .text("13:14:15.5"))
        #expect(try SnowflakeCells.value("-0.250000000", column("timestamp_ntz", scale: 9)) == .text("1969-12-31 23:59:59.75"))
        #expect(try SnowflakeCells.value("1704164645.000000000 1560", column("timestamp_tz", scale: 9)) == .text("2024-01-02 05:04:05+02:00"))
        #expect(try SnowflakeCells.value("00ff", column("binary")) == .bytes([0, 255]))
        #expect(try SnowflakeCells.value(nil, column("text")) == .null)
        #expect(try SnowflakeCells.value("", column("text")) == .text(""))
        // What is not in a documented form is an error naming the value, never NaN or a guess.
        for (text, type) in [("abc", "real"), ("zz", "binary"), ("soon", "date"), ("99999999999999999999", "timestamp_ntz"), ("90000.5", "time")] {
            #expect(throws: ArrowError.self, "\(type) '\(text)'") { try SnowflakeCells.value(text, column(type, scale: 9)) }
        }
    }

    /// Result streams cut, flipped and stretched at random: every one either decodes or is an
    /// error, never a crash. Seeded (the seed is in the failure message) and bounded in time, so
    /// each test run explores new inputs for a few seconds.
    @Test func damagedArrowStreamsAreErrorsNotCrashes() async throws {
        let path = try #require(Bundle.module.path(forResource: "all_types_arrow", ofType: "json", inDirectory: "Fixtures"))
        let response = try JSONDecoder().decode(SnowflakeResponse<QueryData>.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        let data = try #require(response.data)
        let original = Array(try #require(Data(base64Encoded: data.rowsetBase64 ?? "")))
        let columns = data.rowtype ?? []
        let seed = FuzzGenerator.seed
        var generator = FuzzGenerator(seed: seed)
        let deadline = Date().addingTimeInterval(3)
        var tried = 0, decoded = 0
        while Date() < deadline {
            var bytes = original
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                guard !bytes.isEmpty else { break }
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<5, using: &generator) {
                case 0: bytes[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &generator))
                case 1: bytes[at] = [0, 0xFF, 0x7F, 0x80][Int.random(in: 0..<4, using: &generator)]
                case 2: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...64, using: &generator)))
                case 3:
                    bytes.insert(
                        contentsOf: (0..<Int.random(in: 1...16, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }, at: at)
                default:
                    // A 32-bit field set to something large or negative: lengths and offsets.
                    let value = [UInt32.max, 0x7FFF_FFFF, 0x8000_0000, UInt32(bytes.count), 0xFFFF][Int.random(in: 0..<5, using: &generator)]
                    for i in 0..<min(4, bytes.count - at) { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
                }
            }
            tried += 1
            do {
                var reader = try ArrowStreamReader(bytes)
                while let batch = try reader.nextBatch() {
                    for row in 0..<batch.length {
                        for (array, column) in zip(batch.columns, columns) { _ = try SnowflakeCells.value(array, row, column) }
                    }
                }
                decoded += 1
            } catch is ArrowError {
                continue
            }
        }
        #expect(tried > 100, "seed \(seed): only \(tried) streams tried")
        #expect(decoded < tried, "seed \(seed): damage was never noticed")
    }

    @Test func aTimeTravelDialectReadsEveryTableAtItsInstant() {
        let table = TableRef(schema: "PUBLIC", name: "FACTS")
        let pinned = SnowflakeDialect(asOf: "2026-11-23 10:00:00.123456789 +00:00")
        #expect(pinned.readSource(table) == #""PUBLIC"."FACTS" AT(TIMESTAMP => '2026-11-23 10:00:00.123456789 +00:00'::TIMESTAMP_TZ)"#)
        #expect(ReadRequest(table: table, columns: []).selectSQL(pinned).contains(" AT(TIMESTAMP => "))
        #expect(
            pinned.portableChecksumSQL(table, columns: [("ID", .number(scale: 0), "NUMBER(38,0)")], key: "ID", range: 0..<10, width: 5)?.contains(" AT(TIMESTAMP => ")
                == true)
        // DDL and writes still name the table itself.
        #expect(pinned.qualified(table) == #""PUBLIC"."FACTS""#)
        #expect(SnowflakeDialect().readSource(table) == #""PUBLIC"."FACTS""#)
    }

    @Test func decimalsKeepEveryDigit() {
        #expect(SnowflakeCells.number(unscaled: -5, scale: 3) == .text("-0.005"))
        #expect(SnowflakeCells.number(unscaled: Int128(Int64.max) * 1000, scale: 0) == .text("9223372036854775807000"))
        #expect(SnowflakeCells.number(unscaled: 0, scale: 2) == .text("0.00"))
    }

    @Test func stagedTextKeepsNullAndEmptyApart() {
        var csv: [UInt8] = []
        SnowflakeCSV.append(.null, as: .text(maxLength: nil), to: &csv)
        csv.append(UInt8(ascii: ","))
        SnowflakeCSV.append(.text(""), as: .text(maxLength: nil), to: &csv)
        csv.append(UInt8(ascii: ","))
        SnowflakeCSV.append(.text("a \"q\",\nb"), as: .text(maxLength: nil), to: &csv)
        csv.append(UInt8(ascii: ","))
        SnowflakeCSV.append(.text("\\N"), as: .text(maxLength: nil), to: &csv)
        #expect(String(decoding: csv, as: UTF8.self) == ",\"v\",\"va \"\"q\"\",\nb\",\"v\\N\"")
        #expect(
            SnowflakeCSV.text(.text("2024-01-02 03:04:05.5+02"), as: .timestamp(withTimeZone: true, precision: 6))
                == "2024-01-02T01:04:05.500000+00:00")
        #expect(SnowflakeCSV.text(.double(-.infinity), as: .float(bits: 64)) == "-inf")
        #expect(SnowflakeCSV.text(.bytes([0, 0xAB]), as: .binary) == "00AB")
    }

    @Test func settingsReadTheURLAndRefuseWhatCannotWork() throws {
        let s = try SnowflakeSettings(ConnectionURL(parsing: "snowflake://me:pw@xy12345.eu-west-1/SALES/RAW?warehouse=WH&role=LOADER"))
        #expect(s.baseURL == "https://xy12345.eu-west-1.snowflakecomputing.com:443")
        #expect(s.accountLocator == "XY12345")
        #expect(s.database == "SALES" && s.schema == "RAW" && s.warehouse == "WH" && s.role == "LOADER")
        let local = try SnowflakeSettings(ConnectionURL(parsing: "snowflake://me:pw@fake/DB?host=127.0.0.1&port=8765&protocol=http"))
        #expect(local.baseURL == "http://127.0.0.1:8765" && local.schema == "PUBLIC")
        #expect(throws: CutoverError.self) { try SnowflakeSettings(ConnectionURL(parsing: "snowflake://me@acct/DB/S")) }
        #expect(throws: CutoverError.self) { try SnowflakeSettings(ConnectionURL(parsing: "snowflake://me@acct/DB/S?authenticator=oauth")) }
        #expect(throws: CutoverError.self) { try SnowflakeSettings(ConnectionURL(parsing: "snowflake://me:pw@acct/DB/S?authenticator=saml")) }
        let redacted = try ConnectionURL(parsing: "snowflake://me@acct/DB/S?authenticator=oauth&token=sekrit-token").description
        #expect(!redacted.contains("sekrit-token"))
    }

    @Test func keyPairLoginSendsAVerifiableRS256Token() throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let path = NSTemporaryDirectory() + "cutover-key-\(UUID().uuidString).pem"
        try key.pemRepresentation.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let settings = try SnowflakeSettings(
            ConnectionURL(parsing: "snowflake://loader@xy12345.eu-west-1/DB/S?authenticator=snowflake_jwt&private_key_file=\(path)"))
        let body = try JSONSerialization.jsonObject(with: Data(LoginRequest(settings: settings).json())) as! [String: [String: Any]]
        #expect(body["data"]?["AUTHENTICATOR"] as? String == "SNOWFLAKE_JWT")
        #expect(body["data"]?["PASSWORD"] == nil)
        let jwt = try #require(body["data"]?["TOKEN"] as? String)
        let parts = jwt.split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        func decode(_ part: String) -> Data {
            var base64 = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while base64.count % 4 != 0 { base64 += "=" }
            return Data(base64Encoded: base64)!
        }
        let claims = try JSONSerialization.jsonObject(with: decode(parts[1])) as! [String: Any]
        #expect(claims["sub"] as? String == "XY12345.LOADER")
        #expect((claims["iss"] as? String)?.hasPrefix("XY12345.LOADER.SHA256:") == true)
        let signature = _RSA.Signing.RSASignature(rawRepresentation: decode(parts[2]))
        #expect(key.publicKey.isValidSignature(signature, for: Data((parts[0] + "." + parts[1]).utf8), padding: .insecurePKCS1v1_5))
    }

    @Test func aRefusedLoginIsAnAuthenticationErrorThatNamesTheUserNotThePassword() async throws {
        let body = #"{"data":null,"code":"390100","message":"Incorrect username or password was specified.","success":false}"#
        let response = try JSONDecoder().decode(SnowflakeResponse<LoginData>.self, from: Data(body.utf8))
        let error = await SnowflakeClient(settings: Self.settings).loginError(response)
        #expect(error.code == .authenticationFailed)
        #expect(error.description.contains("login as u failed: Incorrect username or password was specified. (code 390100)"))
        #expect(!error.description.contains(":p@"))
    }

    @Test func oauthLoginSendsTheTokenNotAPassword() throws {
        let settings = try SnowflakeSettings(ConnectionURL(parsing: "snowflake://me@acct/DB/S?authenticator=oauth&token=okta-access-token"))
        let body = try JSONSerialization.jsonObject(with: Data(LoginRequest(settings: settings).json())) as! [String: [String: Any]]
        #expect(body["data"]?["AUTHENTICATOR"] as? String == "OAUTH")
        #expect(body["data"]?["TOKEN"] as? String == "okta-access-token")
        #expect(body["data"]?["SESSION_PARAMETERS"] != nil)
    }
}
