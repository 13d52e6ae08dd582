import Foundation

/// The OpenAPI 3.1 document of the registered routes: paths, path and query parameters, request
/// and answer bodies (reflected from the Swift types the routes decode and encode), roles and the
/// error body every failure carries.
enum OpenAPIDocument {
    static func build(_ endpoints: [Endpoint]) throws -> [String: Any] {
        var paths: [String: [String: Any]] = [:]
        for endpoint in endpoints {
            let path = endpoint.path.replacingOccurrences(of: #":(\w+)"#, with: "{$1}", options: .regularExpression)
            var parameters: [[String: Any]] = endpoint.path.split(separator: "/").filter { $0.hasPrefix(":") }.map {
                ["name": String($0.dropFirst()), "in": "path", "required": true, "schema": ["type": "string", "minLength": 1]]
            }
            for parameter in endpoint.query {
                var schema: [String: Any] = ["type": parameter.kind.rawValue]
                if let range = parameter.range {
                    schema["minimum"] = range.lowerBound
                    schema["maximum"] = range.upperBound
                }
                if let values = parameter.values { schema["enum"] = values }
                parameters.append([
                    "name": parameter.name, "in": "query", "required": parameter.required, "description": parameter.description,
                    "schema": schema,
                ])
            }
            var responses: [String: Any] = [
                "default": ["description": "an error", "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]]
            ]
            switch endpoint.answer {
            case .json(let type, let status, let also):
                let body = try schema(type)
                for status in [status] + also {
                    responses[String(status.code)] = ["description": status.reasonPhrase, "content": ["application/json": ["schema": body]]]
                }
            case .empty(let status):
                responses[String(status.code)] = ["description": status.reasonPhrase]
            case .content(let types):
                responses["200"] = ["description": "OK", "content": Dictionary(uniqueKeysWithValues: types.map { ($0, [String: Any]()) })]
            }
            var operation: [String: Any] = [
                "summary": endpoint.summary, "responses": responses,
                "operationId": endpoint.method.rawValue.lowercased()
                    + endpoint.path.replacingOccurrences(of: #"[^A-Za-z0-9]+"#, with: "_", options: .regularExpression),
            ]
            if !parameters.isEmpty { operation["parameters"] = parameters }
            if let body = endpoint.body {
                operation["requestBody"] = ["required": true, "content": ["application/json": ["schema": try schema(body)]]]
            }
            if let role = endpoint.role {
                operation["security"] = [["bearer": []]]
                operation["x-role"] = role.rawValue
            }
            paths[path, default: [:]][endpoint.method.rawValue.lowercased()] = operation
        }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "Cutover API", "version": "1.0.0",
                "description":
                    "Run and watch migrations and validations. Sign in with POST /api/v1/auth/login and send the token as `Authorization: Bearer …`.",
            ],
            "paths": paths,
            "components": [
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT or cut_ API token"]],
                "schemas": ["Error": try schema(JSON.ErrorBody.self)],
            ],
        ]
    }

    static func schema(_ type: any Decodable.Type) throws -> [String: Any] {
        try SchemaReflector.schema(of: type, keySpelling: JSON.spell)
    }
}
