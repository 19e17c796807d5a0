/* store.c - SQLite storage: schema, migrations, statement cache, backup.
 *
 * Timestamps are integer milliseconds since the epoch.  Every change of
 * schema is a new entry in `migrations`; the database records how far it has
 * come in PRAGMA user_version, so an old file is carried forward step by step
 * at start and a new one is built by running every step. */
#include "bot/store.h"
#include "bot/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#define STMT_CACHE 128

struct store {
    sqlite3 *db;
    struct {
        const char *sql;    /* owned copy */
        const char *key;    /* the caller's pointer: module SQL is a static literal */
        sqlite3_stmt *st;
    } cache[STMT_CACHE];
    size_t n_cache;
};

/* Version 1: the whole data model.  Messages are the conversation record
 * (inbound and outbound); the outbox is the send job behind each outbound
 * message.  (channel, provider_id) is unique for inbound messages so a retried
 * webhook is stored once. */
static const char schema_v1[] =
    "CREATE TABLE contacts ("
    "  id INTEGER PRIMARY KEY,"
    "  channel TEXT NOT NULL,"
    "  address TEXT NOT NULL,"
    "  display_name TEXT,"
    "  opted_out INTEGER NOT NULL DEFAULT 0,"
    "  followed INTEGER NOT NULL DEFAULT 1,"
    "  created_at INTEGER NOT NULL,"
    "  last_seen_at INTEGER,"
    "  UNIQUE (channel, address));"
    "CREATE TABLE messages ("
    "  id INTEGER PRIMARY KEY,"
    "  contact_id INTEGER NOT NULL REFERENCES contacts(id),"
    "  channel TEXT NOT NULL,"
    "  direction TEXT NOT NULL CHECK (direction IN ('in','out')),"
    "  kind TEXT NOT NULL DEFAULT 'text',"
    "  text TEXT,"
    "  provider_id TEXT,"
    /* in: received -> processed; out: queued -> sent -> delivered | failed */
    "  status TEXT NOT NULL,"
    "  case_id INTEGER,"
    "  decision TEXT,"          /* answer | escalate | optout | ignored | ... */
    "  reason TEXT,"
    "  entry_id TEXT,"
    "  confidence REAL,"
    "  author TEXT,"            /* out: 'bot' or the staff username */
    "  in_reply_to INTEGER,"
    "  error TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX messages_provider ON messages(channel, provider_id)"
    "  WHERE direction = 'in' AND provider_id IS NOT NULL;"
    "CREATE INDEX messages_contact ON messages(contact_id, id);"
    "CREATE INDEX messages_status ON messages(status) WHERE status = 'received';"
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  message_id INTEGER NOT NULL REFERENCES messages(id),"
    "  contact_id INTEGER NOT NULL REFERENCES contacts(id),"
    "  channel TEXT NOT NULL,"
    "  address TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  coding INTEGER NOT NULL DEFAULT 0,"
    "  status TEXT NOT NULL DEFAULT 'pending',"   /* pending | sent | delivered | failed */
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_at INTEGER NOT NULL DEFAULT 0,"
    "  provider_id TEXT,"
    "  last_code TEXT,"
    "  last_error TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE INDEX outbox_pending ON outbox(next_at) WHERE status = 'pending';"
    "CREATE INDEX outbox_provider ON outbox(channel, provider_id);"
    "CREATE TABLE cases ("
    "  id INTEGER PRIMARY KEY,"
    "  contact_id INTEGER NOT NULL REFERENCES contacts(id),"
    "  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','claimed','resolved')),"
    "  reason TEXT NOT NULL,"
    "  candidates TEXT,"        /* JSON: [{entry_id, confidence}] */
    "  claimed_by TEXT,"
    "  holding_sent INTEGER NOT NULL DEFAULT 0,"
    "  opened_at INTEGER NOT NULL,"
    "  claimed_at INTEGER,"
    "  first_reply_at INTEGER,"
    "  resolved_at INTEGER,"
    "  resolved_by TEXT,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE INDEX cases_status ON cases(status, opened_at);"
    "CREATE INDEX cases_contact ON cases(contact_id, status);"
    "CREATE TABLE entries ("
    "  id TEXT PRIMARY KEY,"
    "  topic TEXT, department TEXT,"
    "  question TEXT NOT NULL,"
    "  answer TEXT NOT NULL,"
    "  answer_sms TEXT,"
    "  enabled INTEGER NOT NULL DEFAULT 1,"
    "  position INTEGER NOT NULL DEFAULT 0,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE variants ("
    "  id INTEGER PRIMARY KEY,"
    "  entry_id TEXT NOT NULL REFERENCES entries(id) ON DELETE CASCADE,"
    "  text TEXT NOT NULL);"
    "CREATE INDEX variants_entry ON variants(entry_id);"
    "CREATE TABLE keywords ("
    "  id INTEGER PRIMARY KEY,"
    "  entry_id TEXT NOT NULL REFERENCES entries(id) ON DELETE CASCADE,"
    "  term TEXT NOT NULL,"
    "  weight REAL NOT NULL DEFAULT 1.0);"
    "CREATE INDEX keywords_entry ON keywords(entry_id);"
    "CREATE TABLE lexicon ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  doc TEXT NOT NULL,"      /* the lexicon.json document, admin-edited */
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  username TEXT NOT NULL UNIQUE,"
    "  role TEXT NOT NULL CHECK (role IN ('staff','admin')),"
    "  pw_hash TEXT NOT NULL,"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE sessions ("
    "  token_hash TEXT PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  csrf TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL);"
    "CREATE TABLE settings ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL);"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  user TEXT,"
    "  action TEXT NOT NULL,"
    "  target TEXT,"
    "  detail TEXT);"
    "CREATE TABLE proposals ("
    "  id INTEGER PRIMARY KEY,"
    "  case_id INTEGER REFERENCES cases(id),"
    "  message_id INTEGER REFERENCES messages(id),"
    "  text TEXT NOT NULL,"         /* the citizen's words */
    "  entry_id TEXT,"              /* 'should have matched entry X' */
    "  question TEXT, answer TEXT,"  /* or a new entry */
    "  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','accepted','rejected')),"
    "  proposed_by TEXT,"
    "  decided_by TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  decided_at INTEGER);"
    "CREATE TABLE tokens ("          /* provider tokens (Zalo OAuth) */
    "  channel TEXT PRIMARY KEY,"
    "  access_token TEXT,"
    "  refresh_token TEXT,"
    "  expires_at INTEGER NOT NULL DEFAULT 0,"
    "  updated_at INTEGER NOT NULL);";

/* Version 2: indexes for the web chat (its reply is looked up by the message
 * it answers, its polling and the rate limit by contact and direction). */
static const char schema_v2[] =
    "CREATE INDEX messages_contact_out ON messages(contact_id, direction, id);"
    "CREATE INDEX messages_reply ON messages(in_reply_to) WHERE in_reply_to IS NOT NULL;";

/* Version 3: the outbox by message.  Every send's outcome updates its
 * message from the state of all the message's rows; without this index each
 * of those lookups read the whole outbox, so sending slowed down as the
 * outbox grew.  Statistics read messages by time, and the console reads a
 * case's messages by case. */
static const char schema_v3[] =
    "CREATE INDEX outbox_message ON outbox(message_id);"
    "CREATE INDEX messages_created ON messages(created_at);"
    "CREATE INDEX messages_case ON messages(case_id) WHERE case_id IS NOT NULL;";

/* Version 4: fewer index writes per message.  Each message stored and each
 * reply queued wrote every index on its table, and under load those writes
 * were much of the daemon's time.  messages_contact duplicated the leading
 * column of messages_contact_out, which serves the same lookups (a
 * conversation's few rows are sorted after); statistics only count inbound
 * messages by time, so replies need not be in that index; and an outbox row
 * has no provider id until it is sent, so only sent rows are indexed by it. */
static const char schema_v4[] =
    "DROP INDEX messages_contact;"
    "DROP INDEX messages_created;"
    "CREATE INDEX messages_in_created ON messages(created_at) WHERE direction = 'in';"
    "DROP INDEX outbox_provider;"
    "CREATE INDEX outbox_provider ON outbox(channel, provider_id) WHERE provider_id IS NOT NULL;";

/* Version 5: an outbox row's text may be NULL, meaning its message's text.
 * A reply in one part (most of them) had its text written twice, once in
 * its message and once in its outbox row, and an answer is most of a
 * kilobyte: under load those second copies were a large part of the pages
 * each commit wrote.  SQLite cannot drop a NOT NULL in place, so the table
 * is rebuilt (its rows and indexes are kept as they were). */
static const char schema_v5[] =
    "CREATE TABLE outbox_v5 ("
    "  id INTEGER PRIMARY KEY,"
    "  message_id INTEGER NOT NULL REFERENCES messages(id),"
    "  contact_id INTEGER NOT NULL REFERENCES contacts(id),"
    "  channel TEXT NOT NULL,"
    "  address TEXT NOT NULL,"
    "  text TEXT,"                  /* NULL: the message's own text */
    "  coding INTEGER NOT NULL DEFAULT 0,"
    "  status TEXT NOT NULL DEFAULT 'pending',"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_at INTEGER NOT NULL DEFAULT 0,"
    "  provider_id TEXT,"
    "  last_code TEXT,"
    "  last_error TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "INSERT INTO outbox_v5 SELECT id, message_id, contact_id, channel, address, text, coding, "
    "  status, attempts, next_at, provider_id, last_code, last_error, created_at, updated_at "
    "  FROM outbox;"
    "DROP TABLE outbox;"
    "ALTER TABLE outbox_v5 RENAME TO outbox;"
    "CREATE INDEX outbox_pending ON outbox(next_at) WHERE status = 'pending';"
    "CREATE INDEX outbox_provider ON outbox(channel, provider_id) WHERE provider_id IS NOT NULL;"
    "CREATE INDEX outbox_message ON outbox(message_id);";

static const char *const migrations[] = {schema_v1, schema_v2, schema_v3, schema_v4, schema_v5};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int store_latest_version(void) { return N_MIGRATIONS; }

long long store_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int mkdir_parents(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -1;
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf)
        return 0;
    *slash = '\0';
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0750) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(buf, 0750) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

sqlite3 *store_db(store *s) { return s->db; }

/* sqlite3_exec compiles its SQL every time: for the BEGIN, COMMIT and the
 * savepoints around each decision and each send outcome, that was a visible
 * cost under load, so they run from the statement cache. */
int store_run(store *s, const char *sql)
{
    sqlite3_stmt *st = store_stmt(s, sql);
    return st ? store_step_done(s, st) : -1;
}

int store_exec(store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_error("db_exec", "error=\"%s\"", msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int store_begin(store *s) { return store_run(s, "BEGIN IMMEDIATE"); }
int store_commit(store *s) { return store_run(s, "COMMIT"); }

void store_rollback(store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_version(store *s)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Each step runs in its own transaction together with the bump of
 * user_version, so a crash mid-migration leaves the file at a known version. */
int store_migrate(store *s, int target, char *err, size_t errlen)
{
    int v = store_version(s);
    if (v < 0) {
        snprintf(err, errlen, "cannot read schema version: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    if (v > N_MIGRATIONS) {
        snprintf(err, errlen, "database schema version %d is newer than this program (%d)", v,
                 N_MIGRATIONS);
        return -1;
    }
    for (; v < target && v < N_MIGRATIONS; v++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d", v + 1);
        char *msg = NULL;
        if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(s->db, migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(s->db, bump, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(s->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "migration to version %d failed: %s", v + 1,
                     msg ? msg : sqlite3_errmsg(s->db));
            sqlite3_free(msg);
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        log_info("db_migrated", "version=%d", v + 1);
    }
    return 0;
}

/* Process-wide SQLite settings, before the library's first use.  Every
 * connection here is used by one thread at a time (the loop's, or a CLI
 * command's), so SQLite's own per-connection mutexes are not needed; and its
 * allocation statistics, which take a global mutex on every malloc and free,
 * are never read.  Both cost several percent of the daemon's time under load. */
static void store_configure_library(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    if (sqlite3_config(SQLITE_CONFIG_MULTITHREAD) != SQLITE_OK ||
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
        log_warn("db_config", "error=\"SQLite was initialised before its settings\"");
}

store *store_open_at(const char *path, const char *synchronous, int version, char *err,
                     size_t errlen)
{
    store_configure_library();
    const char *sync = synchronous && *synchronous ? synchronous : "FULL";
    if (strcasecmp(sync, "FULL") && strcasecmp(sync, "NORMAL") && strcasecmp(sync, "OFF") &&
        strcasecmp(sync, "EXTRA")) {
        snprintf(err, errlen, "database_synchronous: must be FULL, NORMAL, EXTRA or OFF");
        return NULL;
    }
    if (strcmp(path, ":memory:") != 0 && mkdir_parents(path) != 0) {
        snprintf(err, errlen, "%s: cannot create its folder: %s", path, strerror(errno));
        return NULL;
    }
    store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
        store_close(s);
        return NULL;
    }
    /* A busy timeout lets CLI commands (import, user add, backup) work while
     * the daemon holds the database. */
    sqlite3_busy_timeout(s->db, 5000);
    /* temp_store=MEMORY: the savepoints around each decision and each send
     * outcome keep their undo pages in memory instead of a temporary file
     * (whose writes were a third of queuing a reply under load). */
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=ON; "
             "PRAGMA temp_store=MEMORY;", sync);
    char *msg = NULL;
    if (sqlite3_exec(s->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        store_close(s);
        return NULL;
    }
    if (store_migrate(s, version, err, errlen) != 0) {
        store_close(s);
        return NULL;
    }
    return s;
}

store *store_open(const char *path, const char *synchronous, char *err, size_t errlen)
{
    return store_open_at(path, synchronous, N_MIGRATIONS, err, errlen);
}

void store_close(store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_cache; i++) {
        sqlite3_finalize(s->cache[i].st);
        free((void *)s->cache[i].sql);
    }
    if (s->db)
        sqlite3_close(s->db);
    free(s);
}

sqlite3_stmt *store_stmt(store *s, const char *sql)
{
    /* By address first (pointer compares and one confirming strcmp, where
     * comparing the text with every cached statement cost 5% of the daemon's
     * time under load), then by text for SQL that lives elsewhere. */
    size_t hit = s->n_cache;
    for (size_t i = 0; i < s->n_cache && hit == s->n_cache; i++)
        if (s->cache[i].key == sql && strcmp(s->cache[i].sql, sql) == 0)
            hit = i;
    for (size_t i = 0; i < s->n_cache && hit == s->n_cache; i++)
        if (strcmp(s->cache[i].sql, sql) == 0)
            hit = i;
    if (hit < s->n_cache) {
        sqlite3_reset(s->cache[hit].st);
        sqlite3_clear_bindings(s->cache[hit].st);
        return s->cache[hit].st;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("db_prepare", "error=\"%s\" sql=\"%.80s\"", sqlite3_errmsg(s->db), sql);
        return NULL;
    }
    if (s->n_cache == STMT_CACHE) {
        /* Full: the statement still works, it is just not cached.  The leak
         * is bounded by design: module SQL is static, so this never happens
         * unless a caller builds SQL dynamically (which none may). */
        log_warn("db_stmt_cache_full", "sql=\"%.80s\"", sql);
        sqlite3_finalize(st);
        return NULL;
    }
    char *copy = strdup(sql);
    if (!copy) {
        sqlite3_finalize(st);
        return NULL;
    }
    s->cache[s->n_cache].sql = copy;
    s->cache[s->n_cache].key = sql;
    s->cache[s->n_cache].st = st;
    s->n_cache++;
    return st;
}

int store_step_done(store *s, sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE) {
        log_error("db_step", "error=\"%s\"", sqlite3_errmsg(s->db));
        sqlite3_reset(st);
        return -1;
    }
    sqlite3_reset(st);
    return 0;
}

long long store_scalar(store *s, const char *sql)
{
    sqlite3_stmt *st = store_stmt(s, sql);
    long long n = -1;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    if (st)
        sqlite3_reset(st);
    return n;
}

void store_bind_text(sqlite3_stmt *st, int idx, const char *text)
{
    if (text)
        sqlite3_bind_text(st, idx, text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, idx);
}

char *store_setting_get(store *s, const char *key)
{
    sqlite3_stmt *st = store_stmt(s, "SELECT value FROM settings WHERE key = ?1");
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    char *v = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        v = strdup(t ? (const char *)t : "");
    }
    sqlite3_reset(st);
    return v;
}

int store_setting_set(store *s, const char *key, const char *value)
{
    sqlite3_stmt *st = store_stmt(s, "INSERT INTO settings(key, value) VALUES (?1, ?2) "
                                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
    return store_step_done(s, st);
}

int store_audit(store *s, const char *user, const char *action, const char *target,
                const char *detail)
{
    sqlite3_stmt *st = store_stmt(
        s, "INSERT INTO audit(at, user, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, store_now_ms());
    store_bind_text(st, 2, user);
    store_bind_text(st, 3, action);
    store_bind_text(st, 4, target);
    store_bind_text(st, 5, detail);
    return store_step_done(s, st);
}

/* The backup API copies pages in steps, so the daemon keeps writing while a
 * backup runs; a step that meets a lock is retried. */
int store_backup(store *s, const char *dest_path, char *err, size_t errlen)
{
    sqlite3 *dst = NULL;
    if (sqlite3_open(dest_path, &dst) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", dest_path, dst ? sqlite3_errmsg(dst) : "cannot open");
        sqlite3_close(dst);
        return -1;
    }
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", s->db, "main");
    if (!b) {
        snprintf(err, errlen, "%s: %s", dest_path, sqlite3_errmsg(dst));
        sqlite3_close(dst);
        return -1;
    }
    int rc;
    do {
        rc = sqlite3_backup_step(b, 256);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            sqlite3_sleep(20);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s: backup failed: %s", dest_path, sqlite3_errstr(rc));
        sqlite3_close(dst);
        return -1;
    }
    sqlite3_close(dst);
    return 0;
}
