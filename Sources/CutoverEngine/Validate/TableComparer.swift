import CutoverCore
import CutoverStore
import Foundation

/// The result of comparing one table on both sides.
public struct TableComparison: Sendable, Codable {
    /// A row whose key exists on both sides with different values, and which columns differ.
    public struct ChangedRow: Sendable, Codable {
        public var key: String
        public var columns: [String]
        /// Canonical forms of the differing values (what was compared).
        public var source: [String: String]
        public var target: [String: String]
        /// SQL that fetches the row as stored, on each side.
        public var sourceSQL: String?
        public var targetSQL: String?

        /// `amount 0.00188 → 0.002, name a → ∅, note '' → ' a'`: each differing value on both sides;
        /// NULL as ∅, and quoted where a value is empty or starts or ends with blanks.
        public var differences: String {
            columns.map { "\($0) \(TableComparison.shown(source[$0])) → \(TableComparison.shown(target[$0]))" }.joined(separator: ", ")
        }
    }

    public var table: String
    public var target: String
    public var status: CheckStatus
    public var method: String
    public var sourceRows: Int64
    public var targetRows: Int64
    public var missing: Int64
    public var extra: Int64
    public var changed: Int64
    /// Samples, at most ``TableComparer/sampleLimit`` of each.
    public var missingKeys: [String]
    public var extraKeys: [String]
    public var changedRows: [ChangedRow]
    /// Every column that differs in some changed row — all of them, not only the samples' — with
    /// how many rows it differs in.
    public var changedColumns: [String: Int64] = [:]
    /// Rows that differ exactly but are equal under the tolerances, and which rule hid them.
    public var tolerated: Int64 = 0
    public var toleratedRows: [ToleratedRow] = []
    public var sampleLimit: Int
    public var sourceFingerprint: String
    public var targetFingerprint: String
    public var seconds: Double
    public var message: String
    /// At what point each side was read.
    public var consistency: String = TableComparer.consistency

    public var passed: Bool { status == .passed }

    /// A row that differs exactly but is equal under the tolerances, and which rule hid it.
    public struct ToleratedRow: Sendable, Codable {
        public var key: String
        /// Column → the tolerance that hid its difference.
        public var hiddenBy: [String: String]
        public var source: [String: String]
        public var target: [String: String]

        public var differences: String {
            hiddenBy.keys.sorted().map { "\($0) \(TableComparison.shown(source[$0])) ≈ \(TableComparison.shown(target[$0])) (\(hiddenBy[$0] ?? ""))" }
                .joined(separator: ", ")
        }
    }

    /// A canonical value as a line shows it: ∅ for NULL, quoted when blanks at its ends (or nothing
    /// at all) would otherwise be invisible.
    static func shown(_ value: String?) -> String {
        guard let value else { return "∅" }
        return value.isEmpty || value.first?.isWhitespace == true || value.last?.isWhitespace == true ? "'\(value)'" : value
    }

    /// The sampled keys and values that differ, one line each, for a terminal.
    public var findings: [String] { findings(detailed: false) }

    /// The findings; `detailed` adds, under each changed row, the SQL fetching it on each side,
    /// and the rows a tolerance hid (what `cutover diff` shows).
    public func findings(detailed: Bool) -> [String] {
        var lines: [String] = []
        if !missingKeys.isEmpty { lines.append("missing at the target (\(missing)): " + missingKeys.joined(separator: "; ")) }
        if !extraKeys.isEmpty { lines.append("extra at the target (\(extra)): " + extraKeys.joined(separator: "; ")) }
        for row in changedRows {
            lines.append("changed \(row.key): \(row.differences)")
            guard detailed else { continue }
            if let sql = row.sourceSQL { lines.append("  source: \(sql)") }
            if let sql = row.targetSQL { lines.append("  target: \(sql)") }
        }
        if detailed { lines += toleratedRows.map { "tolerated \($0.key): \($0.differences)" } }
        if Int64(missingKeys.count + extraKeys.count + changedRows.count) < missing + extra + changed {
            lines.append("(showing at most \(sampleLimit) of each kind)")
        }
        return lines
    }
}

/// Compares a source table with its target row by row: both sides are read sorted by the key (in
/// byte order for text, so engines agree), every row is canonicalised and hashed, and the two
/// streams are merged. Memory is one batch per side, whatever the table size. Tables without a
/// key are compared as multisets by fingerprint.
public struct TableComparer: Sendable {
    public static let sampleLimit = 20
    /// Each side is read by one statement (PostgreSQL `COPY (SELECT …)`, one SQLite `SELECT`), which
    /// sees one snapshot of that database; the two sides are not synchronised with each other.
    public static let consistency = "each side read by a single statement: a consistent snapshot per side, taken when its read started"
    public var source: any Connector
    public var target: any Connector
    public var batchSize = 10_000
    public var tolerances: Tolerances
    public var strategy: Strategy = .auto

    /// How rows are compared. `merge` streams both sides; `bisect` compares checksums of key ranges
    /// computed inside each database and streams only the ranges that differ; `auto` bisects
    /// where it can — a single integer key, and every column either the same type on one engine (the
    /// engine's own row hash) or in a ``ChecksumForm`` both engines compute (portable checksums) —
    /// on tables larger than ``mergeBelow`` rows.
    public enum Strategy: String, Sendable, CaseIterable { case auto, merge, bisect }
    /// Ranges split into this many parts at each level of bisection below the top...
    public var fanOut: Int64 = 32
    /// ...and the whole key range into this many: one aggregate query per side returns them all, and
    /// on tables up to about 20 million rows a differing part is already small enough to merge.
    public var topFanOut: Int64 = 1024
    /// A differing range with at most this many rows is compared row by row instead of split again.
    public var mergeBelow: Int64 = 20_000
    /// The top level's checksum queries run in this many parts at once on each side.
    public var topParallelism = max(2, ProcessInfo.processInfo.activeProcessorCount)

    public init(source: any Connector, target: any Connector, tolerances: Tolerances = Tolerances()) {
        self.source = source
        self.target = target
        self.tolerances = tolerances
    }

    /// Compares the table, or only the rows whose single integer key lies in `keyRange` (a sample).
    public func compare(_ tablePlan: TablePlan, _ table: Table, keyRange: Range<Int64>? = nil) async throws -> TableComparison {
        // Read once: it names the target's columns as they are spelled there and gives their types.
        let targetTable = keyRange == nil ? try await target.describe(tablePlan.target) : nil
        let tablePlan = try targetTable.map { try Self.resolvingTargetColumns(tablePlan, in: $0) } ?? tablePlan
        // A table no larger than one merged range gains nothing from checksumming it first.
        let worthBisecting = strategy == .bisect || (strategy == .auto && (tablePlan.estimatedRows ?? .max) > mergeBelow)
        var fallback: String?
        if keyRange == nil, worthBisecting {
            switch checksumMethod(tablePlan, table, targetTable: targetTable) {
            case .success(let method):
                do {
                    return try await bisectAtOneMoment(tablePlan, table, method)
                } catch let error as CutoverError where strategy == .auto && [.query, .valueDoesNotFit, .tableNotFound].contains(error.code) {
                    // An engine refused the checksum SQL (PostgreSQL before 13 has no trim_scale, an
                    // 'infinity' date has no day number; Snowflake reports a missing function as a
                    // missing object): `auto` still owes an answer, and the merge asks nothing special.
                    fallback = "checksum bisection failed (\(error.redactedDescription)), so both sides were merged"
                }
            case .failure(let refusal) where strategy == .bisect:
                throw CutoverError(
                    .usage, "cannot bisect \(tablePlan.source): \(refusal.reason)",
                    hint: "use --strategy merge (or auto), or leave the column out with --columns")
            case .failure: break
            }
        }
        let started = Date()
        let sourceColumns = tablePlan.columns.compactMap { table.column(named: $0.column) }
        var targetColumns = sourceColumns
        for index in targetColumns.indices { targetColumns[index].name = tablePlan.columns[index].targetColumn }
        let types = sourceColumns.map(\.canonical)
        // PostgreSQL on both sides with the same declared type renders equal values identically —
        // except an unconstrained numeric, which keeps each value's own scale (2.5 and 2.50 are one number).
        let samePostgres = source.url.engine == .postgres && target.url.engine == .postgres
        let raw = zip(tablePlan.columns, types).map { mapping, type in
            if case .decimal(_, nil) = type { return false }
            return samePostgres && mapping.sourceType.lowercased() == mapping.targetType.lowercased()
        }
        let keyIndexes = (tablePlan.key ?? []).compactMap { key in sourceColumns.firstIndex { $0.name == key } }
        let keyed = !keyIndexes.isEmpty
        let sourceOrder = keyIndexes.map { sourceColumns[$0] }
        let targetOrder = keyIndexes.map { targetColumns[$0] }

        var result = TableComparison(
            table: tablePlan.source.description, target: tablePlan.target.description, status: .passed,
            method: keyed ? "row hash merge by key (\(tablePlan.key!.joined(separator: ", ")))" : "multiset fingerprint (no key)",
            sourceRows: 0, targetRows: 0, missing: 0, extra: 0, changed: 0, missingKeys: [], extraKeys: [], changedRows: [],
            sampleLimit: Self.sampleLimit, sourceFingerprint: "", targetFingerprint: "", seconds: 0, message: "")

        func rangeFilter(_ key: [Column]) -> RowFilter? {
            guard let keyRange, let column = key.first else { return nil }
            return RowFilter(terms: [
                .init(column: column.name, .greaterOrEqual, String(keyRange.lowerBound), isNumeric: true),
                .init(column: column.name, .less, String(keyRange.upperBound), isNumeric: true),
            ])
        }
        var left = RowCursor(
            source.read(
                ReadRequest(
                    table: tablePlan.source, columns: sourceColumns, orderBy: sourceOrder, batchSize: batchSize,
                    filter: rangeFilter(sourceOrder))), types: types, raw: raw)
        var right = RowCursor(
            target.read(
                ReadRequest(
                    table: tablePlan.target, columns: targetColumns, orderBy: targetOrder, batchSize: batchSize,
                    filter: rangeFilter(targetOrder))), types: types, raw: raw)
        var sourcePrint = MultisetFingerprint(), targetPrint = MultisetFingerprint()
        var a = try await left.next(), b = try await right.next()
        while a != nil || b != nil {
            let order: Int
            switch (a, b) {
            case (let x?, let y?): order = keyed ? Self.compareKeys(x, y, keyIndexes, types) : 0
            case (.some, nil): order = -1
            default: order = 1
            }
            if order <= 0, let row = a { sourcePrint.add(row.digest) }
            if order >= 0, let row = b { targetPrint.add(row.digest) }
            if !keyed {
                // Without a key only the fingerprints say anything; consume both sides in step.
                if a != nil { a = try await left.next() }
                if b != nil { b = try await right.next() }
            } else if order < 0 {
                result.missing += 1
                if result.missingKeys.count < Self.sampleLimit { result.missingKeys.append(Self.keyText(a!, keyIndexes, sourceColumns)) }
                a = try await left.next()
            } else if order > 0 {
                result.extra += 1
                if result.extraKeys.count < Self.sampleLimit { result.extraKeys.append(Self.keyText(b!, keyIndexes, sourceColumns)) }
                b = try await right.next()
            } else {
                if a!.digest != b!.digest {
                    let hidden = toleratedDifferences(a!, b!, sourceColumns)
                    if let hidden {
                        result.tolerated += 1
                        if result.toleratedRows.count < Self.sampleLimit {
                            let diff = Self.difference(a!, b!, keyIndexes, sourceColumns)
                            result.toleratedRows.append(.init(key: diff.key, hiddenBy: hidden, source: diff.source, target: diff.target))
                        }
                    }
                    if hidden == nil || tolerances.strict {
                        result.changed += 1
                        for index in sourceColumns.indices where a!.differs(from: b!, at: index) {
                            result.changedColumns[sourceColumns[index].name, default: 0] += 1
                        }
                        if result.changedRows.count < Self.sampleLimit {
                            var changed = Self.difference(a!, b!, keyIndexes, sourceColumns)
                            changed.sourceSQL = Self.fetchSQL(source.dialect, tablePlan.source, keyIndexes.map { (sourceColumns[$0], a!.values[$0]) })
                            changed.targetSQL = Self.fetchSQL(target.dialect, tablePlan.target, keyIndexes.map { (targetColumns[$0], a!.values[$0]) })
                            result.changedRows.append(changed)
                        }
                    }
                }
                a = try await left.next()
                b = try await right.next()
            }
        }
        result.sourceRows = sourcePrint.rows
        result.targetRows = targetPrint.rows
        result.sourceFingerprint = sourcePrint.description
        result.targetFingerprint = targetPrint.description
        if keyed {
            summarizeKeyed(&result)
        } else {
            let differs = sourcePrint != targetPrint
            result.status = differs ? .failed : .passed
            result.message =
                differs
                ? "contents differ (\(Format.count(result.sourceRows)) source rows, \(Format.count(result.targetRows)) target rows); without a key the differing rows cannot be listed"
                : "\(Format.count(result.sourceRows)) rows identical as a multiset"
        }
        if let fallback { result.method += "; " + fallback }
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    /// How each side computes a key range's checksum inside its database.
    enum ChecksumMethod: Sendable {
        /// The engine's own row hash: both sides are one engine with the same column types.
        case native
        /// ``PortableChecksum`` with each column in its ``ChecksumForm``: any two engines.
        case portable([ChecksumForm])

        var summary: String {
            switch self {
            case .native: return "the engine's own row hashes"
            case .portable: return "portable MD5 row checksums"
            }
        }
    }

    /// How checksum bisection can serve this table, or why it cannot.
    func checksumMethod(_ tablePlan: TablePlan, _ table: Table, targetTable: Table?) -> Result<ChecksumMethod, ChecksumForm.Refusal> {
        func refuse(_ reason: String) -> Result<ChecksumMethod, ChecksumForm.Refusal> { .failure(.init(reason: reason)) }
        guard let key = tablePlan.key, key.count == 1, let column = table.column(named: key[0]), case .integer = column.canonical else {
            return refuse("it needs a single integer key")
        }
        let sameTypes = tablePlan.columns.allSatisfy { $0.sourceType.lowercased() == $0.targetType.lowercased() }
        if source.url.engine == target.url.engine, sameTypes,
            source.dialect.rangeChecksumSQL(tablePlan.source, columns: [("x", "bigint")], key: "x", range: 0..<1, width: 1) != nil
        {
            return .success(.native)
        }
        for side in [source, target] where side.dialect.portableChecksumSQL(tablePlan.source, columns: [], key: "x", range: 0..<1, width: 1) == nil {
            return refuse("\(side.url.engine.rawValue) has no in-database checksum here")
        }
        guard let targetTable else { return refuse("the target table \(tablePlan.target) was not found to read its column types") }
        var forms: [ChecksumForm] = []
        for mapping in tablePlan.columns {
            switch Self.checksumForm(mapping, source: table, target: targetTable) {
            case .success(let (form, sourceColumn, targetColumn)):
                for (side, type) in [(source, sourceColumn.nativeType), (target, targetColumn.nativeType)]
                where side.dialect.portableChecksumSQL(tablePlan.source, columns: [(mapping.column, form, type)], key: "x", range: 0..<1, width: 1)
                    == nil
                {
                    return refuse("column \(mapping.column): \(side.url.engine.rawValue) cannot checksum \(form.valuesName) inside the database")
                }
                forms.append(form)
            case .failure(let refusal): return .failure(refusal)
            }
        }
        return .success(.portable(forms))
    }

    /// The form both sides of one planned column are checksummed in, with the column on each side;
    /// or why it has none. `target` names its columns as the plan's target columns do.
    static func checksumForm(
        _ mapping: MappingDecision, source: Table, target: Table
    ) -> Result<
        (form: ChecksumForm, source: Column, target: Column), ChecksumForm.Refusal
    > {
        guard let sourceColumn = source.column(named: mapping.column), let targetColumn = target.column(named: mapping.targetColumn) else {
            return .failure(.init(reason: "column \(mapping.column) is missing on one side"))
        }
        switch ChecksumForm.common(source: sourceColumn.canonical, target: targetColumn.canonical) {
        case .success(let form): return .success((form, sourceColumn, targetColumn))
        case .failure(let refusal): return .failure(.init(reason: "column \(mapping.column): \(refusal.reason)"))
        }
    }

    /// The plan's target column names as the target table spells them: a table another tool made
    /// may hold `orderid` for the source's `OrderId`. An exact name wins; otherwise the one column
    /// that matches ignoring case. (A missing target table is left for the read to report.)
    static func resolvingTargetColumns(_ tablePlan: TablePlan, in targetTable: Table) throws -> TablePlan {
        var resolved = tablePlan
        for index in resolved.columns.indices {
            let wanted = resolved.columns[index].targetColumn
            // The type the target really has decides whether its values can be compared as rendered.
            if let exact = targetTable.column(named: wanted) {
                resolved.columns[index].targetType = exact.nativeType
                continue
            }
            let folded = targetTable.columns.filter { $0.name.lowercased() == wanted.lowercased() }
            guard folded.count == 1 else {
                throw CutoverError(
                    .columnNotFound,
                    "target table \(tablePlan.target) has no column \(wanted)"
                        + (folded.isEmpty ? "" : " (several differ from it only in case: \(folded.map(\.name).joined(separator: ", ")))"),
                    hint: "compare fewer columns with --columns, or map the column in cutover.yml; the target has: "
                        + targetTable.columns.map(\.name).joined(separator: ", "),
                    context: ["table": tablePlan.source.description, "column": resolved.columns[index].column])
            }
            resolved.columns[index].targetColumn = folded[0].name
            resolved.columns[index].targetType = folded[0].nativeType
        }
        return resolved
    }

    /// Bisection with each side pinned to one snapshot where its engine can share one between the
    /// sessions bisection opens; otherwise that side's ranges are each read at their own moment
    /// (and the result says so).
    func bisectAtOneMoment(_ tablePlan: TablePlan, _ table: Table, _ method: ChecksumMethod) async throws -> TableComparison {
        let sourceView = try await source.snapshot(of: [tablePlan.source])
        let targetView = try await target.snapshot(of: [tablePlan.target])
        var pinned = self
        if let view = sourceView?.connector { pinned.source = view }
        if let view = targetView?.connector { pinned.target = view }
        var result = try await pinned.bisect(tablePlan, table, method)
        if sourceView != nil || targetView != nil {
            let unpinned = "each range read by its own statement at its own moment"
            result.consistency =
                "source: \(sourceView?.description ?? unpinned); target: \(targetView?.description ?? unpinned); "
                + "the two sides are not synchronised with each other"
        }
        return result
    }

    /// Checksums per key range on both sides, split again where they differ; differing ranges of
    /// at most ``mergeBelow`` rows — or the differing parts of a range (below the top) whose parts
    /// mostly differ (dense differences) — are compared row by row with the streaming merge.
    func bisect(_ tablePlan: TablePlan, _ table: Table, _ method: ChecksumMethod) async throws -> TableComparison {
        let started = Date()
        let key = tablePlan.key![0]
        let targetKey = tablePlan.columns.first { $0.column == key }?.targetColumn ?? key
        let sourceColumns = tablePlan.columns.map(\.column), targetColumns = tablePlan.columns.map(\.targetColumn)
        // The types checksumMethod checked the forms against: the source's catalog and the target's own.
        let sourceTypes = tablePlan.columns.map { table.column(named: $0.column)?.nativeType ?? $0.sourceType }
        let targetTypes = tablePlan.columns.map(\.targetType)
        @Sendable func checksumSQL(
            _ connector: any Connector, _ ref: TableRef, _ columns: [String], _ types: [String], _ key: String, _ range: Range<Int64>,
            _ width: Int64
        ) throws -> String {
            let sql: String?
            switch method {
            case .native:
                // Both sides have the same declared types (that is what makes the method native).
                let typed = zip(columns, tablePlan.columns).map { ($0, $1.sourceType) }
                sql = connector.dialect.rangeChecksumSQL(ref, columns: typed, key: key, range: range, width: width)
            case .portable(let forms):
                let spelled = columns.indices.map { (columns[$0], forms[$0], types[$0]) }
                sql = connector.dialect.portableChecksumSQL(ref, columns: spelled, key: key, range: range, width: width)
            }
            // checksumMethod asked the same question of both dialects; a dialect that answers differently now is a bug to report, not to crash on.
            guard let sql else { throw CutoverError(.query, "\(connector.url.engine.rawValue) gave no checksum query for \(ref)") }
            return sql
        }
        func bounds(_ connector: any Connector, _ ref: TableRef, _ key: String) async throws -> (Int64, Int64)? {
            let row = try await connector.execute(
                "SELECT min(\(connector.dialect.quote(key))), max(\(connector.dialect.quote(key))) FROM \(connector.dialect.readSource(ref))"
            ).rows.first
            guard let low = row.flatMap({ Int64($0[0].displayText) }), let high = row.flatMap({ Int64($0[1].displayText) }) else { return nil }
            return (low, high)
        }
        async let sourceBounds = bounds(source, tablePlan.source, key)
        async let targetBounds = bounds(target, tablePlan.target, targetKey)
        let (a, b) = try await (sourceBounds, targetBounds)
        var result = TableComparison(
            table: tablePlan.source.description, target: tablePlan.target.description, status: .passed,
            method: "checksum bisection by key (\(key)) with \(method.summary), differing ranges compared row by row", sourceRows: 0, targetRows: 0,
            missing: 0, extra: 0, changed: 0,
            missingKeys: [], extraKeys: [], changedRows: [], sampleLimit: Self.sampleLimit, sourceFingerprint: "", targetFingerprint: "", seconds: 0,
            message: "")
        result.consistency = "each range read by its own statement on each side: a range checked early and one checked late see different moments"
        var ranges = 0, merged = 0
        var sourceSum: UInt64 = 0, targetSum: UInt64 = 0
        if let low = [a?.0, b?.0].compactMap({ $0 }).min(), let high = [a?.1, b?.1].compactMap({ $0 }).max() {
            var pending: [Range<Int64>] = [low..<(high + 1)]
            var first = true
            while !pending.isEmpty {
                var differing: [(range: Range<Int64>, rows: Int64, dense: Bool)] = []
                // One query per side and pending range: the database groups the range into buckets.
                for range in pending {
                    let fanOut = first ? topFanOut : self.fanOut
                    let width = Self.bucketWidth(range, fanOut)
                    // The top level reads every row: it is split into parts read at once, each part a
                    // run of whole buckets in its own session, so both databases use several cores.
                    let pieces = first ? Self.alignedParts(range, width: width, count: topParallelism) : [(range, Int64(0))]
                    async let s = Self.buckets(pieces) { part in
                        try await source.execute(try checksumSQL(source, tablePlan.source, sourceColumns, sourceTypes, key, part, width))
                    }
                    async let t = Self.buckets(pieces) { part in
                        try await target.execute(try checksumSQL(target, tablePlan.target, targetColumns, targetTypes, targetKey, part, width))
                    }
                    let (x, y) = try await (s, t)
                    if first {
                        for bucket in x.values { result.sourceRows += bucket.rows; sourceSum = sourceSum &+ (bucket.sum ?? 0) }
                        for bucket in y.values { result.targetRows += bucket.rows; targetSum = targetSum &+ (bucket.sum ?? 0) }
                    }
                    let parts = Self.split(range, into: fanOut)
                    ranges += parts.count
                    let found = Set(x.keys).union(y.keys).sorted().filter { bucket in
                        guard bucket >= 0, Int(bucket) < parts.count else { return false }
                        return x[bucket]?.rows != y[bucket]?.rows || x[bucket]?.sum == nil || x[bucket]?.sum != y[bucket]?.sum
                    }
                    // Below the top level, a range whose parts mostly differ is dense: splitting it again
                    // would re-checksum nearly everything, so its parts are merged.
                    let dense = !first && found.count * 2 > parts.count
                    for bucket in found {
                        differing.append((parts[Int(bucket)], max(x[bucket]?.0 ?? 0, y[bucket]?.0 ?? 0), dense))
                    }
                }
                first = false
                pending = []
                for (range, rows, dense) in differing {
                    if dense || rows <= mergeBelow || range.count <= Int(self.fanOut) {
                        merged += 1
                        var comparer = self
                        comparer.strategy = .merge
                        let part = try await comparer.compare(tablePlan, table, keyRange: range)
                        result.missing += part.missing
                        result.extra += part.extra
                        result.changed += part.changed
                        result.tolerated += part.tolerated
                        result.missingKeys = Array((result.missingKeys + part.missingKeys).prefix(Self.sampleLimit))
                        result.extraKeys = Array((result.extraKeys + part.extraKeys).prefix(Self.sampleLimit))
                        result.changedRows = Array((result.changedRows + part.changedRows).prefix(Self.sampleLimit))
                        result.toleratedRows = Array((result.toleratedRows + part.toleratedRows).prefix(Self.sampleLimit))
                    } else {
                        pending.append(range)
                    }
                }
            }
        }
        result.sourceFingerprint = "\(result.sourceRows):" + String(sourceSum, radix: 16)
        result.targetFingerprint = "\(result.targetRows):" + String(targetSum, radix: 16)
        result.method += " (\(ranges) range checksums, \(merged) range(s) merged)"
        summarizeKeyed(&result)
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    /// `range` cut into at most `count` runs of whole buckets of `width`, each with the number of
    /// its first bucket.
    static func alignedParts(_ range: Range<Int64>, width: Int64, count: Int) -> [(Range<Int64>, Int64)] {
        let buckets = (Int64(range.count) + width - 1) / width
        let perPart = max(1, (buckets + Int64(count) - 1) / Int64(max(1, count)))
        return stride(from: Int64(0), to: buckets, by: Int(perPart)).map { first in
            let lower = range.lowerBound + first * width
            return (lower..<min(range.upperBound, lower + perPart * width), first)
        }
    }

    /// Bucket → rows and checksum over every part, the parts' queries run at once. Engines return
    /// the sum exactly or wrapped, so it is compared modulo 2^64 (a sum that is not an exact
    /// integer never matches).
    static func buckets(
        _ parts: [(Range<Int64>, Int64)], query: @escaping @Sendable (Range<Int64>) async throws -> ResultSet
    ) async throws -> [Int64: (rows: Int64, sum: UInt64?)] {
        try await withThrowingTaskGroup(of: (Int64, ResultSet).self) { group in
            for (part, firstBucket) in parts { group.addTask { (firstBucket, try await query(part)) } }
            var out: [Int64: (rows: Int64, sum: UInt64?)] = [:]
            for try await (firstBucket, result) in group {
                for row in result.rows {
                    // A bucket or a count that is not a whole number would be a bucket nobody compares.
                    guard let bucket = row[0].wholeNumber, let rows = row[1].wholeNumber else {
                        throw CutoverError(
                            .query, "a bucket checksum query answered bucket \(row[0].displayText) with \(row[1].displayText) rows, not whole numbers"
                        )
                    }
                    out[bucket + firstBucket] = (rows, PortableChecksum.reduce(row[2].displayText))
                }
            }
            return out
        }
    }

    /// Status and message of a comparison by key, from its counts.
    func summarizeKeyed(_ result: inout TableComparison) {
        let differs = result.missing + result.extra + result.changed > 0
        result.status = differs ? .failed : .passed
        result.message =
            differs
            ? "\(result.missing) missing, \(result.extra) extra, \(result.changed) changed of \(Format.count(result.sourceRows)) source rows"
            : "\(Format.count(result.sourceRows)) rows identical"
        if result.tolerated > 0 {
            result.message +=
                "; \(result.tolerated) row(s) differ only within tolerances" + (tolerances.strict ? " (counted as changed: --strict)" : "")
        }
    }

    /// The width of each of at most `parts` buckets covering `range`.
    static func bucketWidth(_ range: Range<Int64>, _ parts: Int64) -> Int64 { max(1, (Int64(range.count) + parts - 1) / parts) }

    /// `range` cut into at most `parts` contiguous pieces of equal width (the last may be shorter),
    /// matching the buckets `(key - lower) / width` of ``Dialect/rangeChecksumSQL``.
    static func split(_ range: Range<Int64>, into parts: Int64) -> [Range<Int64>] {
        let width = bucketWidth(range, parts)
        return stride(from: range.lowerBound, to: range.upperBound, by: Int(width)).map { $0..<min($0 + width, range.upperBound) }
    }

    /// Orders keys as the engines sorted them: numbers by value, everything else by UTF-8 bytes.
    static func compareKeys(_ a: CanonicalRow, _ b: CanonicalRow, _ keys: [Int], _ types: [CanonicalType]) -> Int {
        for index in keys {
            let x = a.values[index] ?? "", y = b.values[index] ?? ""
            if x == y { continue }
            switch types[index] {
            case .integer, .decimal, .float:
                if let dx = Decimal(string: x), let dy = Decimal(string: y) { return dx < dy ? -1 : 1 }
            default: break
            }
            return x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : 1
        }
        return 0
    }

    /// When every differing column is equal under its tolerance: column → the rule that hid it.
    /// nil when some difference is real.
    func toleratedDifferences(_ a: CanonicalRow, _ b: CanonicalRow, _ columns: [Column]) -> [String: String]? {
        guard !tolerances.columns.isEmpty else { return nil }
        var hidden: [String: String] = [:]
        for index in columns.indices where a.differs(from: b, at: index) {
            guard a.bytes[index] == b.bytes[index],
                let rule = tolerances.forColumn(columns[index].name)?.hides(a.values[index], b.values[index], type: columns[index].canonical)
            else {
                return nil
            }
            hidden[columns[index].name] = rule
        }
        return hidden
    }

    /// `SELECT * … WHERE key = …` for one row, in a side's dialect.
    static func fetchSQL(_ dialect: any Dialect, _ table: TableRef, _ key: [(Column, String?)]) -> String {
        let conditions = key.map { column, value in
            guard let value else { return "\(dialect.quote(column.name)) IS NULL" }
            let literal = column.canonical.storage == .int ? value : dialect.literal(value)
            return "\(dialect.quote(column.name)) = \(literal)"
        }
        return "SELECT * FROM \(dialect.qualified(table)) WHERE " + conditions.joined(separator: " AND ")
    }

    static func keyText(_ row: CanonicalRow, _ keys: [Int], _ columns: [Column]) -> String {
        keys.map { "\(columns[$0].name)=\(CanonicalForm.shown(row.values[$0]))" }.joined(separator: ",")
    }

    static func difference(_ a: CanonicalRow, _ b: CanonicalRow, _ keys: [Int], _ columns: [Column]) -> TableComparison.ChangedRow {
        var changed = TableComparison.ChangedRow(
            key: keyText(a, keys, columns), columns: [], source: [:], target: [:], sourceSQL: nil, targetSQL: nil)
        for index in columns.indices where a.differs(from: b, at: index) {
            let name = columns[index].name
            changed.columns.append(name)
            changed.source[name] = CanonicalForm.shown(a.values[index])
            changed.target[name] = CanonicalForm.shown(b.values[index])
            if a.bytes[index] != b.bytes[index] {
                // Same spelling, other storage class: say which side holds bytes.
                changed.source[name, default: ""] += a.bytes[index] ? " (bytes)" : " (text)"
                changed.target[name, default: ""] += b.bytes[index] ? " (bytes)" : " (text)"
            }
        }
        return changed
    }
}

/// Walks a row stream one canonical row at a time.
struct RowCursor {
    private var iterator: RowStream.Iterator
    private let types: [CanonicalType]
    private let raw: [Bool]
    private var batch: RowBatch?
    private var index = 0

    init(_ stream: RowStream, types: [CanonicalType], raw: [Bool]? = nil) {
        iterator = stream.makeAsyncIterator()
        self.types = types
        self.raw = raw ?? Array(repeating: false, count: types.count)
    }

    mutating func next() async throws -> CanonicalRow? {
        while batch == nil || index >= batch!.rowCount {
            guard let next = try await iterator.next() else { return nil }
            batch = next
            index = 0
        }
        defer { index += 1 }
        return CanonicalRow(batch!, row: index, types: types, raw: raw)
    }
}
