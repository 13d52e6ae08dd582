// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "Cutover",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cutover", targets: ["cutover"]),
        .library(name: "CutoverEngine", targets: ["CutoverEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Metrics through the swift-metrics API (Hummingbird reports its requests through it too), exported
        // in Prometheus' text format.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // STARTTLS for alert e-mail (already built for async-http-client).
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        // The server: no swift-configuration (its default trait); bcrypt from hummingbird-auth.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        // Session tokens (and, for sign-in with an identity provider, JWKS-verified ID tokens).
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        // Already under Hummingbird: the server's background jobs are services with graceful shutdown.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // .xlsx reports are zip files.
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        // report.html, the sign-off page and the console's page shell are Mustache templates (no dependencies of its own).
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // libpq: the C library psql uses; binary COPY both ways at psql's speed.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // SQLite's C API directly: bulk reads must not pay a per-row async hop.
        .systemLibrary(name: "CSQLite3", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(
            name: "CutoverCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "CSQLiteShim", dependencies: ["CSQLite3"]),
        .target(name: "CutoverSQLite", dependencies: ["CutoverCore", "CSQLite3", "CSQLiteShim"], swiftSettings: swiftSettings),
        .target(name: "CutoverPostgres", dependencies: ["CutoverCore", "CLibPQ"], swiftSettings: swiftSettings),
        .target(name: "CutoverSQLServer", dependencies: ["CutoverCore"], swiftSettings: swiftSettings),
        .target(
            name: "CutoverSnowflake",
            dependencies: [
                "CutoverCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                // RSA signing for key-pair (JWT) login.
                .product(name: "CryptoExtras", package: "swift-crypto"),
                // gzip for staged files (already built for the store's archives).
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CutoverStore",
            dependencies: [
                "CutoverCore", "CutoverSQLite", "CutoverPostgres", "CutoverSnowflake",
                // gzip for `store archive`.
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CutoverEngine",
            dependencies: [
                "CutoverCore", "CutoverSQLite", "CutoverPostgres", "CutoverSnowflake", "CutoverSQLServer", "CutoverStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                // Alert webhooks, and e-mail over SMTP with STARTTLS.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CutoverServer",
            dependencies: [
                "CutoverCore", "CutoverStore", "CutoverEngine",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.copy("Assets")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "cutover",
            dependencies: [
                "CutoverEngine", "CutoverServer", "CutoverSQLServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CutoverTesting",
            dependencies: ["CutoverCore", "CutoverEngine", "CutoverPostgres", "CutoverSQLite", "CutoverSnowflake"],
            path: "Tests/CutoverTesting",
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CutoverCoreTests", dependencies: ["CutoverCore", "CutoverTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CutoverSQLiteTests",
            dependencies: ["CutoverSQLite", "CutoverTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CutoverPostgresTests",
            dependencies: ["CutoverPostgres", "CutoverTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CutoverSnowflakeTests",
            dependencies: ["CutoverSnowflake", "CutoverTesting", .product(name: "CryptoExtras", package: "swift-crypto")],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "CutoverStoreTests", dependencies: ["CutoverStore", "CutoverSQLite", "CutoverTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "CutoverSQLServerTests", dependencies: ["CutoverSQLServer", "CutoverTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "CutoverEngineTests",
            dependencies: ["CutoverEngine", "CutoverTesting"],
            // Read from the source tree by TerminalTextTests (rewritten with CUTOVER_RECORD_SNAPSHOTS=1).
            exclude: ["Snapshots"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CutoverServerTests",
            dependencies: [
                "CutoverServer", "CutoverTesting", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CutoverCLITests",
            dependencies: ["CutoverTesting", "CutoverSQLite", "CutoverPostgres", "CutoverSnowflake"],
            swiftSettings: swiftSettings
        ),
    ]
)
