import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation
import Hummingbird
import NIOCore

/// Health, the OpenAPI document, environments, connections and the overview.
enum ServiceRoutes {
    static func register(_ routes: RouteTable) {
        let state = routes.state
        let store = state.store
        // Anonymous callers learn that the server and its store answer, nothing about connections.
        routes.addPublic(.get, "/health", "Whether the server and its store answer", answer: .json(Health.self, status: .ok)) { _, _ in
            try JSON.response(Health(status: "ok", store: .init(schemaVersion: try await store.schemaVersion())))
        }
        routes.addPublic(.get, "/api/v1/openapi.json", "This API as OpenAPI 3.1", answer: .content(["application/json"])) { _, _ in
            let data = try JSONSerialization.data(
                withJSONObject: try OpenAPIDocument.build(routes.endpoints), options: [.sortedKeys, .withoutEscapingSlashes])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        // Prometheus scrapes with a personal token (`authorization: {credentials: cut_…}` in its job).
        routes.add(
            .get, "/metrics", "Metrics in Prometheus' text format: runs, rows and bytes moved, chunk times, retries, checks, HTTP, store",
            role: .viewer, answer: .content([Telemetry.contentType])
        ) { _, _ in
            Telemetry.exposition()
        }
        routes.add(
            .get, "/api/v1/environments", "Environments from cutover.yml (for templated SQL)", role: .viewer,
            answer: .json(EnvironmentList.self, status: .ok)
        ) { _, _ in
            try JSON.response(
                EnvironmentList(
                    default: state.config.defaultEnvironment,
                    environments: state.config.environments.sorted { $0.key < $1.key }.map {
                        EnvironmentList.Item(name: $0.key, database: $0.value.database, schema: $0.value.schema)
                    }))
        }
        routes.add(
            .get, "/api/v1/connections", "Named connections from cutover.yml (passwords masked); check=true (users) connects to each",
            role: .viewer, answer: .json([ConnectionInfo].self, status: .ok),
            query: [.init(name: "check", kind: .boolean, description: "connect to each (users and admins)")]
        ) { request, context in
            let check = try request.flag("check")
            if check, context.caller.role < .user { throw APIError(.forbidden, "checking connections needs the user role") }
            var answer: [ConnectionInfo] = []
            for name in state.connections.names {
                var info = ConnectionInfo(name: name, url: "", engine: "")
                do {
                    let url = try state.config.resolveConnection(name)
                    info.url = url.description
                    info.engine = url.engine.rawValue
                } catch let error as CutoverError {
                    info.url = "(cannot be read: \(error.message))"
                }
                if check {
                    do {
                        info.status = try await test(name, caller: context.caller, state: state)
                    } catch let error as APIError {
                        info.status = error.message
                    }
                }
                answer.append(info)
            }
            return try JSON.response(answer)
        }
        routes.add(
            .post, "/api/v1/connections/test", "Connect to a named connection (admins: also a URL)", role: .user, action: "connection.test",
            body: ConnectionTest.self, answer: .json(ConnectionStatus.self, status: .ok, also: [.badGateway])
        ) { request, context in
            let body = try await APIInput.body(request, as: ConnectionTest.self, context: context)
            let status = try await test(body.connection, caller: context.caller, state: state)
            return try JSON.response(
                ConnectionStatus(connection: ConnectionGate.shown(body.connection), status: status),
                status: status == "ok" ? .ok : .badGateway)
        }
        routes.add(
            .post, "/api/v1/test-connections", "Connect to a migration's source and target at once (the replaced tool's path)", role: .user,
            action: "connection.test", body: ConnectionPairTest.self, answer: .json(ConnectionPairStatus.self, status: .ok, also: [.badGateway])
        ) { request, context in
            let body = try await APIInput.body(request, as: ConnectionPairTest.self, context: context)
            guard body.source != nil || body.target != nil else { throw APIError(.badRequest, "name a source, a target or both") }
            func check(_ reference: String?) async throws -> ConnectionStatus? {
                guard let reference else { return nil }
                return ConnectionStatus(
                    connection: ConnectionGate.shown(reference), status: try await test(reference, caller: context.caller, state: state))
            }
            let source = try await check(body.source), target = try await check(body.target)
            let ok = [source, target].allSatisfy { $0 == nil || $0?.status == "ok" }
            return try JSON.response(ConnectionPairStatus(source: source, target: target, ok: ok), status: ok ? .ok : .badGateway)
        }
        routes.add(
            .get, "/api/v1/overview", "KPIs, recent runs, monthly pass-rate trend, recent failures", role: .viewer,
            answer: .json(Overview.self, status: .ok)
        ) { _, _ in
            let overview = try await store.monthlyOverview(maxAge: 600, refresh: false)
            let failures = try await store.recentFailures(limit: 10, ttl: 60)
            return try JSON.response(
                Overview(
                    months: overview.months, servedFrom: overview.servedFrom, recentRuns: try await store.runs(limit: 10),
                    recentFailures: failures.failures))
        }
    }

    /// `ok`, or why connecting failed. A connection the caller may not use, or the store, is the
    /// request's error (403), not a status.
    static func test(_ reference: String, caller: Caller, state: ServerState) async throws -> String {
        let url = try await state.connections.resolve(reference, for: caller)
        do {
            _ = try await state.jobs.jobs(for: caller).connect(url, role: .source)
            return "ok"
        } catch let error as CutoverError where error.code == .notPermitted {
            throw error
        } catch let error as CutoverError {
            return error.message
        } catch {
            return error.redactedDescription
        }
    }
}
