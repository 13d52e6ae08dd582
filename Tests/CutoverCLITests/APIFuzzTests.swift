import CutoverCore
import CutoverTesting
import Foundation
import Testing

/// `cutover serve` fuzzed through its own OpenAPI document by schemathesis (PyPI), signed in as a
/// viewer, a user and an admin in turn: no request may get a 5xx, and every answer must match the
/// schema and content type the document promises. (The event streams, which stay open by design,
/// are tested in the server's own suite.)
@Suite struct APIFuzzTests {
    static var schemathesis: String? { ProcessInfo.processInfo.environment["CUTOVER_TEST_SCHEMATHESIS"] }

    @Test(.enabled(if: schemathesis != nil || ProcessInfo.processInfo.environment["CUTOVER_TEST_REQUIRE_SERVERS"] == "1"))
    func everyRouteHoldsItsContractForEveryRole() async throws {
        let schemathesis = try #require(Self.schemathesis, "scripts/test.sh installs schemathesis and sets CUTOVER_TEST_SCHEMATHESIS")
        try await TestEnvironment.withTemporaryDirectory { dir in
            let chinook = try TestEnvironment.chinookCopy(in: dir)
            try """
            connections:
              chinook: sqlite:\(chinook)
              scratch: sqlite:\(dir)/scratch.db
            environments:
              DEV: {schema: main}
            """.write(toFile: dir + "/cutover.yml", atomically: true, encoding: .utf8)
            let server = try ServeProcess(in: dir)
            defer { server.stop() }
            let base = server.base
            // Sign-up, two more users, and every role's token before any fuzzing (which may lock names it guesses).
            let setup = try await CLI.shell(
                """
                for i in $(seq 1 100); do curl -sf \(base)/health >/dev/null && break; sleep 0.1; done
                post() { curl -sf -X POST "\(base)$1" -H 'Content-Type: application/json' ${3:+-H "Authorization: Bearer $3"} -d "$2"; }
                token() { post /api/v1/auth/login "{\\"username\\": \\"$1\\", \\"password\\": \\"$2\\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'; }
                post /api/v1/auth/register '{"username": "ada", "password": "lovelace-1815"}' >/dev/null
                ADMIN=$(token ada lovelace-1815)
                post /api/v1/auth/register '{"username": "bob", "password": "password-bob", "role": "user"}' "$ADMIN" >/dev/null
                post /api/v1/auth/register '{"username": "vic", "password": "password-vic", "role": "viewer"}' "$ADMIN" >/dev/null
                echo "$(token vic password-vic) $(token bob password-bob) $ADMIN"
                """, in: dir)
            let tokens = setup.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
            try #require(tokens.count == 3, "\(setup.output)")
            for (role, token) in zip(["viewer", "user", "admin"], tokens) {
                let run = try await CLI.shell(
                    """
                    '\(schemathesis)' run '\(base)/api/v1/openapi.json' -H 'Authorization: Bearer \(token)' \
                      --checks not_a_server_error,response_schema_conformance,content_type_conformance \
                      --exclude-path /api/v1/events --exclude-path /api/v1/events/ws \
                      --max-examples 15 --seed 20261128 > fuzz-\(role).txt 2>&1
                    echo "exit=$?"; tail -60 fuzz-\(role).txt
                    """, in: dir)
                #expect(run.stdout.hasPrefix("exit=0"), "as \(role):\n\(run.output)")
                #expect(server.isRunning, "the server is still up after the \(role)'s requests")
            }
        }
    }
}
