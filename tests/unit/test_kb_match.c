/* test_kb_match.c - scoring order on confusable entries, the decision rules
 * (answer, no_match, ambiguous, low_confidence, asked_for_human, threshold
 * and gap), explanations, invalid input, and the eval report's keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "knowledge/kb.h"

/* One topic, three intents that differ only by "bao lâu" / "ở đâu" / "bao
 * nhiêu tiền": the whole difference between three answers. */
static const char *SAME_TOPIC =
    "{\"entries\": ["
    " {\"id\": \"ks-thoi-han\", \"question\": \"Đăng ký khai sinh cho con trong bao lâu?\","
    "  \"answer\": \"Trong 60 ngày kể từ ngày sinh.\"},"
    " {\"id\": \"ks-noi-lam\", \"question\": \"Đăng ký khai sinh cho con ở đâu?\","
    "  \"answer\": \"Tại UBND cấp xã nơi cư trú của cha hoặc mẹ.\"},"
    " {\"id\": \"ks-le-phi\", \"question\": \"Đăng ký khai sinh cho con hết bao nhiêu tiền?\","
    "  \"answer\": \"Đăng ký đúng hạn được miễn lệ phí.\"},"
    " {\"id\": \"tu-van\", \"question\": \"Muốn nói chuyện với bác sĩ tư vấn thì gọi số nào?\","
    "  \"answer\": \"Gọi đường dây tư vấn sức khỏe.\"},"
    " {\"id\": \"mat-dien\", \"question\": \"Mất điện thì báo ở đâu?\", \"answer\": \"Gọi điện lực.\"}"
    "]}";

typedef struct fixture {
    kb *shipped, *small;
} fixture;

static int setup(void **state)
{
    char err[512];
    fixture *f = calloc(1, sizeof *f);
    kb_corpus *c = kb_corpus_new(), *s = kb_corpus_new();
    kb_lexicon *lex = kb_lexicon_load_file("knowledge/data/lexicon.json", err, sizeof err);
    if (!f || !c || !s || !lex || kb_corpus_load_file(c, "knowledge/data/faq.json", err, sizeof err) < 0 ||
        kb_corpus_from_json(s, SAME_TOPIC, strlen(SAME_TOPIC), err, sizeof err) < 0) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    f->shipped = kb_build(c, lex);
    f->small = kb_build(s, lex);
    kb_corpus_free(c);
    kb_corpus_free(s);
    kb_lexicon_free(lex);
    if (!f->shipped || !f->small)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    kb_thread_cleanup();
    kb_free(f->shipped);
    kb_free(f->small);
    free(f);
    return 0;
}

static const char *top_id(const kb *k, const char *text)
{
    static kb_result r;
    assert_int_equal(kb_match(k, text, NULL, &r), 0);
    return r.n_cand ? r.cand[0].entry->id : "(none)";
}

static void test_confusable_intents(void **state)
{
    fixture *f = *state;
    assert_string_equal(top_id(f->small, "khai sinh cho con mất bao lâu"), "ks-thoi-han");
    assert_string_equal(top_id(f->small, "khai sinh cho con ở đâu"), "ks-noi-lam");
    assert_string_equal(top_id(f->small, "khai sinh cho con bao nhiêu tiền"), "ks-le-phi");
    /* the same without diacritics, in teencode */
    assert_string_equal(top_id(f->small, "ks cho con bao lau"), "ks-thoi-han");
    assert_string_equal(top_id(f->small, "DANG KY KHAI SINH O DAU"), "ks-noi-lam");
    assert_string_equal(top_id(f->small, "lam khai sinh het bn tien"), "ks-le-phi");
    /* mất tiền is a question of cost, not of time */
    assert_string_equal(top_id(f->small, "khai sinh có mất tiền ko"), "ks-le-phi");
}

static void test_confusable_shipped(void **state)
{
    fixture *f = *state;
    assert_string_equal(top_id(f->shipped, "chích ngừa covid ở đâu"), "tiem-chung-dia-diem");
    assert_string_equal(top_id(f->shipped, "xet nghiem pcr het bao nhieu tien"), "xet-nghiem-gia-pcr");
    assert_string_equal(top_id(f->shipped, "test nhanh bao nhieu tien"), "xet-nghiem-gia-test-nhanh");
    assert_string_equal(top_id(f->shipped, "F0 cách ly mấy ngày"), "f0-thoi-gian-cach-ly");
    assert_string_equal(top_id(f->shipped, "mat cccd lam lai o dau"), "cccd-cap-doi-cap-lai");
    assert_string_equal(top_id(f->shipped, "lam cccd lan dau cho con 14 tuoi"), "cccd-cap-moi");
    assert_string_equal(top_id(f->shipped, "sang tên bìa đỏ"), "so-do-sang-ten");
    assert_string_equal(top_id(f->shipped, "lần đầu làm sổ hồng"), "so-do-cap-lan-dau");
}

static void test_decide_answer(void **state)
{
    fixture *f = *state;
    kb_result r;
    assert_int_equal(kb_match(f->shipped, "Cho em hỏi tiêm vắc xin covid ở đâu ạ", NULL, &r), 0);
    assert_int_equal(r.action, KB_ANSWER);
    assert_int_equal(r.reason, KB_REASON_NONE);
    assert_string_equal(r.cand[0].entry->id, "tiem-chung-dia-diem");
    assert_true(r.confidence > 0 && r.confidence <= 1);
    assert_true(r.n_cand == KB_TOP);
    assert_true(r.cand[0].confidence >= r.cand[1].confidence);
    /* the explanation names the terms, best first */
    assert_true(r.cand[0].n_terms > 0 && r.cand[0].n_terms <= KB_MAX_TERMS);
    assert_true(r.cand[0].terms[0].score >= r.cand[0].terms[r.cand[0].n_terms - 1].score);
    int seen_tiem = 0;
    for (size_t i = 0; i < r.cand[0].n_terms; i++)
        seen_tiem |= strcmp(r.cand[0].terms[i].term, "tiem") == 0;
    assert_true(seen_tiem);
}

static void test_decide_no_match(void **state)
{
    fixture *f = *state;
    const char *junk[] = {"asdfghjkl", "?", "😀😀", "", "alo", "Dạ em cảm ơn ạ", "0912345678"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        kb_result r;
        assert_int_equal(kb_match(f->shipped, junk[i], NULL, &r), 0);
        assert_int_equal(r.action, KB_ESCALATE);
        assert_int_equal(r.reason, KB_NO_MATCH);
    }
}

/* "đăng ký khai sinh" fits three entries equally: never answer one of them. */
static void test_decide_ambiguous(void **state)
{
    fixture *f = *state;
    kb_result r;
    kb_params p = {0.0, 0.1};
    assert_int_equal(kb_match(f->small, "đăng ký khai sinh cho con", &p, &r), 0);
    assert_int_equal(r.action, KB_ESCALATE);
    assert_int_equal(r.reason, KB_AMBIGUOUS);
    assert_true(r.n_cand >= 2);
    /* with no gap required, the same message is answered */
    p.gap = -1;
    assert_int_equal(kb_match(f->small, "đăng ký khai sinh cho con", &p, &r), 0);
    assert_int_equal(r.action, KB_ANSWER);
}

/* Close confidences are not ambiguous when the runner-up explains nothing
 * the top does not, and the top explains a telling part it lacks ("ở đâu"
 * against two siblings that only share "khai sinh cho con"): even with a
 * gap no lead could meet, the top is answered. */
static void test_decide_clear_lead(void **state)
{
    fixture *f = *state;
    kb_result r;
    kb_params p = {0.0, 0.99};
    assert_int_equal(kb_match(f->small, "khai sinh cho con ở đâu", &p, &r), 0);
    assert_string_equal(r.cand[0].entry->id, "ks-noi-lam");
    assert_true(r.cand[0].confidence - r.cand[1].confidence < p.gap);
    assert_int_equal(r.action, KB_ANSWER);
    /* nothing telling of its own: the same siblings stay ambiguous */
    assert_int_equal(kb_match(f->small, "đăng ký khai sinh cho con", &p, &r), 0);
    assert_int_equal(r.reason, KB_AMBIGUOUS);
}

static void test_decide_threshold(void **state)
{
    fixture *f = *state;
    kb_result r;
    kb_params p = kb_params_default();
    const char *q = "khai sinh cho con ở đâu";
    assert_int_equal(kb_match(f->small, q, &p, &r), 0);
    assert_int_equal(r.action, KB_ANSWER);
    double conf = r.confidence;
    p.threshold = conf + 0.01;
    assert_int_equal(kb_match(f->small, q, &p, &r), 0);
    assert_int_equal(r.action, KB_ESCALATE);
    assert_int_equal(r.reason, KB_LOW_CONFIDENCE);
    p.threshold = conf;
    assert_int_equal(kb_match(f->small, q, &p, &r), 0);
    assert_int_equal(r.action, KB_ANSWER);
}

/* A long message mostly about something else is not confident even when it
 * contains an entry's words. */
static void test_decide_low_confidence_off_topic(void **state)
{
    fixture *f = *state;
    kb_result r;
    assert_int_equal(kb_match(f->shipped, "hàng xóm hát karaoke ồn ào đến nửa đêm, chó sủa, xe máy nẹt pô,"
                                          " tôi muốn hỏi tiêm vắc xin", NULL, &r), 0);
    assert_int_equal(r.action, KB_ESCALATE);
}

static void test_decide_asked_human(void **state)
{
    fixture *f = *state;
    kb_result r;
    assert_int_equal(kb_match(f->shipped, "mất điện từ sáng, cho em gặp nhân viên", NULL, &r), 0);
    assert_int_equal(r.action, KB_ESCALATE);
    assert_int_equal(r.reason, KB_ASKED_HUMAN);
    assert_int_equal(kb_match(f->shipped, "toi muon noi chuyen voi nguoi that", NULL, &r), 0);
    assert_int_equal(r.reason, KB_ASKED_HUMAN);
    /* an entry that is itself about reaching a doctor may answer */
    assert_int_equal(kb_match(f->small, "muốn nói chuyện với bác sĩ tư vấn gọi số nào", NULL, &r), 0);
    assert_string_equal(r.cand[0].entry->id, "tu-van");
    assert_int_not_equal(r.reason, KB_ASKED_HUMAN);
}

static void test_invalid_input(void **state)
{
    fixture *f = *state;
    kb_result r;
    assert_int_equal(kb_match(f->shipped, "ti\xeam vac xin \xff", NULL, &r), -1);
    assert_int_equal(r.action, KB_ESCALATE);
    assert_int_equal(r.reason, KB_NO_MATCH);
    assert_int_equal(r.n_cand, 0);
    assert_int_equal(kb_match(NULL, "x", NULL, &r), -1);
    assert_int_equal(kb_match(f->shipped, NULL, NULL, &r), -1);
    /* arbitrary bytes never crash */
    unsigned seed = 12345;
    char buf[257];
    for (int i = 0; i < 2000; i++) {
        size_t n = (seed = seed * 1103515245u + 12345u) % 256;
        for (size_t j = 0; j < n; j++)
            buf[j] = (char)((seed = seed * 1103515245u + 12345u) >> 16);
        buf[n] = '\0';
        int rc = kb_match(f->shipped, buf, NULL, &r);
        assert_true(rc == 0 || rc == -1);
        assert_true(r.confidence >= 0 && r.confidence <= 1);
    }
}

static void test_reason_names(void **state)
{
    (void)state;
    assert_string_equal(kb_reason_name(KB_NO_MATCH), "no_match");
    assert_string_equal(kb_reason_name(KB_AMBIGUOUS), "ambiguous");
    assert_string_equal(kb_reason_name(KB_LOW_CONFIDENCE), "low_confidence");
    assert_string_equal(kb_reason_name(KB_ASKED_HUMAN), "asked_for_human");
    kb_params p = kb_params_default();
    assert_true(p.threshold > 0 && p.threshold < 1);
    assert_true(p.gap > 0 && p.gap < 1);
}

static void test_lookup(void **state)
{
    fixture *f = *state;
    assert_int_equal(kb_size(f->shipped), 80);
    assert_non_null(kb_find(f->shipped, "mat-dien"));
    assert_null(kb_find(f->shipped, "no-such-id"));
    assert_non_null(kb_entry_at(f->shipped, 79));
    assert_null(kb_entry_at(f->shipped, 80));
}

static void test_eval_report(void **state)
{
    fixture *f = *state;
    const char *set = "{\"text\": \"khai sinh cho con ở đâu\", \"expect\": \"ks-noi-lam\"}\n"
                      "\n"
                      "{\"text\": \"ks het bn tien\", \"expect\": \"ks-le-phi\"}\n"
                      "{\"text\": \"mất điện báo ở đâu\", \"expect\": \"ks-noi-lam\"}\n"
                      "{\"text\": \"giá vàng hôm nay\", \"expect\": null}\n";
    kb_eval_report r;
    char err[256];
    kb_params p = kb_params_default();
    assert_int_equal(kb_eval_run(f->small, set, strlen(set), &p, 0, &r, err, sizeof err), 0);
    assert_int_equal(r.answerable, 3);
    assert_int_equal(r.oos, 1);
    assert_int_equal(r.top1_n, 2);
    assert_true(r.oos_rejection == 1.0);
    assert_true(r.n_misses >= 1);
    assert_int_equal(r.misses[0].line, 4);       /* blank lines still count */
    char *json = kb_eval_to_json(&r);
    assert_non_null(json);
    cJSON *o = cJSON_Parse(json);
    assert_non_null(o);
    const char *keys[] = {"answerable", "oos", "top1", "top3", "auto_answered", "auto_correct", "precision",
                          "coverage", "oos_rejection", "threshold", "sweep"};
    int n = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, o) n++;
    assert_int_equal(n, (int)(sizeof keys / sizeof keys[0]));
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_non_null(cJSON_GetObjectItemCaseSensitive(o, keys[i]));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "sweep")), KB_SWEEP_MAX);
    cJSON_Delete(o);
    free(json);
    kb_eval_free(&r);
    /* errors name the line */
    const char *bad = "{\"text\": \"a\", \"expect\": null}\n{\"txt\": \"b\"}\n";
    assert_int_equal(kb_eval_run(f->small, bad, strlen(bad), &p, 0, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_confusable_intents),
        cmocka_unit_test(test_confusable_shipped),
        cmocka_unit_test(test_decide_answer),
        cmocka_unit_test(test_decide_no_match),
        cmocka_unit_test(test_decide_ambiguous),
        cmocka_unit_test(test_decide_clear_lead),
        cmocka_unit_test(test_decide_threshold),
        cmocka_unit_test(test_decide_low_confidence_off_topic),
        cmocka_unit_test(test_decide_asked_human),
        cmocka_unit_test(test_invalid_input),
        cmocka_unit_test(test_reason_names),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_eval_report),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
