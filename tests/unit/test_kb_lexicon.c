/* test_kb_lexicon.c - syllables and bigrams, and the lexicon: abbreviations,
 * synonyms, units after numbers, weights, requests for a person, the check
 * of diacritics on a folded match, and errors naming the key.  Uses a small
 * lexicon written here and the shipped knowledge/data/lexicon.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "knowledge/kb_internal.h"

static const char *LEX =
    "{\"abbreviations\": {\"ko\": \"không\", \"bn\": \"bao nhiêu\", \"a\": \"anh\"},"
    " \"units\": {\"t\": \"tuổi\"},"
    " \"synonyms\": [[\"tiêm\", \"chích\"], [\"sổ đỏ\", \"bìa đỏ\", \"giấy chứng nhận quyền sử dụng đất\"],"
    "                [\"trẻ em\", \"trẻ\", \"bé\"]],"
    " \"weights\": {\"chào\": 0.1, \"=ạ\": 0.05, \"=vâng\": 0.1},"
    " \"human\": [\"gặp nhân viên\"]}";

/* Space-joined folded syllables of text after the lexicon. */
static char *analyse(const kb_lexicon *l, const char *text, kb_toks *t)
{
    static char buf[512];
    assert_int_equal(kb_analyse(l, text, t), 0);
    buf[0] = '\0';
    for (size_t i = 0; i < t->n; i++) {
        if (i)
            strcat(buf, " ");
        strcat(buf, t->v[i].fold);
    }
    return buf;
}

static kb_lexicon *small(void)
{
    char err[256];
    kb_lexicon *l = kb_lexicon_from_json(LEX, strlen(LEX), err, sizeof err);
    if (!l)
        fail_msg("%s", err);
    return l;
}

static void test_syllables_and_bigrams(void **state)
{
    (void)state;
    kb_toks t = {0};
    assert_string_equal(analyse(NULL, "Căn cước, gắn-chip!", &t), "can cuoc gan chip");
    char key[128];
    assert_true(kb_term_key(&t.v[0], &t.v[1], 0, key, sizeof key) > 0);
    assert_string_equal(key, "can cuoc");
    assert_true(kb_term_key(&t.v[0], NULL, 0, key, sizeof key) > 0);
    assert_string_equal(key, "can");
    /* exact key of a bigram keeps the marks */
    assert_true(kb_term_key(&t.v[0], &t.v[1], 1, key, sizeof key) > 0);
    assert_true(key[0] == '=' && strstr(key, " ") != NULL);
    kb_toks_free(&t);
}

static void test_numbers_and_units(void **state)
{
    (void)state;
    kb_lexicon *l = small();
    kb_toks t = {0};
    /* "76t" splits; the unit reads as tuổi only after a number */
    assert_string_equal(analyse(l, "bố 76t", &t), "bo 76 tuoi");
    assert_true(t.v[1].number);
    assert_string_equal(analyse(l, "t", &t), "t");
    /* a word that starts with a letter stays whole */
    assert_string_equal(analyse(l, "f0 covid19 ct07", &t), "f0 covid19 ct07");
    kb_toks_free(&t);
    kb_lexicon_free(l);
}

static void test_abbreviations(void **state)
{
    (void)state;
    kb_lexicon *l = small();
    kb_toks t = {0};
    assert_string_equal(analyse(l, "tiem ko het bn", &t), "tiem khong het bao nhieu");
    assert_true(t.v[1].lex);
    /* unaccented expansion earns no exact bonus */
    assert_false(t.v[3].marked);
    kb_toks_free(&t);
    kb_lexicon_free(l);
}

static void test_synonyms(void **state)
{
    (void)state;
    kb_lexicon *l = small();
    kb_toks t = {0};
    assert_string_equal(analyse(l, "chích cho bé", &t), "tiem cho tre em");
    /* the longest phrase wins, and a canonical phrase is kept whole */
    assert_string_equal(analyse(l, "giấy chứng nhận quyền sử dụng đất", &t), "so do");
    assert_string_equal(analyse(l, "BIA DO", &t), "so do");
    /* the canonical "trẻ em" is taken whole, not as "trẻ" -> "trẻ em" + "em" */
    assert_string_equal(analyse(l, "trẻ em", &t), "tre em");
    kb_toks_free(&t);
    kb_lexicon_free(l);
}

/* Keys ignore diacritics, but typed marks must agree: "trễ" is not "trẻ",
 * "ạ" is not the abbreviation "a"; unmarked text matches either. */
static void test_marks_checked(void **state)
{
    (void)state;
    kb_lexicon *l = small();
    kb_toks t = {0};
    assert_string_equal(analyse(l, "trễ hẹn", &t), "tre hen");
    assert_string_equal(analyse(l, "trẻ", &t), "tre em");
    assert_string_equal(analyse(l, "tre", &t), "tre em");
    assert_string_equal(analyse(l, "ạ", &t), "a");
    assert_true(t.v[0].weight < 0.1f);
    assert_string_equal(analyse(l, "a", &t), "anh");
    kb_toks_free(&t);
    kb_lexicon_free(l);
}

static void test_weights_and_human(void **state)
{
    (void)state;
    kb_lexicon *l = small();
    kb_toks t = {0};
    analyse(l, "Chào tổng đài, vàng vâng vang", &t);
    assert_true(t.v[0].weight < 0.2f);     /* chào */
    assert_true(t.v[1].weight == 1.0f);    /* tổng */
    assert_true(t.v[3].weight == 1.0f);    /* vàng: marks differ */
    assert_true(t.v[4].weight < 0.2f);     /* vâng */
    assert_true(t.v[5].weight == 1.0f);    /* "=vâng" needs the marks */
    assert_false(kb_lexicon_has_human(&t));
    analyse(l, "cho em gap nhan vien", &t);
    assert_true(kb_lexicon_has_human(&t));
    kb_toks_free(&t);
    kb_lexicon_free(l);
}

static void test_errors_name_key(void **state)
{
    (void)state;
    char err[256];
    const char *bad1 = "{\"abbreviations\": {\"ko\": 3}}";
    assert_null(kb_lexicon_from_json(bad1, strlen(bad1), err, sizeof err));
    assert_non_null(strstr(err, "abbreviations.\"ko\""));
    const char *bad2 = "{\"weights\": {\"chào\": \"low\"}}";
    assert_null(kb_lexicon_from_json(bad2, strlen(bad2), err, sizeof err));
    assert_non_null(strstr(err, "weights.\"chào\""));
    const char *bad3 = "{\"synonyms\": [[\"tiêm\", \"chích\"], [\"sổ đỏ\", 5]]}";
    assert_null(kb_lexicon_from_json(bad3, strlen(bad3), err, sizeof err));
    assert_non_null(strstr(err, "synonyms[1]"));
    const char *bad4 = "{\"synonyms\": [[\"!!!\"]]}";
    assert_null(kb_lexicon_from_json(bad4, strlen(bad4), err, sizeof err));
    assert_non_null(strstr(err, "no letters"));
    const char *bad5 = "{\n\"human\": [\n";
    assert_null(kb_lexicon_from_json(bad5, strlen(bad5), err, sizeof err));
    assert_non_null(strstr(err, "line"));
}

/* The shipped lexicon: the teencode of ../shared/notes/vietnamese.md. */
static void test_shipped_lexicon(void **state)
{
    (void)state;
    char err[256];
    kb_lexicon *l = kb_lexicon_load_file("knowledge/data/lexicon.json", err, sizeof err);
    if (!l)
        fail_msg("%s", err);
    kb_toks t = {0};
    assert_string_equal(analyse(l, "ko dc", &t), "khong duoc");
    assert_string_equal(analyse(l, "ntn", &t), "the nao");
    assert_string_equal(analyse(l, "sdt", &t), "so dien thoai");
    assert_string_equal(analyse(l, "xn", &t), "xet nghiem");
    assert_string_equal(analyse(l, "vacxin", &t), "vac xin");
    assert_string_equal(analyse(l, "vaccine", &t), "vac xin");
    assert_string_equal(analyse(l, "cccd", &t), "can cuoc");
    assert_string_equal(analyse(l, "cmnd", &t), "can cuoc");
    assert_string_equal(analyse(l, "bhyt", &t), "bao hiem y te");
    assert_string_equal(analyse(l, "bìa đỏ", &t), "so do");
    assert_string_equal(analyse(l, "chích ngừa", &t), "tiem phong");
    assert_string_equal(analyse(l, "cô vít", &t), "covid");
    /* i/y spelling: đăng kí is đăng ký */
    char both[128];
    snprintf(both, sizeof both, "%s", analyse(l, "đăng kí", &t));
    assert_string_equal(both, analyse(l, "đăng ký", &t));
    kb_toks_free(&t);
    kb_lexicon *copy = kb_lexicon_dup(l);
    assert_non_null(copy);
    kb_lexicon_free(copy);
    kb_lexicon_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syllables_and_bigrams),
        cmocka_unit_test(test_numbers_and_units),
        cmocka_unit_test(test_abbreviations),
        cmocka_unit_test(test_synonyms),
        cmocka_unit_test(test_marks_checked),
        cmocka_unit_test(test_weights_and_human),
        cmocka_unit_test(test_errors_name_key),
        cmocka_unit_test(test_shipped_lexicon),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
