import CutoverCore
import CutoverEngine
import CutoverStore
import Foundation
import Hummingbird

/// The rulebook: read by everyone, added to by users, a rule deleted by whoever added it or an admin.
enum RuleRoutes {
    static func register(_ routes: RouteTable) {
        let state = routes.state
        let store = state.store
        routes.add(.get, "/api/v1/rules", "The rulebook", role: .viewer, answer: .json([StoredRule].self, status: .ok)) { _, _ in
            try JSON.response(try await store.rules())
        }
        routes.add(
            .get, "/api/v1/rules/history", "Every version of one rule, newest first", role: .viewer,
            answer: .json([StoredRule].self, status: .ok), query: [.init(name: "name", kind: .string, description: "the rule's name")]
        ) { request, _ in
            guard let name = try request.query("name"), !name.isEmpty else { throw APIError(.badRequest, "name= the rule's name") }
            let versions = try await store.ruleVersions(name: name)
            guard !versions.isEmpty else { throw APIError(.notFound, "no rule named \(name)", hint: "GET /api/v1/rules lists them") }
            return try JSON.response(versions)
        }
        routes.add(
            .get, "/api/v1/rules/registry", "The imported rulebook registry: expectations per suite, each with the Cutover check that does its job",
            role: .viewer, answer: .json([RegistryRuleRecord].self, status: .ok),
            query: [.init(name: "suite", kind: .string, description: "only this suite")]
        ) { request, _ in
            try JSON.response(try await store.registryRules(suite: try request.query("suite")))
        }
        routes.add(
            .post, "/api/v1/rules", "Add a rule, or change the rule of that name (a new version; its owner or an admin)", role: .user,
            action: "rule.create", body: Rule.self, answer: .json(StoredRule.self, status: .created, also: [.ok])
        ) { request, context in
            let rule = try await APIInput.body(request, as: Rule.self, context: context, snakeCase: false)
            guard !rule.name.trimmingCharacters(in: .whitespaces).isEmpty, rule.name.count <= 200 else {
                throw APIError(.badRequest, "a rule needs a name of 1 to 200 characters")
            }
            guard !rule.sql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw APIError(.badRequest, "a rule needs its SQL") }
            var stored = try rule.stored()
            stored.createdBy = context.caller.username
            stored.updatedBy = context.caller.username
            let existing = try await store.rules().filter { $0.name == rule.name }
            if let owned = existing.first(where: { !context.caller.mayChange(ownedBy: $0.createdBy) }),
                !existing.contains(where: { $0.contentHash == stored.contentHash })
            {
                throw APIError(
                    .forbidden, "rule \(rule.name) belongs to \(owned.createdBy ?? "the command line"); only they or an admin may change it",
                    hint: "save it under another name")
            }
            let saved = try await store.saveRules([stored])
            let current = try await store.ruleVersions(name: rule.name).first ?? stored
            return try JSON.response(current, status: saved == 1 && existing.isEmpty ? .created : .ok)
        }
        routes.add(
            .delete, "/api/v1/rules/:hash", "Delete a rule (whoever added it, or an admin)", role: .user, action: "rule.delete",
            answer: .empty(status: .noContent)
        ) { _, context in
            let hash = try context.require("hash")
            guard let rule = try await store.rule(contentHash: hash) else { throw APIError(.notFound, "no rule with hash \(hash)") }
            guard context.caller.mayChange(ownedBy: rule.createdBy) else {
                throw APIError(
                    .forbidden, "rule \(rule.name) was added by \(rule.createdBy ?? "the command line"); only they or an admin may delete it")
            }
            _ = try await store.deleteRule(contentHash: hash)
            return Response(status: .noContent)
        }
        routes.add(
            .post, "/api/v1/rules/run", "Run the rulebook (or the named rules) on source and/or target", role: .user, action: "rule.run",
            body: RunRules.self, answer: .json(RulesOutcome.self, status: .ok)
        ) { request, context in
            let body = try await APIInput.body(request, as: RunRules.self, context: context)
            let rules = try await store.rules().filter { body.names?.contains($0.name) ?? true }.map(Rule.init(stored:))
            guard !rules.isEmpty else { throw APIError(.badRequest, "no rules to run", hint: "add rules with POST /api/v1/rules") }
            var source: ConnectionURL?
            var target: ConnectionURL?
            if let name = body.source { source = try await state.connections.resolve(name, for: context.caller) }
            if let name = body.target { target = try await state.connections.resolve(name, for: context.caller) }
            let outcome = try await state.jobs.jobs(for: context.caller).runRules(
                rules, source: source, target: target, config: state.config,
                environment: body.environment)
            return try JSON.response(RulesOutcome(runId: outcome.runID, results: outcome.results))
        }
    }
}

extension Rule {
    init(stored: StoredRule) {
        self.init(
            name: stored.name, description: stored.description, severity: stored.severity, sql: stored.sql,
            warnIf: stored.warnIf, errorIf: stored.errorIf, side: stored.side, category: stored.category)
    }
}
