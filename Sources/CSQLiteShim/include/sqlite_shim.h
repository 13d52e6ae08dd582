#ifndef CUTOVER_SQLITE_SHIM_H
#define CUTOVER_SQLITE_SHIM_H
#include <sqlite3.h>

/// Turns off SQLite's "double-quoted string literal" fallback for DML and DDL, so a quoted name
/// that matches no column is an error instead of silently becoming the string itself.
/// (sqlite3_db_config is variadic, which Swift cannot call.)
int cutover_sqlite_strict_identifiers(sqlite3 *db);

/// Lets statements prepared on `db` from now on only read: an authorizer allows SELECT, reading
/// columns, recursive CTEs, reading pragmas and functions other than load_extension and
/// fts3_tokenizer; ATTACH, DETACH, writes, schema changes, transactions and pragma assignments
/// are refused when the statement is prepared.
int cutover_sqlite_read_only(sqlite3 *db);

/// Interrupts a statement on `db` still running `seconds` after this call (a progress handler
/// checks a monotonic clock). `deadline` is storage the caller keeps alive as long as `db`.
void cutover_sqlite_deadline(sqlite3 *db, double seconds, double *deadline);
#endif
