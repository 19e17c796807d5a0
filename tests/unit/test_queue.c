/* test_queue.c - the case lifecycle: open/join, holding reply once, claim
 * conflicts, release, resolve with proposals, listing order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/queue.h"

static hl_app app;

static long long exec_id(const char *sql)
{
    assert_int_equal(store_exec(app.db, sql), 0);
    return sqlite3_last_insert_rowid(store_db(app.db));
}

static long long contact(const char *addr)
{
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO contacts(channel, address, created_at) "
                              "VALUES ('web', '%s', 1)", addr);
    return exec_id(sql);
}

static long long inbound(long long contact_id, const char *text)
{
    char sql[512];
    snprintf(sql, sizeof sql, "INSERT INTO messages(contact_id, channel, direction, text, status, "
                              "created_at, updated_at) VALUES (%lld, 'web', 'in', '%s', 'processed', 1, 1)",
             contact_id, text);
    return exec_id(sql);
}

static int setup(void **state)
{
    (void)state;
    char err[256];
    memset(&app, 0, sizeof app);
    app.db = store_open(":memory:", "OFF", err, sizeof err);
    if (!app.db)
        return -1;
    return store_exec(app.db, "INSERT INTO entries(id, question, answer, updated_at) "
                              "VALUES ('mat-nuoc', 'Mất nước?', 'Gọi công ty nước.', 1)");
}

static int teardown(void **state)
{
    (void)state;
    store_close(app.db);
    return 0;
}

static void open_join_and_holding_once(void **state)
{
    (void)state;
    long long c = contact("v1"), cid = 0, cid2 = 0, m1 = inbound(c, "một"), m2 = inbound(c, "hai");
    int hold = -1;
    assert_int_equal(queue_contact_state(&app, c, &cid), 0);
    assert_int_equal(queue_escalate(&app, c, m1, "no_match", NULL, &cid, &hold), 0);
    assert_true(cid > 0);
    assert_int_equal(hold, 1);
    assert_int_equal(queue_mark_holding_sent(&app, cid), 0);
    assert_int_equal(queue_escalate(&app, c, m2, "ambiguous",
                                    "[{\"entry_id\":\"mat-nuoc\",\"confidence\":0.4}]", &cid2, &hold), 0);
    assert_int_equal(cid2, cid);           /* joined, one case per contact */
    assert_int_equal(hold, 0);             /* holding reply once per case */
    assert_int_equal(queue_contact_state(&app, c, &cid2), 1);

    cJSON *j = queue_case_json(&app, cid, 1);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "reason")->valuestring, "no_match");  /* kept */
    assert_int_equal(cJSON_GetObjectItem(j, "message_count")->valueint, 2);
    assert_string_equal(cJSON_GetObjectItem(j, "last_text")->valuestring, "hai");
    cJSON *cands = cJSON_GetObjectItem(j, "candidates");
    assert_int_equal(cJSON_GetArraySize(cands), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cands, 0), "answer")->valuestring,
                        "Gọi công ty nước.");
    cJSON_Delete(j);
}

static void claim_release_resolve(void **state)
{
    (void)state;
    char err[200];
    long long c = contact("v2"), cid = 0, m = inbound(c, "câu hỏi lạ");
    assert_int_equal(queue_escalate(&app, c, m, "no_match", NULL, &cid, NULL), 0);
    assert_int_equal(queue_claim(&app, 999, "an", 0, err, sizeof err), QUEUE_NOT_FOUND);
    assert_int_equal(queue_claim(&app, cid, "an", 0, err, sizeof err), QUEUE_OK);
    assert_int_equal(queue_contact_state(&app, c, NULL), 2);
    assert_int_equal(queue_claim(&app, cid, "an", 0, err, sizeof err), QUEUE_OK);
    assert_int_equal(queue_claim(&app, cid, "binh", 0, err, sizeof err), QUEUE_CONFLICT);
    assert_int_equal(queue_claim(&app, cid, "boss", 1, err, sizeof err), QUEUE_CONFLICT);
    assert_int_equal(queue_release(&app, cid, "binh", 0, err, sizeof err), QUEUE_CONFLICT);
    assert_int_equal(queue_resolve(&app, cid, "binh", 0, NULL, err, sizeof err), QUEUE_CONFLICT);
    assert_int_equal(queue_release(&app, cid, "boss", 1, err, sizeof err), QUEUE_OK);  /* admin */
    assert_int_equal(queue_contact_state(&app, c, NULL), 1);
    assert_int_equal(queue_claim(&app, cid, "binh", 0, err, sizeof err), QUEUE_OK);

    cJSON *bad = cJSON_Parse("{\"entry_id\":\"no-such\"}");
    assert_int_equal(queue_resolve(&app, cid, "binh", 0, bad, err, sizeof err), QUEUE_BAD);
    cJSON_Delete(bad);
    bad = cJSON_Parse("{\"question\":\"only a question\"}");
    assert_int_equal(queue_resolve(&app, cid, "binh", 0, bad, err, sizeof err), QUEUE_BAD);
    cJSON_Delete(bad);
    assert_int_equal(queue_contact_state(&app, c, NULL), 2);   /* nothing changed */

    cJSON *p = cJSON_Parse("{\"entry_id\":\"mat-nuoc\"}");
    assert_int_equal(queue_resolve(&app, cid, "binh", 0, p, err, sizeof err), QUEUE_OK);
    cJSON_Delete(p);
    assert_int_equal(queue_contact_state(&app, c, NULL), 0);
    assert_int_equal(queue_resolve(&app, cid, "binh", 0, NULL, err, sizeof err), QUEUE_CONFLICT);
    assert_int_equal(queue_claim(&app, cid, "binh", 0, err, sizeof err), QUEUE_CONFLICT);
    long long mid;
    assert_int_equal(queue_reply(&app, cid, "binh", 0, "muộn", &mid, err, sizeof err), QUEUE_CONFLICT);
    assert_int_equal(queue_reply(&app, cid, "binh", 0, "  \n", &mid, err, sizeof err), QUEUE_BAD);

    sqlite3_stmt *st = store_stmt(app.db, "SELECT text, entry_id, proposed_by, status FROM proposals");
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "câu hỏi lạ");
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "mat-nuoc");
    assert_string_equal((const char *)sqlite3_column_text(st, 2), "binh");
    assert_string_equal((const char *)sqlite3_column_text(st, 3), "pending");
    sqlite3_reset(st);

    /* the next escalation opens a new case */
    long long cid2 = 0;
    assert_int_equal(queue_escalate(&app, c, inbound(c, "lại hỏi"), "no_match", NULL, &cid2, NULL), 0);
    assert_true(cid2 != cid);
}

static void lists_oldest_first(void **state)
{
    (void)state;
    char err[200];
    long long ids[3];
    const char *names[3] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        long long c = contact(names[i]);
        assert_int_equal(queue_escalate(&app, c, inbound(c, names[i]), "no_match", NULL, &ids[i], NULL), 0);
    }
    assert_int_equal(store_exec(app.db, "UPDATE cases SET opened_at = 100 - id"), 0);
    assert_int_equal(queue_claim(&app, ids[1], "an", 0, err, sizeof err), QUEUE_OK);
    int bad = 0;
    cJSON *all = queue_list(&app, NULL, &bad), *open = queue_list(&app, "open", &bad);
    assert_int_equal(cJSON_GetArraySize(all), 3);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(all, 0), "id")->valueint, (int)ids[2]);
    assert_int_equal(cJSON_GetArraySize(open), 2);
    cJSON_Delete(all);
    cJSON_Delete(open);
    assert_null(queue_list(&app, "bogus", &bad));
    assert_int_equal(bad, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(open_join_and_holding_once, setup, teardown),
        cmocka_unit_test_setup_teardown(claim_release_resolve, setup, teardown),
        cmocka_unit_test_setup_teardown(lists_oldest_first, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
