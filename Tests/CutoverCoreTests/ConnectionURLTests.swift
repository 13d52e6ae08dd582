import Foundation
import CutoverCore
import Testing

@Suite struct ConnectionURLTests {
    @Test func parsesPostgresURLWithParameters() throws {
        let url = try ConnectionURL(parsing: "postgresql://app:s%40cret@db.example:6543/shop?sslmode=require")
        #expect(url.engine == .postgres)
        #expect(url.user == "app")
        #expect(url.password == "s@cret")
        #expect(url.host == "db.example")
        #expect(url.port == 6543)
        #expect(url.database == "shop")
        #expect(url.parameters["sslmode"] == "require")
    }

    @Test(arguments: [
        ("sqlite:///abs/path.db", "/abs/path.db"),
        ("sqlite:rel/path.db", "rel/path.db"),
        ("sqlite:data.db", "data.db"),
        ("sqlite::memory:", ":memory:"),
    ])
    func parsesSQLitePaths(text: String, path: String) throws {
        let url = try ConnectionURL(parsing: text)
        #expect(url.engine == .sqlite)
        #expect(url.database == path)
    }

    @Test func descriptionNeverShowsThePassword() throws {
        let url = try ConnectionURL(parsing: "postgres://app:hunter2@localhost:5432/shop?password=other")
        #expect(!url.description.contains("hunter2"))
        #expect(!url.description.contains("other"))
        #expect(url.description.contains("app:***@localhost:5432/shop"))
    }

    @Test func unknownSchemeIsAUsageErrorThatSaysWhatToWrite() {
        #expect {
            try ConnectionURL(parsing: "mysql://root:pw@localhost/db")
        } throws: { error in
            let error = error as! CutoverError
            return error.code == .unsupportedURL && error.exitCode == 2 && error.description.contains("mysql")
                && error.description.contains("postgres://") && !error.description.contains(":pw@")
        }
    }

    @Test func textWithoutSchemeIsRejected() {
        #expect(throws: CutoverError.self) { try ConnectionURL(parsing: "just-a-name") }
    }

    @Test func snowflakeURLCarriesDatabaseAndSchema() throws {
        let url = try ConnectionURL(parsing: "snowflake://loader:pw@myorg-acct/ANALYTICS/RAW?warehouse=WH&role=LOADER")
        #expect(url.engine == .snowflake)
        #expect(url.database == "ANALYTICS")
        #expect(url.schema == "RAW")
        #expect(url.parameters["warehouse"] == "WH")
    }
}

@Suite struct RedactionTests {
    @Test(arguments: [
        ("connect postgres://u:topsecret@h:5432/db failed", "postgres://u:***@h:5432/db"),
        ("host=h password=topsecret user=u", "password=***"),
        ("{\"password\": \"topsecret\"}", "\"password\": \"***\""),
        ("url?token=topsecret&x=1", "token=***&x=1"),
        ("PWD=topsecret;", "PWD=***;"),
    ])
    func masksSecrets(text: String, expected: String) {
        let redacted = Redaction.redact(text)
        #expect(!redacted.contains("topsecret"))
        #expect(redacted.contains(expected))
    }

    /// `--format json` output goes through the same last line of defence: it must stay JSON.
    @Test func keepsJSONWhole() throws {
        for document in [
            #"{"source": "snowflake://acct/db?authenticator=oauth&token=***", "n": 1}"#,
            #"{"source": "snowflake://acct/db?token=topsecret", "n": 1}"#,
            #"["x?password=topsecret", "y"]"#,
        ] {
            let redacted = Redaction.redact(document)
            #expect(!redacted.contains("topsecret"))
            #expect(throws: Never.self, "\(redacted)") { try JSONSerialization.jsonObject(with: Data(redacted.utf8)) }
        }
    }

    @Test func leavesOrdinaryTextAlone() {
        let text = "table public.orders: 1,000 rows at http://localhost:8080/api"
        #expect(Redaction.redact(text) == text)
    }

    @Test func errorsAreRedactedWhenRendered() {
        let error = CutoverError(.connectionFailed, "cannot reach postgres://a:supersecret@h/db", context: ["url": "password=supersecret"])
        #expect(!error.description.contains("supersecret"))
    }
}
