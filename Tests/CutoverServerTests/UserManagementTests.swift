import CutoverCore
import CutoverServer
import CutoverStore
import CutoverTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Signing out, refreshing, changing passwords, and an admin changing, disabling and removing users —
/// each tried by the roles that must not, and each refused request found in the audit log.
@Suite struct UserManagementTests {
    @Test func signOutRefreshAndPasswordChangeEndSessions() async throws {
        try await withServer { s in
            // Two sessions of bob; signing one out leaves the other.
            let second = try await s.login("bob", "password-bob")
            #expect(try await s.call(.post, "/api/v1/auth/logout", token: s.user).status == .noContent)
            #expect(try await s.call(.get, "/api/v1/auth/me", token: s.user).status == .unauthorized)
            #expect(try await s.call(.post, "/api/v1/auth/logout", token: s.user).status == .unauthorized)
            #expect(try await s.call(.get, "/api/v1/auth/me", token: second).status == .ok)

            // Refresh: a new token, the old one signed out.
            let refreshed = try s.object(try await s.call(.post, "/api/v1/auth/refresh", token: second))
            let fresh = try #require(refreshed["token"] as? String)
            #expect(fresh != second)
            #expect(try await s.call(.get, "/api/v1/auth/me", token: second).status == .unauthorized)
            #expect(try await s.call(.get, "/api/v1/auth/me", token: fresh).status == .ok)

            // An API token is not a session: it is revoked by its own route.
            let created = try s.object(try await s.call(.post, "/api/v1/auth/tokens", token: fresh, json: #"{"name": "ci"}"#))
            let apiToken = try #require(created["token"] as? String)
            #expect(try await s.call(.post, "/api/v1/auth/logout", token: apiToken).status == .badRequest)

            // Password: the current one is required; the new one follows the sign-up rules; other sessions end.
            let other = try await s.login("bob", "password-bob")
            let wrong = try await s.call(
                .post, "/api/v1/auth/password", token: fresh, json: #"{"current_password": "nope-nope", "new_password": "another-pass-1"}"#)
            #expect(wrong.status == .forbidden)
            let short = try await s.call(
                .post, "/api/v1/auth/password", token: fresh, json: #"{"current_password": "password-bob", "new_password": "short"}"#)
            #expect(short.status == .badRequest)
            let changed = try await s.call(
                .post, "/api/v1/auth/password", token: fresh, json: #"{"current_password": "password-bob", "new_password": "another-pass-1"}"#)
            #expect(changed.status == .ok, "\(String(buffer: changed.body))")
            let after = try #require(try s.object(changed)["token"] as? String)
            #expect(try await s.call(.get, "/api/v1/auth/me", token: after).status == .ok)
            #expect(try await s.call(.get, "/api/v1/auth/me", token: fresh).status == .unauthorized)
            #expect(try await s.call(.get, "/api/v1/auth/me", token: other).status == .unauthorized)
            #expect(try await s.call(.post, "/api/v1/auth/login", json: #"{"username": "bob", "password": "password-bob"}"#).status == .unauthorized)
            _ = try await s.login("bob", "another-pass-1")
            #expect(String(buffer: changed.body).contains("another-pass-1") == false)
        }
    }

    @Test func adminsChangeDisableAndRemoveUsersAndNobodyElseCan() async throws {
        try await withServer { s in
            // Not for users or viewers, and refused requests are audited with who tried.
            for token in [s.user, s.viewer] {
                #expect(try await s.call(.patch, "/api/v1/users/vic", token: token, json: #"{"role": "admin"}"#).status == .forbidden)
                #expect(try await s.call(.delete, "/api/v1/users/ada", token: token).status == .forbidden)
                #expect(try await s.call(.get, "/api/v1/audit/export", token: token).status == .forbidden)
            }
            #expect(try await s.call(.patch, "/api/v1/users/vic", json: #"{"role": "admin"}"#).status == .unauthorized)
            let refused = try s.list(try await s.call(.get, "/api/v1/audit?action=request.refused", token: s.admin))
            #expect(
                refused.contains {
                    $0["username"] as? String == "bob" && $0["resource"] as? String == "PATCH /api/v1/users/vic" && $0["outcome"] as? String == "403"
                },
                "\(refused)")
            #expect(refused.contains { $0["username"] == nil && $0["outcome"] as? String == "401" }, "\(refused)")
            #expect(refused.filter { $0["username"] as? String == "vic" }.count == 3)

            // Bad input.
            #expect(try await s.call(.patch, "/api/v1/users/vic", token: s.admin, json: #"{"role": "root"}"#).status == .badRequest)
            #expect(try await s.call(.patch, "/api/v1/users/nobody", token: s.admin, json: #"{"role": "user"}"#).status == .notFound)
            #expect(try await s.call(.delete, "/api/v1/users/nobody", token: s.admin).status == .notFound)

            // A role change counts at once, whatever the token says.
            #expect(try await s.call(.get, "/api/v1/users", token: s.viewer).status == .forbidden)
            let promoted = try await s.call(.patch, "/api/v1/users/vic", token: s.admin, json: #"{"role": "admin"}"#)
            #expect(try s.object(promoted)["role"] as? String == "admin")
            #expect(try await s.call(.get, "/api/v1/users", token: s.viewer).status == .ok)
            #expect(try await s.call(.patch, "/api/v1/users/vic", token: s.admin, json: #"{"role": "viewer"}"#).status == .ok)

            // Disabled: sessions, API tokens and sign-in refused; enabled again, old sessions stay out.
            let created = try s.object(try await s.call(.post, "/api/v1/auth/tokens", token: s.user, json: #"{"name": "ci"}"#))
            let apiToken = try #require(created["token"] as? String)
            let disabled = try s.object(try await s.call(.patch, "/api/v1/users/bob", token: s.admin, json: #"{"disabled": true}"#))
            #expect(disabled["disabled_at"] is String)
            #expect(try await s.call(.get, "/api/v1/auth/me", token: s.user).status == .unauthorized)
            #expect(try await s.call(.get, "/api/v1/auth/me", token: apiToken).status == .unauthorized)
            let signIn = try await s.call(.post, "/api/v1/auth/login", json: #"{"username": "bob", "password": "password-bob"}"#)
            #expect(try signIn.status == .forbidden && s.errorMessage(signIn).contains("disabled"))
            #expect(try await s.call(.patch, "/api/v1/users/bob", token: s.admin, json: #"{"disabled": false}"#).status == .ok)
            #expect(try await s.call(.get, "/api/v1/auth/me", token: s.user).status == .unauthorized)
            #expect(try await s.call(.get, "/api/v1/auth/me", token: apiToken).status == .ok)
            _ = try await s.login("bob", "password-bob")

            // An enabled admin always remains; nobody removes themselves.
            let demote = try await s.call(.patch, "/api/v1/users/ada", token: s.admin, json: #"{"role": "user"}"#)
            #expect(try demote.status == .forbidden && s.errorMessage(demote).contains("no enabled admin"))
            #expect(try await s.call(.patch, "/api/v1/users/ada", token: s.admin, json: #"{"disabled": true}"#).status == .forbidden)
            #expect(try await s.call(.delete, "/api/v1/users/ada", token: s.admin).status == .badRequest)

            // Removed: gone with its tokens; the audit log keeps the name.
            #expect(try await s.call(.delete, "/api/v1/users/bob", token: s.admin).status == .noContent)
            #expect(try await s.call(.get, "/api/v1/auth/me", token: apiToken).status == .unauthorized)
            #expect(try s.list(try await s.call(.get, "/api/v1/users", token: s.admin)).map { $0["username"] as? String } == ["ada", "vic"])
            let removals = try s.list(try await s.call(.get, "/api/v1/audit?action=user.delete", token: s.admin))
            #expect(removals.first?["resource"] as? String == "/api/v1/users/bob" && removals.first?["username"] as? String == "ada")
        }
    }

    @Test func auditExportsAsCSVAndJSONWithoutFormulas() async throws {
        try await withServer { s in
            // A user name chosen to be a spreadsheet formula, tried at sign-in.
            _ = try await s.call(.post, "/api/v1/auth/login", json: #"{"username": "=HYPERLINK(\"http://evil\")", "password": "x"}"#)
            let csv = try await s.call(.get, "/api/v1/audit/export?format=csv", token: s.admin)
            #expect(csv.status == .ok && csv.headers[.contentType] == "text/csv; charset=utf-8")
            let text = String(buffer: csv.body)
            #expect(text.hasPrefix("at,user,action,resource,outcome,details\r\n"))
            #expect(text.contains(#""'=HYPERLINK(""http://evil"")""#), "\(text)")
            #expect(!text.contains("\n=") && !text.contains(",="), "\(text)")
            let json = try await s.call(.get, "/api/v1/audit/export?format=json&action=user.register", token: s.admin)
            let entries = try s.list(json)
            #expect(entries.count == 3 && entries.allSatisfy { $0["action"] as? String == "user.register" }, "\(entries)")
            #expect(try await s.call(.get, "/api/v1/audit/export?format=xml", token: s.admin).status == .badRequest)
        }
    }

    @Test func auditRetentionDeletesOnlyOlderEntries() async throws {
        try await TestEnvironment.withTemporaryDirectory { dir in
            let store = try await SQLMetadataStore.open(ConnectionURL(engine: .sqlite, database: dir + "/store.db"))
            try await store.audit(AuditRecord(at: "2024-01-01T00:00:00.000Z", username: "old", action: "user.login", resource: nil, outcome: "200"))
            try await store.audit(AuditRecord(at: ISOTime.now(), username: "new", action: "user.login", resource: nil, outcome: "200"))
            #expect(try await store.pruneAudit(before: "2025-01-01T00:00:00.000Z") == 1)
            #expect(try await store.auditEntries(since: nil, username: nil, action: nil, limit: 10).map(\.username) == ["new"])
        }
    }
}
