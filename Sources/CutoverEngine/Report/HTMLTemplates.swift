import CutoverCore
import Foundation
import Mustache

/// The HTML documents Cutover writes, as Mustache templates: the markup lives here, the values come
/// from small view types, and every value is HTML-escaped by the template engine where it is placed
/// (`{{name}}`; no template uses the unescaped `{{{…}}}`). A trailing `\` joins template lines, so
/// the pages carry no stray whitespace.
public enum HTMLTemplates {
    /// The templates, parsed once.
    static let library: Result<MustacheLibrary, any Error> = Result {
        var library = MustacheLibrary()
        try library.register(runReport, named: "run-report")
        try library.register(signOff, named: "sign-off")
        return library
    }

    /// `view` rendered with the template `name`.
    public static func render(_ name: String, _ view: Any) throws -> String {
        let library: MustacheLibrary
        do {
            library = try Self.library.get()
        } catch {
            throw CutoverError(.io, "the HTML template \(name) does not parse: \(error)", hint: "this is a bug in Cutover; report it")
        }
        guard let page = library.render(view, withTemplate: name) else {
            throw CutoverError(.io, "there is no HTML template \(name)", hint: "this is a bug in Cutover; report it")
        }
        return page
    }

    static let runReport = """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Cutover report {{id}}</title>
        <style>body{font:14px system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:1rem 0}
        td,th{border-bottom:1px solid #ddd;padding:.35rem .6rem;text-align:left}td.n{text-align:right}
        tr.failed td{background:#fbeaea}tr.warning td{background:#fff6e0}.status{font-weight:600}
        .legend span{display:inline-block;width:12px;height:12px;margin:0 .3rem 0 1rem;vertical-align:middle}</style></head>
        <body><h1>Cutover report — run {{id}}</h1>
        <p class="status">{{kind}}: {{status}} · {{passedCount}} of {{total}} passed · started {{startedAt}}</p>
        <p>source: {{source}} → target: {{target}}</p>{{#baselineSummary}}<p class="status">{{.}}</p>{{/baselineSummary}}
        <h2>Rows per table</h2><p class="legend"><span style="background:#7aa6d8"></span>source<span style="background:#5cb85c"></span>target
        <span style="background:#d9534f"></span>target (failed)</p>\
        <svg xmlns="http://www.w3.org/2000/svg" width="{{chart.width}}" height="{{chart.height}}" role="img" aria-label="rows per table">\
        {{#chart.rows}}<text x="0" y="{{textY}}" font-size="13">{{name}}</text>\
        {{#bars}}<rect x="{{x}}" y="{{y}}" width="{{width}}" height="{{height}}" fill="{{fill}}"/>\
        <text x="{{labelX}}" y="{{labelY}}" font-size="11">{{label}}</text>{{/bars}}{{/chart.rows}}</svg>
        <h2>Results</h2><table><tr><th></th><th>name</th><th>status</th><th>source rows</th><th>target rows</th><th>message</th>\
        <th>history</th>{{#hasBaseline}}<th>vs baseline</th>{{/hasBaseline}}</tr>\
        {{#rows}}<tr class="{{status}}"><td>{{mark}}</td><td>{{name}}</td><td>{{status}}</td>\
        <td class="n">{{sourceRows}}</td><td class="n">{{targetRows}}</td><td>{{message}}</td><td>{{history}}</td>\
        {{#vsBaseline}}<td>{{.}}</td>{{/vsBaseline}}</tr>{{/rows}}</table>
        <p>Generated {{generatedAt}} by Cutover.</p></body></html>
        """

    static let signOff = """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-off {{project}}</title>
        <style>body{font:14px system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:.6rem 0;width:100%}
        td,th{border-bottom:1px solid #ddd;padding:.35rem .6rem;text-align:left;vertical-align:top}th{background:#f1f3f6}
        .badge{display:inline-block;padding:.3rem 1rem;border-radius:6px;font-weight:700;font-size:1.4rem;color:#fff}
        .go{background:#1f8a4c}.nogo{background:#c62f2f}li{margin:.2rem 0}.muted{color:#666}</style></head>
        <body><h1>Sign-off — {{project}}</h1>
        <p><span class="badge {{badgeClass}}">{{badge}}</span></p>
        <p class="muted">{{source}} → {{target}} · generated {{generatedAt}} by Cutover</p>\
        {{#go}}<p>Every pipeline's last run passed and every mapping was reviewed.</p>{{/go}}\
        {{^go}}<h2>Why not</h2><ul>{{#reasons}}<li>{{.}}</li>{{/reasons}}</ul>{{/go}}\
        <h2>Pipelines</h2><table><tr><th>pipeline</th><th>last run</th><th>status</th><th>passed</th><th>failed</th><th>warned</th><th>as now</th></tr>\
        {{#pipelines}}<tr><td>{{name}}</td><td>{{run}}<br><span class="muted">{{runAt}}</span></td><td>{{status}}</td>\
        <td>{{passed}}</td><td>{{failed}}</td><td>{{warned}}</td><td>{{asNow}}</td></tr>{{/pipelines}}</table>\
        {{#mappings}}<h2>Mappings</h2><p>{{accepted}} accepted, {{excluded}} excluded, {{unreviewed}} not reviewed; \
        {{typeProblems}} accepted column(s) with a type that cannot hold every value.</p>{{/mappings}}\
        <h2>Failing checks</h2>{{^hasFailingChecks}}<p>None.</p>{{/hasFailingChecks}}\
        {{#hasFailingChecks}}<table><tr><th>pipeline</th><th>step</th><th>check</th><th>table</th><th>message</th></tr>\
        {{#failingChecks}}<tr><td>{{pipeline}}</td><td>{{step}}</td><td>{{check}}</td><td>{{table}}</td><td>{{message}}</td></tr>{{/failingChecks}}\
        </table>{{/hasFailingChecks}}\
        <h2>Pass rate of the last runs</h2>{{^trend}}<p>No runs yet.</p>{{/trend}}{{#trend}}\
        <svg xmlns="http://www.w3.org/2000/svg" width="{{width}}" height="{{height}}" role="img" aria-label="pass rate">\
        {{#gridLines}}<line x1="{{x1}}" x2="{{x2}}" y1="{{y}}" y2="{{y}}" stroke="#ddd"/><text x="0" y="{{labelY}}" font-size="11">{{label}}</text>{{/gridLines}}\
        <path d="{{path}}" fill="none" stroke="#2458d3" stroke-width="2"/>\
        {{#points}}<circle cx="{{x}}" cy="{{y}}" r="3.5" fill="#2458d3"><title>{{title}}</title></circle>{{/points}}\
        {{#first}}<text x="{{x}}" y="{{y}}" font-size="11">{{text}}</text>{{/first}}\
        {{#last}}<text x="{{x}}" y="{{y}}" font-size="11" text-anchor="end">{{text}}</text>{{/last}}</svg>{{/trend}}</body></html>
        """
}
