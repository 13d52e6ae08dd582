import CutoverCore
import Foundation
import Hummingbird
import Mustache
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
                html(try render(page, id: context.parameters.get("id")))
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

    /// The shell of every console page; the values are escaped by the template engine.
    static let template = """
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <meta name="viewport" content="width=device-width, initial-scale=1">
          <title>{{title}} · Cutover</title>
          <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
          <link rel="stylesheet" href="/assets/app.css">
        </head>
        <body>
          <header>
            <a class="brand" href="/">Cutover</a>
            <nav>
              {{#nav}}{{^first}}
              {{/first}}<a href="{{path}}"{{#current}} aria-current="page"{{/current}}{{#adminOnly}} data-admin{{/adminOnly}}>{{title}}</a>{{/nav}}
            </nav>
            <span id="who"></span>
          </header>
          <main id="page" data-page="{{name}}" data-id="{{id}}">
            <h1>{{title}}</h1>
            <div id="notice" role="status"></div>
            <div id="content"><p class="muted">Loading…</p></div>
          </main>
          <script src="/assets/app.js"></script>
        </body>
        </html>
        """
    static let shell: Result<MustacheTemplate, any Error> = Result { try MustacheTemplate(string: template) }

    struct Shell {
        struct Link {
            var path: String, title: String
            var current: Bool, adminOnly: Bool, first: Bool
        }
        var title: String, name: String, id: String
        var nav: [Link]
    }

    static func render(_ page: Page, id: String?) throws -> String {
        let links = page.name == "login" ? [] : pages.filter(\.nav)
        let nav = links.enumerated().map { index, item in
            Shell.Link(
                path: item.path, title: item.title,
                current: item.name == page.name || (page.name == "migration" && item.name == "migrations")
                    || (page.name == "validation" && item.name == "validations") || (page.name == "project" && item.name == "projects"),
                adminOnly: item.adminOnly, first: index == 0)
        }
        let shell = Shell(title: id.map { "\(page.title) \($0)" } ?? page.title, name: page.name, id: id ?? "", nav: nav)
        return try Self.shell.get().render(shell)
    }
}
