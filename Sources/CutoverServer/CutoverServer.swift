import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging

/// `cutover serve`: the REST API, the event stream and the web console over one metadata store.
public enum CutoverServer {
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        public var artifactsRoot: String
        /// Signing key for session tokens; default: one generated once and kept in the store.
        public var tokenSecret: String?
        public var tokenLifetime: TimeInterval

        public init(host: String = "127.0.0.1", port: Int = 8080, artifactsRoot: String = ".cutover/runs", tokenSecret: String? = nil,
                    tokenLifetime: TimeInterval = 8 * 3600) {
            self.host = host
            self.port = port
            self.artifactsRoot = artifactsRoot
            self.tokenSecret = tokenSecret
            self.tokenLifetime = tokenLifetime
        }
    }

    /// The router with every API route and page (also what the HTTP tests drive).
    static func router(store: any MetadataStore, config: CutoverConfig, settings: Settings) async throws -> (Router<ServerContext>, ServerState) {
        var secret = settings.tokenSecret ?? ""
        if secret.isEmpty { secret = try await store.setting("token_secret", orInsert: TokenSigner.newSecret()) }
        let state = ServerState(store: store, config: config, artifactsRoot: settings.artifactsRoot,
                                signer: TokenSigner(secret: secret, lifetime: settings.tokenLifetime))
        let router = Router(context: ServerContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: AuthMiddleware(state: state))
        let routes = RouteTable(router: router, state: state)
        Routes.register(routes)
        Batches.register(routes)
        Pages.register(router)
        return (router, state)
    }

    public static func application(store: any MetadataStore, config: CutoverConfig, settings: Settings,
                                   logger: Logger = Logger(label: "cutover.server")) async throws -> some ApplicationProtocol {
        let (router, state) = try await router(store: store, config: config, settings: settings)
        return Application(router: router, server: .http1WebSocketUpgrade { request, _, _ in try await EventSocket.shouldUpgrade(request, state: state) },
                           configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "Cutover"), logger: logger)
    }
}
