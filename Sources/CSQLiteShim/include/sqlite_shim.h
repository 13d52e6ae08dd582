#ifndef CUTOVER_SQLITE_SHIM_H
#define CUTOVER_SQLITE_SHIM_H
#include <sqlite3.h>

/// Turns off SQLite's "double-quoted string literal" fallback for DML and DDL, so a quoted name
/// that matches no column is an error instead of silently becoming the string itself.
/// (sqlite3_db_config is variadic, which Swift cannot call.)
int cutover_sqlite_strict_identifiers(sqlite3 *db);
#endif
