/* test_kb_normalize.c - Vietnamese normalisation: kb_fold, kb_unaccent and
 * the exact syllable keys (NFD, "Unicode tổ hợp", đ and its look-alikes,
 * tone placement, ALL CAPS, emoji, zero-width characters, invalid UTF-8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "knowledge/kb_internal.h"

static void fold_is(const char *in, const char *want)
{
    char *f = kb_fold(in);
    assert_non_null(f);
    assert_string_equal(f, want);
    free(f);
}

static void test_fold_basic(void **state)
{
    (void)state;
    fold_is("Tiêm vắc xin COVID-19 ở đâu?", "tiem vac xin covid 19 o dau");
    fold_is("Được", "duoc");
    fold_is("ĐĂNG KÝ KHAI SINH", "dang ky khai sinh");
    fold_is("  nhiều   khoảng  trắng  ", "nhieu khoang trang");
    fold_is("", "");
}

/* "ệ", "ợ", "ờ", "ữ" carry two marks: SQLite's remove_diacritics 1 keeps
 * them; we must not. */
static void test_fold_two_marks(void **state)
{
    (void)state;
    fold_is("bệnh viện người được những", "benh vien nguoi duoc nhung");
}

static void test_fold_nfd(void **state)
{
    (void)state;
    /* "Tiêm" fully decomposed: e + U+0302 */
    fold_is("Tie\xcc\x82m", "tiem");
    /* "được" in NFD: đ u+031B o+031B+0323 c */
    fold_is("\xc4\x91u\xcc\x9bo\xcc\x9b\xcc\xa3\x63", "duoc");
}

/* Unicode tổ hợp: precomposed vowel with its quality mark, then a
 * combining tone mark ("ố" as "ô" + U+0301). */
static void test_fold_to_hop(void **state)
{
    (void)state;
    fold_is("t\xc3\xb4\xcc\x81i", "toi");                  /* tối */
    fold_is("\xc6\xb0\xcc\x80", "u");                       /* ừ */
}

static void test_fold_d(void **state)
{
    (void)state;
    fold_is("đ Đ ð Ð", "d d d d");
    fold_is("ĐƯỜNG DÂY NÓNG", "duong day nong");
    fold_is("\xc3\x90\xc6\xb0\xe1\xbb\xa3\x63", "duoc");    /* Ð (eth) + ược */
}

static void test_fold_caps_emoji_zw(void **state)
{
    (void)state;
    fold_is("XIN CHÀO 😀👍 tổng đài!!!", "xin chao tong dai");
    /* zero-width space / joiner / BOM inside a word do not split it */
    fold_is("ti\xe2\x80\x8b\xc3\xaam va\xe2\x80\x8d\x63 xin\xef\xbb\xbf", "tiem vac xin");
    /* fullwidth letters and digits (some phone keyboards) */
    fold_is("\xef\xbc\xa6\xef\xbc\x90", "f0");
}

static void test_fold_invalid(void **state)
{
    (void)state;
    assert_null(kb_fold("ti\xff\xfe"));
    assert_null(kb_fold("\xc3"));                  /* truncated sequence */
    assert_null(kb_fold("\xed\xa0\x80"));          /* a surrogate */
    assert_null(kb_fold(NULL));
}

static void test_unaccent(void **state)
{
    (void)state;
    char *s = kb_unaccent("Được ạ? Đăng ký ở đâu, 1022!");
    assert_non_null(s);
    assert_string_equal(s, "Duoc a? Dang ky o dau, 1022!");
    free(s);
    assert_null(kb_unaccent("\xff"));
}

/* Exact keys: same key whatever the tone placement or the encoding; a
 * different tone gives a different key. */
static void exact_of(const char *in, char *out, size_t cap)
{
    kb_toks t = {0};
    assert_int_equal(kb_tokenize(in, strlen(in), &t), 0);
    assert_int_equal(t.n, 1);
    snprintf(out, cap, "%s", t.v[0].exact);
    kb_toks_free(&t);
}

static void test_tone_placement(void **state)
{
    (void)state;
    char a[64], b[64];
    exact_of("hoà", a, sizeof a);
    exact_of("hòa", b, sizeof b);
    assert_string_equal(a, b);
    exact_of("thuỷ", a, sizeof a);
    exact_of("thủy", b, sizeof b);
    assert_string_equal(a, b);
    exact_of("khoẻ", a, sizeof a);
    exact_of("KHỎE", b, sizeof b);
    assert_string_equal(a, b);
    /* NFD and tổ hợp input give the NFC key */
    exact_of("tối", a, sizeof a);
    exact_of("t\xc3\xb4\xcc\x81i", b, sizeof b);
    assert_string_equal(a, b);
    /* different tones stay different: bao lâu is not bảo lưu */
    exact_of("má", a, sizeof a);
    exact_of("mà", b, sizeof b);
    assert_string_not_equal(a, b);
    exact_of("bao", a, sizeof a);
    exact_of("bảo", b, sizeof b);
    assert_string_not_equal(a, b);
}

static void test_marked_flag(void **state)
{
    (void)state;
    kb_toks t = {0};
    const char *s = "tiem tiêm đi";
    assert_int_equal(kb_tokenize(s, strlen(s), &t), 0);
    assert_int_equal(t.n, 3);
    assert_false(t.v[0].marked);
    assert_string_equal(t.v[0].exact, "");
    assert_true(t.v[1].marked);
    assert_true(t.v[2].marked);    /* đ alone is a mark */
    assert_string_equal(t.v[2].fold, "di");
    assert_true(t.has_marks);
    kb_toks_free(&t);
}

/* i/y after a consonant: "lý"/"lí", "kỳ"/"kì" are one word; "y tế" and
 * "tuy" keep their y. */
static void test_i_y(void **state)
{
    (void)state;
    kb_toks t = {0};
    const char *s = "lý lí kỳ kì y tuy quy";
    assert_int_equal(kb_tokenize(s, strlen(s), &t), 0);
    assert_int_equal(t.n, 7);
    assert_string_equal(t.v[0].fold, t.v[1].fold);
    assert_string_equal(t.v[0].exact, t.v[1].exact);
    assert_string_equal(t.v[2].fold, t.v[3].fold);
    assert_string_equal(t.v[4].fold, "y");
    assert_string_equal(t.v[5].fold, "tuy");
    assert_string_equal(t.v[6].fold, "quy");
    kb_toks_free(&t);
}

static void test_tokenize_invalid(void **state)
{
    (void)state;
    kb_toks t = {0};
    assert_int_equal(kb_tokenize("abc \xc3\x28 def", 9, &t), -1);
    assert_int_equal(t.n, 0);
    kb_toks_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_basic),
        cmocka_unit_test(test_fold_two_marks),
        cmocka_unit_test(test_fold_nfd),
        cmocka_unit_test(test_fold_to_hop),
        cmocka_unit_test(test_fold_d),
        cmocka_unit_test(test_fold_caps_emoji_zw),
        cmocka_unit_test(test_fold_invalid),
        cmocka_unit_test(test_unaccent),
        cmocka_unit_test(test_tone_placement),
        cmocka_unit_test(test_marked_flag),
        cmocka_unit_test(test_i_y),
        cmocka_unit_test(test_tokenize_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
