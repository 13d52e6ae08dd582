import CutoverCore
import CutoverStore
import Foundation
import Hummingbird
import HummingbirdBcrypt

/// Sign-up of the first admin, sign-in, the caller, users and personal API tokens.
enum AuthRoutes {
    static func register(_ routes: RouteTable) {
        let state = routes.state
        let store = state.store
        routes.addPublic(
            .post, "/api/v1/auth/register", "Create a user (admins; the very first user, who becomes admin, may sign up alone)",
            action: "user.register", body: Register.self, answer: .json(PublicUser.self, status: .created)
        ) { request, context in
            let body = try await APIInput.body(request, as: Register.self, context: context)
            guard state.localAccounts else { throw localAccountsOff(state) }
            try validate(body)
            let user = UserRecord(username: body.username, passwordHash: try await hash(body.password), role: body.role ?? .user)
            if let caller = context.identity {
                guard caller.isAdmin else { throw APIError(.forbidden, "only an admin can add users") }
                try await store.saveUser(user)
            } else {
                // One transaction decides who is first; everyone else needs an admin.
                guard state.firstUserSignUp, try await store.addFirstAdmin(user) else {
                    throw APIError(.unauthorized, "only an admin can add users", hint: "sign in as an admin", subject: body.username)
                }
            }
            guard let created = try await store.user(username: body.username) else {
                throw APIError(.internalServerError, "the user was not stored")
            }
            var response = try JSON.response(PublicUser(created), status: .created)
            response.headers[.auditSubject] = body.username
            return response
        }
        routes.addPublic(
            .post, "/api/v1/auth/login", "Sign in: a bearer token", action: "user.login", body: Login.self,
            answer: .json(LoginAnswer.self, status: .ok)
        ) { request, context in
            try await SignIn.signIn(try await APIInput.body(request, as: Login.self, context: context), state: state)
        }
        routes.add(.get, "/api/v1/auth/me", "The signed-in user", role: .viewer, answer: .json(PublicUser.self, status: .ok)) { _, context in
            try JSON.response(PublicUser(context.caller.user))
        }
        routes.add(
            .post, "/api/v1/auth/tokens", "Create a personal API token for scripts (shown once)", role: .viewer, action: "token.create",
            body: NewToken.self, answer: .json(CreatedToken.self, status: .created)
        ) { request, context in
            let body = try await APIInput.body(request, as: NewToken.self, context: context)
            let name = body.name.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.count <= 100 else { throw APIError(.badRequest, "a token needs a name of 1 to 100 characters") }
            if let days = body.expiresInDays, !(0...3650).contains(days) {
                throw APIError(.badRequest, "expires_in_days must be from 0 to 3650")
            }
            let secret = APITokens.newSecret()
            let expires = body.expiresInDays.map { ISOTime.string(Date().addingTimeInterval(TimeInterval($0) * 86400)) }
            let record = APITokenRecord(userID: context.caller.user.id, name: name, tokenHash: APITokens.hash(secret), expiresAt: expires)
            try await store.saveAPIToken(record)
            return try JSON.response(CreatedToken(id: record.id, name: record.name, token: secret, expiresAt: expires), status: .created)
        }
        routes.add(.get, "/api/v1/auth/tokens", "My API tokens (never their secrets)", role: .viewer, answer: .json([PublicToken].self, status: .ok))
        { _, context in
            try JSON.response(try await store.apiTokens(userID: context.caller.user.id).map(PublicToken.init))
        }
        routes.add(
            .delete, "/api/v1/auth/tokens/:id", "Revoke one of my API tokens", role: .viewer, action: "token.revoke",
            answer: .empty(status: .noContent)
        ) { _, context in
            guard try await store.revokeAPIToken(id: try context.require("id"), userID: context.caller.user.id) else {
                throw APIError(.notFound, "you have no live token with that id")
            }
            return Response(status: .noContent)
        }
        routes.add(.get, "/api/v1/users", "Users", role: .admin, answer: .json([PublicUser].self, status: .ok)) { _, _ in
            try JSON.response(try await store.users().map(PublicUser.init))
        }
        routes.add(
            .post, "/api/v1/auth/logout", "Sign this session out (the token stops working everywhere at once)", role: .viewer,
            action: "user.logout", answer: .empty(status: .noContent)
        ) { _, context in
            try await SessionActions.signOut(context.caller, store: store)
            return Response(status: .noContent)
        }
        routes.add(
            .post, "/api/v1/auth/refresh", "A new session token for this session's user; this one is signed out", role: .viewer,
            action: "user.refresh", answer: .json(LoginAnswer.self, status: .ok)
        ) { _, context in
            try await SessionActions.signOut(context.caller, store: store)
            return try await SessionActions.newSession(for: context.caller.user, state: state)
        }
        routes.add(
            .post, "/api/v1/auth/password", "Change my password (every other session of mine is signed out; the answer is a new token)",
            role: .viewer, action: "user.password", body: PasswordChange.self, answer: .json(LoginAnswer.self, status: .ok)
        ) { request, context in
            let body = try await APIInput.body(request, as: PasswordChange.self, context: context)
            var user = context.caller.user
            if user.provider != nil { throw APIError(.badRequest, "\(user.username) signs in with the identity provider and has no password here") }
            let stored = user.passwordHash
            guard try await BlockingIO.run({ Bcrypt.verify(body.currentPassword, hash: stored) }) else {
                throw APIError(.forbidden, "the current password is wrong")
            }
            try validate(Register(username: user.username, password: body.newPassword, role: nil))
            user.passwordHash = try await hash(body.newPassword)
            user.sessionsValidAfter = SessionActions.signOutMoment()
            try await store.saveUser(user)
            if context.caller.session != nil { try await SessionActions.signOut(context.caller, store: store) }
            return try await SessionActions.newSession(for: user, state: state)
        }
        routes.add(
            .patch, "/api/v1/users/:username", "Change a user's role or disable/enable them (admins; an enabled admin always remains)",
            role: .admin, action: "user.update", body: UserChange.self, answer: .json(PublicUser.self, status: .ok)
        ) { request, context in
            let body = try await APIInput.body(request, as: UserChange.self, context: context)
            let name = try context.require("username")
            guard try await store.user(username: name) != nil else { throw APIError(.notFound, "no user named \(name)") }
            return try JSON.response(
                PublicUser(try await CutoverServer.changeUser(in: store, username: name, role: body.role?.rawValue, disabled: body.disabled)))
        }
        routes.add(
            .delete, "/api/v1/users/:username", "Remove a user and their API tokens (admins; not yourself, not the last admin)",
            role: .admin, action: "user.delete", answer: .empty(status: .noContent)
        ) { _, context in
            let name = try context.require("username")
            guard name != context.caller.username else { throw APIError(.badRequest, "you cannot remove yourself", hint: "another admin can") }
            guard try await store.deleteUser(username: name) else { throw APIError(.notFound, "no user named \(name)") }
            return Response(status: .noContent)
        }
    }

    static func validate(_ body: Register) throws {
        guard body.username.range(of: #"^[A-Za-z0-9._@-]{2,64}$"#, options: .regularExpression) != nil else {
            throw APIError(.badRequest, "a user name is 2 to 64 letters, digits or . _ @ -")
        }
        guard body.password.count >= 8 else { throw APIError(.badRequest, "the password must have at least 8 characters") }
        // bcrypt reads 72 bytes; a longer password would be cut without a word.
        guard body.password.utf8.count <= 72 else { throw APIError(.badRequest, "the password must have at most 72 bytes") }
    }

    static func localAccountsOff(_ state: ServerState) -> APIError {
        APIError(
            .forbidden, "local accounts are turned off on this server (auth.local_accounts: false)",
            hint: state.oidc.map { "sign in with \($0.name)" } ?? "ask an admin")
    }

    static func hash(_ password: String) async throws -> String {
        try await BlockingIO.run { Bcrypt.hash(password, cost: 10) }
    }
}

/// Signing in. Every attempt is counted in the store before the password is checked, so parallel
/// guesses cannot outrun the lock; known and unknown names are counted, locked and answered alike,
/// and both pay for one bcrypt check, so neither the answer nor its time says which names exist.
enum SignIn {
    static let maxFailures = 5
    /// Checked against when the name is unknown, so both answers take as long.
    static let decoyHash = "$2b$10$CwTycUXWue0Thq9StjUM0uJ8.0ZEvcCnFXRpgMlE3qJ5iPqsYlqWu"

    static func signIn(_ body: Login, state: ServerState) async throws -> Response {
        let store = state.store
        // Names are bounded like sign-up's, so the attempts table cannot be filled with essays.
        guard !body.username.isEmpty, body.username.count <= 64, body.password.utf8.count <= 1024 else {
            throw APIError(.unauthorized, "wrong user name or password", subject: String(body.username.prefix(64)))
        }
        if case .locked(let until) = try await store.reserveSignIn(username: body.username, maxFailures: maxFailures) {
            let wait = max(1, Int((ISOTime.parse(until)?.timeIntervalSinceNow ?? 1).rounded(.up)))
            var error = APIError(.tooManyRequests, "too many failed sign-ins for \(body.username); try again in \(wait) s", subject: body.username)
            error.headers[.retryAfter] = String(wait)
            throw error
        }
        guard state.localAccounts else { throw AuthRoutes.localAccountsOff(state) }
        let user = try await store.user(username: body.username)
        // A provider's user has no password here: checked against the decoy, so it fails as slowly as a wrong one.
        let stored = user.flatMap { $0.provider == nil ? $0.passwordHash : nil } ?? decoyHash
        let matches = try await BlockingIO.run { Bcrypt.verify(body.password, hash: stored) }
        guard var user, matches, user.provider == nil else {
            throw APIError(.unauthorized, "wrong user name or password", subject: body.username)
        }
        guard !user.isDisabled else {
            throw APIError(.forbidden, "the account \(user.username) is disabled", hint: "ask an admin to enable it", subject: user.username)
        }
        try await store.clearSignInAttempts(username: user.username)
        user.lastLoginAt = ISOTime.now()
        try await store.saveUser(user)
        var response = try await SessionActions.newSession(for: user, state: state)
        response.headers[.auditSubject] = user.username
        return response
    }
}

/// Starting and ending sessions.
enum SessionActions {
    static func newSession(for user: UserRecord, state: ServerState) async throws -> Response {
        let (token, expires) = try await state.sessions.token(username: user.username)
        return try JSON.response(LoginAnswer(token: token, expiresAt: ISOTime.string(expires), user: PublicUser(user)))
    }

    /// Ends the caller's session: by its id, or — a token from before sessions had ids — every
    /// session of the user. An API token is not a session: it is revoked by its own route.
    static func signOut(_ caller: Caller, store: any MetadataStore) async throws {
        guard let session = caller.session else {
            throw APIError(.badRequest, "an API token is not a session", hint: "revoke it with DELETE /api/v1/auth/tokens/{id}")
        }
        if let id = session.id {
            try await store.revokeSession(id: id, username: caller.username, expiresAt: ISOTime.string(session.expires))
        } else {
            var user = caller.user
            user.sessionsValidAfter = signOutMoment()
            try await store.updateUserAccess(user)
        }
    }

    /// Now, to the millisecond the store keeps (rounded down, so a token signed right after the
    /// change, whose `iat` has microseconds, still counts).
    static func signOutMoment(_ now: Date = Date()) -> String {
        ISOTime.string(Date(timeIntervalSince1970: (now.timeIntervalSince1970 * 1000).rounded(.down) / 1000))
    }
}

extension CutoverServer {
    /// Adds a user to the store with a bcrypt-hashed password: `cutover users add`, for servers
    /// that do not open sign-up. The same rules as the API's (name, password length, role).
    public static func addUser(to store: any MetadataStore, username: String, password: String, role: String) async throws {
        guard let role = Role(rawValue: role) else { throw CutoverError(.usage, "role must be admin, user or viewer, not \(role)") }
        do {
            try AuthRoutes.validate(Register(username: username, password: password, role: role))
        } catch let error as APIError {
            throw CutoverError(.usage, error.message)
        }
        try await store.saveUser(UserRecord(username: username, passwordHash: try await AuthRoutes.hash(password), role: role))
    }

    /// An admin's change of a user's role and/or enabled state (`cutover users role|disable|enable`,
    /// `PATCH /users/{name}`). Disabling signs out every session; enabling does not bring them back.
    @discardableResult
    public static func changeUser(in store: any MetadataStore, username: String, role: String?, disabled: Bool?) async throws -> UserRecord {
        guard var user = try await store.user(username: username) else {
            throw CutoverError(.usage, "no user named \(username)", hint: "`cutover users list`")
        }
        if let role {
            guard let role = Role(rawValue: role) else { throw CutoverError(.usage, "role must be admin, user or viewer, not \(role)") }
            user.role = role
        }
        if let disabled {
            user.disabledAt = disabled ? (user.disabledAt ?? ISOTime.now()) : nil
            if disabled { user.sessionsValidAfter = SessionActions.signOutMoment() }
        }
        try await store.updateUserAccess(user)
        return user
    }

    /// Sets a user's password (an admin's reset from the CLI) and signs out their sessions.
    public static func setPassword(in store: any MetadataStore, username: String, password: String) async throws {
        guard var user = try await store.user(username: username) else {
            throw CutoverError(.usage, "no user named \(username)", hint: "`cutover users list`")
        }
        do {
            try AuthRoutes.validate(Register(username: username, password: password, role: nil))
        } catch let error as APIError {
            throw CutoverError(.usage, error.message)
        }
        user.passwordHash = try await AuthRoutes.hash(password)
        user.sessionsValidAfter = SessionActions.signOutMoment()
        try await store.saveUser(user)
    }
}
