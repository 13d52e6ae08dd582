import CutoverStore
import Foundation

extension MetadataStore {
    /// The newest of the last 500 runs that `matches` and kept `name` in the store, with that
    /// artifact decoded (Cutover wrote it as `T`, so one that does not decode is an error).
    func latestArtifact<T: Decodable>(
        _ name: String, as type: T.Type, of matches: (RunRecord) -> Bool
    ) async throws -> (runID: String, value: T)? {
        for run in try await runs(limit: 500) where matches(run) {
            guard let content = try await artifact(runID: run.id, name: name)?.content else { continue }
            return (run.id, try JSONDecoder().decode(T.self, from: content))
        }
        return nil
    }
}
