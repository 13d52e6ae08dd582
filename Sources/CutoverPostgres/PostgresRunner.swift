import CutoverCore

extension PostgresConnector {
    /// The SQL runner's statement. Read-only: a `READ ONLY` transaction, always rolled back, in which
    /// the statement is declared as a cursor — `DECLARE … CURSOR FOR` takes only a query, and the
    /// extended protocol takes only one statement — and fetched up to the row limit. Writing (admins):
    /// the one statement in a transaction that commits. Both under `statement_timeout`.
    public func run(_ query: RunnerQuery) async throws -> RunnerAnswer {
        let url = url
        return try await BlockingIO.run {
            let session = try PostgresSession(url: url)
            try session.execute(query.readOnly ? "BEGIN TRANSACTION READ ONLY" : "BEGIN")
            do {
                try session.execute("SET LOCAL statement_timeout = \(max(1, Int(query.timeout * 1000)))")
                let warnings = try Self.roleWarnings(session, query: query, user: url.user ?? "the connection's user")
                var answer: RunnerAnswer
                if query.readOnly {
                    try session.query("DECLARE cutover_runner NO SCROLL CURSOR FOR " + query.sql, [])
                    let result = try session.query("FETCH FORWARD \(query.maxRows + 1) FROM cutover_runner", [])
                    answer = RunnerAnswer(
                        columns: result.columns, rows: result.rows.prefix(query.maxRows).map { $0.map { $0.map(Value.text) ?? .null } },
                        truncated: result.rows.count > query.maxRows)
                    try session.execute("ROLLBACK")
                } else {
                    let result = try session.query(query.sql, [])
                    answer = RunnerAnswer(
                        columns: result.columns, rows: result.rows.prefix(query.maxRows).map { $0.map { $0.map(Value.text) ?? .null } },
                        truncated: result.rows.count > query.maxRows, affectedRows: result.affectedRows)
                    try session.execute("COMMIT")
                }
                answer.warnings = warnings
                return answer
            } catch let error as CutoverError {
                _ = try? session.execute("ROLLBACK")  // the session is closed next; a failed rollback changes nothing
                throw Self.runnerError(error, query: query)
            }
        }
    }

    /// What the signed-in role may do beyond reading: refused (superuser, server files, programs)
    /// when asked, otherwise reported.
    static func roleWarnings(_ session: PostgresSession, query: RunnerQuery, user: String) throws -> [String] {
        guard query.refusePrivilegedRole || query.reportRole else { return [] }
        let row =
            try session.query(
                """
                SELECT r.rolsuper,
                       EXISTS (SELECT 1 FROM pg_roles s WHERE s.rolname IN ('pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program')
                               AND pg_has_role(current_user, s.oid, 'USAGE')),
                       has_database_privilege(current_database(), 'CREATE')
                       OR EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
                                  AND has_schema_privilege(n.oid, 'CREATE'))
                       OR EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                  WHERE c.relkind IN ('r', 'p') AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
                                  AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE'))
                FROM pg_roles r WHERE r.rolname = current_user
                """, []
            ).rows.first ?? []
        let superuser = row.first == "t", serverAccess = row.count > 1 && row[1] == "t", canWrite = row.count > 2 && row[2] == "t"
        if (superuser || serverAccess) && query.refusePrivilegedRole {
            throw CutoverError(
                .notPermitted,
                "this connection signs in as \(user), a role that \(superuser ? "is a superuser" : "may read or write the server's files")",
                hint: "give the SQL runner's connection a role that can only read (an admin may still run queries on this one)")
        }
        guard query.reportRole else { return [] }
        var warnings: [String] = []
        if superuser || serverAccess { warnings.append("the role \(user) \(superuser ? "is a superuser" : "may read or write the server's files")") }
        if canWrite {
            warnings.append(
                "the role \(user) can write in this database: the runner's read-only transaction protects this query, "
                    + "but the role is the real boundary — give the runner a role that can only read")
        }
        return warnings
    }

    static func runnerError(_ error: CutoverError, query: RunnerQuery) -> CutoverError {
        switch error.context["sqlstate"] {
        case "57014":
            return CutoverError(
                .query, "the query was cancelled after \(Int(query.timeout)) s", hint: "narrow it down, or add a LIMIT", context: error.context)
        case "25006":
            return CutoverError(
                .notPermitted, "the SQL runner is read-only: \(error.message)", hint: "run a query (SELECT, WITH, VALUES, TABLE)",
                context: error.context)
        case "42601" where error.message.contains("multiple commands"):
            return CutoverError(
                .notPermitted, "the SQL runner runs one statement at a time", hint: "send the statements one by one", context: error.context)
        case "42601" where query.readOnly:
            return CutoverError(
                error.code, error.message,
                hint: "the SQL runner runs one query (SELECT, WITH, VALUES or TABLE); "
                    + "statements that change data or the schema are for admins", context: error.context)
        default:
            return error
        }
    }
}
