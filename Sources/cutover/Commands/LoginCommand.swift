import ArgumentParser
import CutoverCore
import CutoverServer
import Foundation

struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Sign in with the identity provider from a terminal and print the access token for scripts.",
        discussion: """
            Opens nothing itself: it prints the provider's sign-in URL (to standard error); open it in a browser on this \
            machine, sign in, and the browser comes back to a port on 127.0.0.1 that this command opened for the one sign-in \
            (authorization code flow with PKCE, RFC 8252; register http://127.0.0.1/auth/oidc/callback — any port — as a \
            redirect URI). The ID token is checked like the server's. The provider defaults to auth.oidc in cutover.yml.

              eval "$(cutover login)"            # sets CUTOVER_ACCESS_TOKEN for this shell
              cutover migrate --target warehouse  # a connection with authenticator=oauth&token=from-login uses it

            The token is printed, never written to a file. Exit 3 when the sign-in fails or nobody comes back in --timeout.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "The provider's issuer URL (default: auth.oidc.issuer).") var issuer: String?
    @Option(name: .long, help: "The client id registered for Cutover (default: auth.oidc.client_id).") var clientID: String?
    @Option(name: .long, help: "Environment variable holding the client secret, if the client has one (default: auth.oidc.client_secret).")
    var clientSecretEnv: String?
    @Option(name: .long, help: "A scope to ask for (repeatable; default: auth.oidc.scopes or openid profile email).") var scope: [String] = []
    @Option(name: .long, help: "env (an export line for eval) or json.") var format: LoginFormat = .env
    @Option(name: .long, help: "Seconds to wait for the browser to come back.") var timeout: Int = 300

    enum LoginFormat: String, ExpressibleByArgument { case env, json }

    func run() async throws {
        let config = try global.loadConfig()
        let configured = config.auth.oidc
        guard let issuer = issuer ?? configured?.issuer, let clientID = clientID ?? configured?.clientID else {
            throw CutoverError(.usage, "name the provider: --issuer URL --client-id ID, or auth.oidc in cutover.yml")
        }
        var oidc = CutoverConfig.OIDCConfig(issuer: issuer, clientID: clientID)
        oidc.clientSecret = clientSecretEnv.map { "${\($0)}" } ?? (configured?.issuer == issuer ? configured?.clientSecret : nil)
        oidc.scopes = scope.isEmpty ? configured?.scopes : scope
        let result = try await OIDCLogin.login(config: oidc, timeout: TimeInterval(timeout)) { url in
            Terminal.error("Open this URL in a browser on this machine to sign in:\n  \(url)")
        }
        switch format {
        case .json:
            // Written directly: terminal output masks token-like text, and printing the token is this command's job.
            FileHandle.standardOutput.write(Data(try JSONEncoder.cli.encode(result)))
            FileHandle.standardOutput.write(Data("\n".utf8))
        case .env:
            FileHandle.standardOutput.write(Data("export \(OIDCLogin.environmentVariable)='\(result.accessToken)'\n".utf8))
        }
        Terminal.error("signed in as \(result.username ?? result.subject) at \(result.issuer); the token expires at \(result.expiresAt)")
    }
}
