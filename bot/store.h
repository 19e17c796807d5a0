/* store.h - the SQLite database: open, migrate, prepared statements.
 *
 * One connection, used only from the event loop's thread.  Each module keeps
 * its own SQL next to its logic and runs it through store_stmt(), which
 * prepares a statement once and hands back the cached copy, reset and with
 * its bindings cleared.  The schema (store.c) is the contract between
 * modules; it is versioned with PRAGMA user_version and migrated at open. */
#ifndef HOTLINE_STORE_H
#define HOTLINE_STORE_H

#include <stddef.h>
#include <sqlite3.h>

typedef struct store store;

/* Opens (creating the file and its folder), sets WAL and the synchronous
 * level ("FULL" by default, "NORMAL", "OFF"), and migrates to the latest
 * schema.  NULL on error with err filled. */
store *store_open(const char *path, const char *synchronous, char *err, size_t errlen);
/* Opens without migrating past `version` (tests of migrations). */
store *store_open_at(const char *path, const char *synchronous, int version, char *err,
                     size_t errlen);
void store_close(store *s);

sqlite3 *store_db(store *s);
int store_version(store *s);
int store_latest_version(void);
int store_migrate(store *s, int target, char *err, size_t errlen);

/* The cached prepared statement for sql (compared by content), reset and
 * cleared.  NULL (logged) if it does not prepare.  Do not finalize it. */
sqlite3_stmt *store_stmt(store *s, const char *sql);

/* Runs SQL text, which may hold several statements, compiled each time.
 * 0 / -1, logged. */
int store_exec(store *s, const char *sql);
/* Runs one statement that the code spells as a literal (BEGIN, COMMIT,
 * SAVEPOINT x ...) from the statement cache.  0 / -1, logged. */
int store_run(store *s, const char *sql);
int store_begin(store *s);                      /* BEGIN IMMEDIATE */
int store_commit(store *s);
void store_rollback(store *s);

/* Step a statement that returns no rows (or ignore them); 0 / -1, logged. */
int store_step_done(store *s, sqlite3_stmt *st);

/* The integer a one-value query returns (count(*) and the like); -1 on error. */
long long store_scalar(store *s, const char *sql);

/* Convenience binders: NULL text binds SQL NULL. */
void store_bind_text(sqlite3_stmt *st, int idx, const char *text);

/* settings table */
char *store_setting_get(store *s, const char *key);          /* malloc'd or NULL */
int store_setting_set(store *s, const char *key, const char *value);

/* audit log: who did what to which object. */
int store_audit(store *s, const char *user, const char *action, const char *target,
                const char *detail);

/* Online backup through SQLite's backup API. */
int store_backup(store *s, const char *dest_path, char *err, size_t errlen);

long long store_now_ms(void);

#endif
