import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging

/// `cutover serve`: the REST API, the event stream and the web console over one metadata store.
public enum CutoverServer {
    /// How `cutover serve` runs: address, artifacts, token secret and lifetime, sign-up.
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        public var artifactsRoot: String
        /// Signing key for session tokens; default: one generated once and kept in the store.
        public var tokenSecret: String?
        public var tokenLifetime: TimeInterval
        /// Whether the first visitor of a store without users may create the first (admin) account.
        /// Off for servers that must never open sign-up: create the admin with `cutover users add`.
        public var firstUserSignUp: Bool

        public init(
            host: String = "127.0.0.1", port: Int = 8080, artifactsRoot: String = ".cutover/runs", tokenSecret: String? = nil,
            tokenLifetime: TimeInterval = 8 * 3600, firstUserSignUp: Bool = true
        ) {
            self.host = host
            self.port = port
            self.artifactsRoot = artifactsRoot
            self.tokenSecret = tokenSecret
            self.tokenLifetime = tokenLifetime
            self.firstUserSignUp = firstUserSignUp
        }
    }

    /// The router with every API route and page (also what the HTTP tests drive).
    static func router(store: any MetadataStore, config: CutoverConfig, settings: Settings) async throws -> (Router<ServerContext>, ServerState) {
        var secret = settings.tokenSecret ?? ""
        if secret.isEmpty { secret = try await store.setting("token_secret", orInsert: SessionTokens.newSecret()) }
        let state = try ServerState(
            store: store, config: config, artifactsRoot: settings.artifactsRoot,
            sessions: await SessionTokens(secret: secret, lifetime: settings.tokenLifetime), firstUserSignUp: settings.firstUserSignUp,
            publicURL: "http://\(settings.host):\(settings.port)")
        Telemetry.bootstrap()
        let router = Router(context: ServerContext.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: CallerAuthenticator(state: state))
        router.add(middleware: RequestLogMiddleware())
        // Inside the request log, which turns errors into responses.
        router.add(middleware: RefusalAuditMiddleware(store: store))
        let routes = RouteTable(router: router, state: state)
        ServiceRoutes.register(routes)
        AuthRoutes.register(routes)
        OIDCRoutes.register(routes)
        MigrationRoutes.register(routes)
        ValidationRoutes.register(routes)
        ProjectRoutes.register(routes)
        RuleRoutes.register(routes)
        SQLRoutes.register(routes)
        CopilotRoutes.register(routes)
        TeamRoutes.register(routes)
        EventStream.register(routes)
        Batches.register(routes)
        AlertRoutes.register(routes)
        MonitoringRoutes.register(routes)
        Pages.register(router)
        // Built once at start: a type the reflector cannot describe fails here, not on a request.
        _ = try OpenAPIDocument.build(routes.endpoints)
        // Runs a server that stopped without shutting down left `running`.
        try await store.interruptRuns(ownedBy: nil)
        return (router, state)
    }

    public static func application(
        store: any MetadataStore, config: CutoverConfig, settings: Settings,
        logger: Logger = Logger(label: "cutover.server")
    ) async throws -> some ApplicationProtocol {
        let (router, state) = try await router(store: store, config: config, settings: settings)
        var app = Application(
            router: router, server: .http1WebSocketUpgrade(webSocketRouter: EventSocket.router(state: state)),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "Cutover"), logger: logger)
        app.addServices(state.jobs)
        let interval = try Age.seconds(config.alerts.interval ?? "30s", option: "alerts.interval")
        guard interval >= 1 else { throw CutoverError(.usage, "alerts.interval must be at least 1s", hint: "e.g. interval: 30s") }
        app.addServices(AlertService(store: store, config: config, interval: interval, nudge: state.jobs.jobEnded))
        if let retention = config.audit.retention {
            let seconds = try Age.seconds(retention, option: "audit.retention")
            guard seconds >= 86_400 else { throw CutoverError(.usage, "audit.retention must be at least 1d", hint: "e.g. retention: 365d") }
            app.addServices(AuditRetentionService(store: store, retention: seconds))
        }
        return app
    }
}
