/* test_store.c - schema creation and migrations, statement cache, settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot/store.h"

static char path[256];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/hotline-test-store-%d/sub/db.sqlite", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf /tmp/hotline-test-store-%d", (int)getpid());
    return system(cmd) == 0 ? 0 : -1;
}

static int has_index(store *s, const char *name)
{
    const char *sql = "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1";
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return found;
}

static void empty_file_gets_latest_schema(void **state)
{
    (void)state;
    char err[256];
    store *s = store_open(path, "FULL", err, sizeof err);
    assert_non_null(s);
    assert_int_equal(store_version(s), store_latest_version());
    assert_true(has_index(s, "outbox_message"));
    assert_true(has_index(s, "messages_case"));
    sqlite3_stmt *st = store_stmt(s, "PRAGMA journal_mode");
    assert_non_null(st);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_reset(st);
    store_close(s);
}

static void migrates_from_previous_version_keeping_data(void **state)
{
    (void)state;
    char err[256];
    store *s = store_open_at(path, "FULL", store_latest_version() - 1, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(store_version(s), store_latest_version() - 1);
    /* The latest step rebuilds the outbox so that a row's text may be NULL
     * (its message's), keeping the rows and the indexes. */
    assert_int_equal(store_exec(s, "INSERT INTO contacts(channel, address, created_at) "
                                   "VALUES ('zalo', '6142494823000000000', 1)"), 0);
    assert_int_equal(store_exec(s, "INSERT INTO messages(contact_id, channel, direction, kind, "
                                   "text, status, created_at, updated_at) "
                                   "VALUES (1, 'zalo', 'out', 'text', 'Chào bạn', 'queued', 1, 1)"), 0);
    assert_int_equal(store_exec(s, "INSERT INTO outbox(message_id, contact_id, channel, address, "
                                   "text, status, provider_id, created_at, updated_at) "
                                   "VALUES (1, 1, 'zalo', '6142494823000000000', 'Chào bạn', "
                                   "'sent', 'zmid-1', 1, 1)"), 0);
    assert_int_not_equal(store_exec(s, "INSERT INTO outbox(message_id, contact_id, channel, "
                                       "address, text, created_at, updated_at) "
                                       "VALUES (1, 1, 'zalo', 'a', NULL, 1, 1)"), 0);
    store_close(s);

    s = store_open(path, "NORMAL", err, sizeof err);
    assert_non_null(s);
    assert_int_equal(store_version(s), store_latest_version());
    assert_true(has_index(s, "outbox_pending"));
    assert_true(has_index(s, "outbox_provider"));
    assert_true(has_index(s, "outbox_message"));
    sqlite3_stmt *st = store_stmt(s, "SELECT address FROM contacts WHERE channel = 'zalo'");
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "6142494823000000000");
    sqlite3_reset(st);
    st = store_stmt(s, "SELECT text, status, provider_id FROM outbox WHERE id = 1");
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "Chào bạn");
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "sent");
    assert_string_equal((const char *)sqlite3_column_text(st, 2), "zmid-1");
    sqlite3_reset(st);
    assert_int_equal(store_exec(s, "INSERT INTO outbox(message_id, contact_id, channel, address, "
                                   "text, created_at, updated_at) "
                                   "VALUES (1, 1, 'zalo', 'a', NULL, 1, 1)"), 0);
    store_close(s);
}

static void refuses_newer_schema_and_bad_sync(void **state)
{
    (void)state;
    char err[256];
    store *s = store_open(path, "FULL", err, sizeof err);
    assert_non_null(s);
    assert_int_equal(store_exec(s, "PRAGMA user_version = 999"), 0);
    store_close(s);
    s = store_open(path, "FULL", err, sizeof err);
    assert_null(s);
    assert_non_null(strstr(err, "newer"));
    s = store_open("/tmp/x.db", "SOMETIMES", err, sizeof err);
    assert_null(s);
    assert_non_null(strstr(err, "database_synchronous"));
}

static void statement_cache_and_settings(void **state)
{
    (void)state;
    char err[256];
    store *s = store_open(":memory:", "OFF", err, sizeof err);
    assert_non_null(s);
    sqlite3_stmt *a = store_stmt(s, "SELECT 1");
    sqlite3_stmt *b = store_stmt(s, "SELECT 1");
    assert_ptr_equal(a, b);
    assert_null(store_stmt(s, "SELEC nonsense"));
    assert_null(store_setting_get(s, "threshold"));
    assert_int_equal(store_setting_set(s, "threshold", "0.5"), 0);
    assert_int_equal(store_setting_set(s, "threshold", "0.6"), 0);
    char *v = store_setting_get(s, "threshold");
    assert_string_equal(v, "0.6");
    free(v);
    assert_int_equal(store_audit(s, "admin", "settings.update", "threshold", "0.6"), 0);
    sqlite3_stmt *st = store_stmt(s, "SELECT user, action FROM audit");
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "admin");
    sqlite3_reset(st);
    store_close(s);
}

static void duplicate_inbound_provider_id_is_refused(void **state)
{
    (void)state;
    char err[256];
    store *s = store_open(":memory:", "OFF", err, sizeof err);
    assert_non_null(s);
    assert_int_equal(store_exec(s, "INSERT INTO contacts(id, channel, address, created_at) VALUES (1, 'zalo', 'u', 1)"), 0);
    const char *ins = "INSERT INTO messages(contact_id, channel, direction, text, provider_id, status, "
                      "created_at, updated_at) VALUES (1, 'zalo', 'in', 'x', 'm1', 'received', 1, 1)";
    assert_int_equal(store_exec(s, ins), 0);
    assert_int_equal(store_exec(s, ins), -1);   /* unique (channel, provider_id) */
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(empty_file_gets_latest_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(migrates_from_previous_version_keeping_data, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_newer_schema_and_bad_sync, setup, teardown),
        cmocka_unit_test(statement_cache_and_settings),
        cmocka_unit_test(duplicate_inbound_provider_id_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
