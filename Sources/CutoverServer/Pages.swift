import CutoverCore
import Foundation
import Hummingbird
import NIOCore

/// The web console: each page is a server-rendered shell (navigation, title, the page's
/// containers) that `app.js` fills from the API with the token kept in the browser. No build step.
enum Pages {
    struct Page {
        var path: String
        var name: String
        var title: String
        /// Shown in the navigation.
        var nav: Bool
        var adminOnly = false
    }

    static let pages = [
        Page(path: "/", name: "overview", title: "Overview", nav: true),
        Page(path: "/migrations", name: "migrations", title: "Migrations", nav: true),
        Page(path: "/migrations/:id", name: "migration", title: "Migration", nav: false),
        Page(path: "/validations", name: "validations", title: "Validations", nav: true),
        Page(path: "/validations/:id", name: "validation", title: "Validation", nav: false),
        Page(path: "/projects", name: "projects", title: "Projects", nav: true),
        Page(path: "/projects/:id", name: "project", title: "Project", nav: false),
        Page(path: "/rules", name: "rules", title: "Rules", nav: true),
        Page(path: "/sql", name: "sql", title: "SQL runner", nav: true),
        Page(path: "/copilot", name: "copilot", title: "Copilot", nav: true),
        Page(path: "/connections", name: "connections", title: "Connections", nav: true),
        Page(path: "/monitoring", name: "monitoring", title: "Monitoring", nav: true),
        Page(path: "/workload", name: "workload", title: "Workload", nav: true),
        Page(path: "/alerts", name: "alerts", title: "Alerts", nav: true),
        Page(path: "/audit", name: "audit", title: "Audit log", nav: true, adminOnly: true),
        Page(path: "/users", name: "users", title: "Users", nav: true, adminOnly: true),
        Page(path: "/settings", name: "settings", title: "Settings", nav: true),
        Page(path: "/login", name: "login", title: "Sign in", nav: false),
    ]

    static func register(_ router: Router<ServerContext>) {
        for page in pages {
            router.get(RouterPath(page.path)) { _, context -> Response in
                html(render(page, id: context.parameters.get("id")))
            }
        }
        router.get("/favicon.ico") { _, _ -> Response in
            Response(status: .movedPermanently, headers: [.location: "/assets/favicon.svg"])
        }
        router.get("/assets/:file") { _, context -> Response in
            let name = context.parameters.get("file") ?? ""
            guard let type = assetTypes[name],
                let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Assets")
                    ?? Bundle.module.url(forResource: (name as NSString).deletingPathExtension, withExtension: (name as NSString).pathExtension),
                let data = try? Data(contentsOf: url)
            else {  // else: 404
                throw APIError(.notFound, "no asset \(name)")
            }
            return Response(
                status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
    }

    /// The files under Assets/ that are served, with their content types.
    static let assetTypes = ["app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8", "favicon.svg": "image/svg+xml"]

    static func html(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func render(_ page: Page, id: String?) -> String {
        let nav = pages.filter(\.nav).map { item in
            let current =
                item.name == page.name || (page.name == "migration" && item.name == "migrations")
                || (page.name == "validation" && item.name == "validations") || (page.name == "project" && item.name == "projects")
            return #"<a href="\#(item.path)"\#(current ? #" aria-current="page""# : "")\#(item.adminOnly ? #" data-admin"# : "")>\#(item.title)</a>"#
        }.joined(separator: "\n      ")
        let title = id.map { "\(page.title) \(escape($0))" } ?? page.title
        return """
            <!doctype html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <title>\(title) · Cutover</title>
              <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
              <link rel="stylesheet" href="/assets/app.css">
            </head>
            <body>
              <header>
                <a class="brand" href="/">Cutover</a>
                <nav>
                  \(page.name == "login" ? "" : nav)
                </nav>
                <span id="who"></span>
              </header>
              <main id="page" data-page="\(page.name)" data-id="\(escape(id ?? ""))">
                <h1>\(title)</h1>
                <div id="notice" role="status"></div>
                <div id="content"><p class="muted">Loading…</p></div>
              </main>
              <script src="/assets/app.js"></script>
            </body>
            </html>
            """
    }
}
