#include "sqlite_shim.h"
#include <string.h>
#include <strings.h>
#include <time.h>

int cutover_sqlite_strict_identifiers(sqlite3 *db) {
    int rc = sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, (int *)0);
    if (rc != SQLITE_OK) return rc;
    return sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)0);
}

static const char *const describing_pragmas[] = {
    "table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list", "table_list", 0
};

static int read_only_authorizer(void *unused, int action, const char *a, const char *b, const char *database, const char *trigger) {
    (void)unused; (void)database; (void)trigger;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_FUNCTION:
        if (b && (strcasecmp(b, "load_extension") == 0 || strcasecmp(b, "fts3_tokenizer") == 0)) return SQLITE_DENY;
        return SQLITE_OK;
    case SQLITE_PRAGMA:
        /* A pragma without an argument only reads. With one, only these describe and cannot
           change anything (pragma_table_info('t') and PRAGMA table_info(t) alike). */
        if (b == NULL) return SQLITE_OK;
        for (const char *const *name = describing_pragmas; *name; name++) {
            if (a && strcasecmp(a, *name) == 0) return SQLITE_OK;
        }
        return SQLITE_DENY;
    case SQLITE_UPDATE:
        /* Preparing a query over a pragma's table (pragma_table_info) asks to "update" the schema
           table's columns as it loads them; a real UPDATE of it needs writable_schema (a pragma
           assignment, refused above) on a connection opened read-only with query_only on. */
        if (a && (strcmp(a, "sqlite_master") == 0 || strcmp(a, "sqlite_schema") == 0)) return SQLITE_OK;
        return SQLITE_DENY;
    default:
        return SQLITE_DENY;
    }
}

int cutover_sqlite_read_only(sqlite3 *db) {
    return sqlite3_set_authorizer(db, read_only_authorizer, 0);
}

static double monotonic_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static int past_deadline(void *deadline) {
    return monotonic_seconds() > *(double *)deadline ? 1 : 0;
}

void cutover_sqlite_deadline(sqlite3 *db, double seconds, double *deadline) {
    *deadline = monotonic_seconds() + seconds;
    sqlite3_progress_handler(db, 10000, past_deadline, deadline);
}
