import Foundation

/// What a connection really points at, whatever spelling its URL uses: the file (device and inode)
/// of a SQLite database, the cluster (system identifier) and database of a PostgreSQL server, the
/// account and database of Snowflake. Two URLs that name the same database have equal identities,
/// so a guard that compares identities cannot be fooled by `./`, `..`, a symlink, a hard link, a
/// host alias or letter case.
public enum DatabaseIdentity: Sendable, Hashable, CustomStringConvertible {
    case file(device: UInt64, inode: UInt64)
    case postgres(systemIdentifier: String, database: String)
    case snowflake(account: String, database: String)

    /// The identity of an existing file; nil when there is no such file (yet).
    public static func file(atPath path: String) -> DatabaseIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return .file(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// The SQLite database file and the files SQLite keeps beside it (`-wal`, `-shm`, `-journal`):
    /// opening any of them as a database must count as opening the database.
    public static func sqliteFiles(atPath path: String) -> Set<DatabaseIdentity> {
        Set(["", "-wal", "-shm", "-journal"].compactMap { file(atPath: path + $0) })
    }

    public var description: String {
        switch self {
        case .file(let device, let inode): "file \(device):\(inode)"
        case .postgres(let system, let database): "PostgreSQL cluster \(system), database \(database)"
        case .snowflake(let account, let database): "Snowflake account \(account), database \(database)"
        }
    }
}
