/* test_kb_corpus.c - the corpus: faq.json and CSV parsing, errors that name
 * the entry or the line, upsert by id, export and re-import. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "knowledge/kb.h"

static void test_shipped_corpus(void **state)
{
    (void)state;
    char err[512];
    kb_corpus *c = kb_corpus_new();
    assert_non_null(c);
    if (kb_corpus_load_file(c, "knowledge/data/faq.json", err, sizeof err) < 0)
        fail_msg("%s", err);
    assert_int_equal(c->n, 80);
    const kb_entry *e = kb_corpus_find(c, "tiem-chung-dia-diem");
    assert_non_null(e);
    assert_string_equal(e->question, "Tiêm vắc xin COVID-19 ở đâu?");
    assert_int_equal(e->n_variants, 3);
    assert_true(e->n_keywords >= 1);
    assert_true(e->keywords[0].weight > 1.0);
    assert_true(e->enabled);
    assert_non_null(e->answer_sms);
    kb_corpus_free(c);
}

static int parse_json(const char *s, char *err, size_t errlen)
{
    kb_corpus *c = kb_corpus_new();
    int rc = kb_corpus_from_json(c, s, strlen(s), err, errlen);
    kb_corpus_free(c);
    return rc;
}

static void test_json_errors(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(parse_json("{\"entries\": [{\"id\": \"a\", \"question\": \"q\", \"answer\": \"x\"},"
                                " {\"id\": \"thu-tuc\", \"question\": \"Hỏi gì?\"}]}", err, sizeof err), -1);
    assert_non_null(strstr(err, "\"thu-tuc\""));
    assert_non_null(strstr(err, "answer"));
    assert_int_equal(parse_json("{\"entries\": [{\"answer\": \"x\"}]}", err, sizeof err), -1);
    assert_non_null(strstr(err, "entry 1"));
    assert_non_null(strstr(err, "question"));
    assert_int_equal(parse_json("{\"entries\": [{\"id\": \"k\", \"question\": \"q\", \"answer\": \"a\","
                                " \"keywords\": [{\"term\": \"x\", \"weight\": \"nặng\"}]}]}", err, sizeof err), -1);
    assert_non_null(strstr(err, "\"k\""));
    assert_non_null(strstr(err, "weight"));
    assert_int_equal(parse_json("{\"entries\": [\n{\"id\": \"a\",\n\"question\": }\n]}", err, sizeof err), -1);
    assert_non_null(strstr(err, "line 3"));
    assert_int_equal(parse_json("{\"items\": []}", err, sizeof err), -1);
    assert_non_null(strstr(err, "entries"));
}

/* An outside FAQ: questions and answers only, ids derived, keywords as
 * strings accepted; an entry with the same id replaces the older one. */
static void test_json_minimal_and_upsert(void **state)
{
    (void)state;
    char err[512];
    kb_corpus *c = kb_corpus_new();
    const char *s = "{\"entries\": [{\"question\": \"Làm thẻ căn cước ở đâu?\", \"answer\": \"Công an phường.\"},"
                    " {\"question\": \"Làm thẻ căn cước ở đâu?\", \"answer\": \"Công an xã.\","
                    "  \"keywords\": [\"CCCD\"], \"enabled\": false}]}";
    assert_int_equal(kb_corpus_from_json(c, s, strlen(s), err, sizeof err), 0);
    assert_int_equal(c->n, 1);
    assert_string_equal(c->entries[0].id, "lam-the-can-cuoc-o-dau");
    assert_string_equal(c->entries[0].answer, "Công an xã.");
    assert_int_equal(c->entries[0].n_keywords, 1);
    assert_true(c->entries[0].keywords[0].weight == 1.0);
    assert_false(c->entries[0].enabled);
    kb_corpus_free(c);
}

static void test_json_roundtrip(void **state)
{
    (void)state;
    char err[512];
    kb_corpus *c = kb_corpus_new();
    if (kb_corpus_load_file(c, "knowledge/data/faq.json", err, sizeof err) < 0)
        fail_msg("%s", err);
    char *json = kb_corpus_to_json(c);
    assert_non_null(json);
    kb_corpus *d = kb_corpus_new();
    assert_int_equal(kb_corpus_from_json(d, json, strlen(json), err, sizeof err), 0);
    assert_int_equal(d->n, c->n);
    for (size_t i = 0; i < c->n; i++) {
        assert_string_equal(d->entries[i].id, c->entries[i].id);
        assert_string_equal(d->entries[i].answer, c->entries[i].answer);
        assert_int_equal(d->entries[i].n_keywords, c->entries[i].n_keywords);
    }
    free(json);
    kb_corpus_free(c);
    kb_corpus_free(d);
}

static void test_csv(void **state)
{
    (void)state;
    char err[512];
    kb_corpus *c = kb_corpus_new();
    const char *csv = "\xEF\xBB\xBFquestion,answer,keywords\r\n"
                      "Sổ đỏ làm ở đâu?,\"Bộ phận một cửa, UBND quận.\",sổ đỏ:2.5; đất\r\n"
                      "\n"
                      "\"Hỏi \"\"nhiều\"\" dòng\",\"dòng 1\ndòng 2\"\n"
                      "Mất CCCD?,Làm lại ở công an\n";
    assert_int_equal(kb_corpus_from_csv(c, csv, strlen(csv), err, sizeof err), 0);
    assert_int_equal(c->n, 3);
    assert_string_equal(c->entries[0].answer, "Bộ phận một cửa, UBND quận.");
    assert_int_equal(c->entries[0].n_keywords, 2);
    assert_string_equal(c->entries[0].keywords[0].term, "sổ đỏ");
    assert_true(c->entries[0].keywords[0].weight == 2.5);
    assert_string_equal(c->entries[0].keywords[1].term, "đất");
    assert_string_equal(c->entries[1].question, "Hỏi \"nhiều\" dòng");
    assert_string_equal(c->entries[1].answer, "dòng 1\ndòng 2");
    assert_string_equal(c->entries[2].id, "mat-cccd");
    kb_corpus_free(c);
}

static int parse_csv(const char *s, char *err, size_t errlen)
{
    kb_corpus *c = kb_corpus_new();
    int rc = kb_corpus_from_csv(c, s, strlen(s), err, errlen);
    kb_corpus_free(c);
    return rc;
}

static void test_csv_errors(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(parse_csv("q1,a1\nchỉ có câu hỏi\n", err, sizeof err), -1);
    assert_non_null(strstr(err, "line 2"));
    assert_int_equal(parse_csv("q1,a1\n\"q2\nstill q2,a2\n", err, sizeof err), -1);
    assert_non_null(strstr(err, "line 2"));
    assert_non_null(strstr(err, "unterminated"));
    assert_int_equal(parse_csv("q,a\nq2,a2,k,extra\n", err, sizeof err), -1);
    assert_non_null(strstr(err, "line 2"));
    assert_int_equal(parse_csv("q,a\nq3,\n", err, sizeof err), -1);
    assert_non_null(strstr(err, "empty answer"));
    assert_int_equal(parse_csv("q,a\nq4,a4,x:heavy\n", err, sizeof err), -1);
    assert_non_null(strstr(err, "weight"));
    assert_int_equal(parse_csv("q,a\nq5,\xff\xfe\n", err, sizeof err), -1);
    assert_non_null(strstr(err, "UTF-8"));
}

static void test_load_file_errors(void **state)
{
    (void)state;
    char err[512];
    kb_corpus *c = kb_corpus_new();
    assert_int_equal(kb_corpus_load_file(c, "knowledge/data/no-such.json", err, sizeof err), -1);
    assert_non_null(strstr(err, "no-such.json"));
    assert_int_equal(kb_corpus_load_file(c, "knowledge/data/faq.txt", err, sizeof err), -1);
    assert_non_null(strstr(err, "faq.txt"));
    kb_corpus_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_corpus),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_json_minimal_and_upsert),
        cmocka_unit_test(test_json_roundtrip),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_load_file_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
