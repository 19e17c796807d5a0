/* test_sms - GSM-7 detection, segment counting, unaccenting, rendering
 * policies and the clean cut; splitting; the shared adapter helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "adapters/adapter.h"

static char *rep(const char *unit, int n)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * (size_t)n + 1);
    assert_non_null(s);
    for (int i = 0; i < n; i++)
        memcpy(s + ul * (size_t)i, unit, ul);
    s[ul * (size_t)n] = '\0';
    return s;
}

static int segs(const char *s, int *coding)
{
    return sms_segments(s, coding);
}

/* ---- GSM-7 ---- */

static void test_gsm7_detection(void **state)
{
    (void)state;
    assert_true(sms_is_gsm7("Hello, world! 0123456789 ?"));
    assert_true(sms_is_gsm7("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ ¤ ¡ÄÖÑÜ§¿äöñüà"));
    assert_true(sms_is_gsm7("line\nbreak\r"));
    /* the extension table */
    assert_true(sms_is_gsm7("^{}\\[]~|€"));
    assert_true(sms_is_gsm7("\f"));
    assert_true(sms_is_gsm7(""));
    /* outside */
    assert_false(sms_is_gsm7("`"));
    assert_false(sms_is_gsm7("Tiêm"));
    assert_false(sms_is_gsm7("đ"));
    assert_false(sms_is_gsm7("Đ"));
    assert_false(sms_is_gsm7("ă"));
    assert_false(sms_is_gsm7("\xF0\x9F\x98\x80"));         /* emoji */
    assert_false(sms_is_gsm7("\xE2\x80\x9Cquoted\xE2\x80\x9D"));
    assert_false(sms_is_gsm7("bad \xFF byte"));
    assert_false(sms_is_gsm7("á"));                          /* á is not in GSM, à is */
}

static void test_segments_gsm(void **state)
{
    (void)state;
    int coding = -1;
    char *s;
    assert_int_equal(segs("", &coding), 1);
    assert_int_equal(coding, 0);
    s = rep("a", 160); assert_int_equal(segs(s, &coding), 1); assert_int_equal(coding, 0); free(s);
    s = rep("a", 161); assert_int_equal(segs(s, NULL), 2); free(s);
    s = rep("a", 306); assert_int_equal(segs(s, NULL), 2); free(s);   /* 2 x 153 */
    s = rep("a", 307); assert_int_equal(segs(s, NULL), 3); free(s);
    s = rep("a", 459); assert_int_equal(segs(s, NULL), 3); free(s);
    s = rep("a", 460); assert_int_equal(segs(s, NULL), 4); free(s);
}

static void test_segments_extension_counts_two(void **state)
{
    (void)state;
    int coding = -1;
    char *s;
    s = rep("€", 80); assert_int_equal(segs(s, &coding), 1); assert_int_equal(coding, 0); free(s);
    s = rep("€", 81); assert_int_equal(segs(s, NULL), 2); free(s);            /* 162 septets */
    s = rep("{", 80); assert_int_equal(segs(s, NULL), 1); free(s);
    char buf[400];
    /* 159 + one extension char = 161 septets */
    s = rep("a", 159); snprintf(buf, sizeof buf, "%s^", s); free(s);
    assert_int_equal(segs(buf, NULL), 2);
    s = rep("a", 158); snprintf(buf, sizeof buf, "%s^", s); free(s);
    assert_int_equal(segs(buf, NULL), 1);
    /* An escape pair never straddles two parts: 152 + [ESC €] + 152 is 306
     * septets (2 x 153 on paper) but needs 3 parts. */
    char *a = rep("a", 152);
    snprintf(buf, sizeof buf, "%s€%s", a, a);
    free(a);
    assert_int_equal(segs(buf, NULL), 3);
}

static void test_segments_ucs2(void **state)
{
    (void)state;
    int coding = -1;
    char *s;
    s = rep("ă", 70); assert_int_equal(segs(s, &coding), 1); assert_int_equal(coding, 2); free(s);
    s = rep("ă", 71); assert_int_equal(segs(s, NULL), 2); free(s);
    s = rep("ă", 134); assert_int_equal(segs(s, NULL), 2); free(s);   /* 2 x 67 */
    s = rep("ă", 135); assert_int_equal(segs(s, NULL), 3); free(s);
    s = rep("ă", 201); assert_int_equal(segs(s, NULL), 3); free(s);
    s = rep("ă", 202); assert_int_equal(segs(s, NULL), 4); free(s);
    /* one accented letter turns a GSM text into UCS-2 */
    char buf[200];
    s = rep("a", 69); snprintf(buf, sizeof buf, "%sđ", s); free(s);
    assert_int_equal(segs(buf, &coding), 1);
    assert_int_equal(coding, 2);
    s = rep("a", 70); snprintf(buf, sizeof buf, "%sđ", s); free(s);
    assert_int_equal(segs(buf, NULL), 2);
    /* an emoji is a surrogate pair: two UTF-16 units */
    s = rep("a", 68); snprintf(buf, sizeof buf, "%s\xF0\x9F\x98\x80", s); free(s);
    assert_int_equal(segs(buf, NULL), 1);
    s = rep("a", 69); snprintf(buf, sizeof buf, "%s\xF0\x9F\x98\x80", s); free(s);
    assert_int_equal(segs(buf, NULL), 2);
}

/* ---- unaccent ---- */

static void check_unaccent(const char *in, const char *want)
{
    char *got = sms_unaccent(in);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_unaccent(void **state)
{
    (void)state;
    check_unaccent("Đường Trần Hưng Đạo", "Duong Tran Hung Dao");
    check_unaccent("Tiêm vắc xin ở đâu?", "Tiem vac xin o dau?");
    check_unaccent("đăng ký khai sinh", "dang ky khai sinh");
    check_unaccent("ỨỪỬỮỰ ứừửữự ƠỚỜỞỠỢ", "UUUUU uuuuu OOOOOO");
    check_unaccent("Giấy chứng nhận quyền sử dụng đất", "Giay chung nhan quyen su dung dat");
    check_unaccent("plain ASCII 123", "plain ASCII 123");
    check_unaccent("", "");
    /* decomposed input (NFD) as some keyboards send it */
    check_unaccent("Vie\xCC\xA3\xCC\x82t", "Viet");
    /* invalid UTF-8 does not break it */
    char *g = sms_unaccent("a\xFF" "b");
    assert_non_null(g);
    assert_int_equal(g[0], 'a');
    free(g);
    assert_true(sms_is_gsm7("Duong Tran Hung Dao"));
}

/* ---- render ---- */

static const char *ACCENTED =
    "Quý khách vui lòng mang theo căn cước công dân và sổ tiêm chủng đến trạm y tế phường "
    "vào sáng thứ Hai hoặc thứ Tư hằng tuần.";

static void test_render_policies(void **state)
{
    (void)state;
    int coding = -1, n = -1;
    /* never: accents kept whatever the cost */
    char *r = sms_render(ACCENTED, "never", 5, "1022", &coding, &n);
    assert_string_equal(r, ACCENTED);
    assert_int_equal(coding, 2);
    assert_int_equal(n, sms_segments(ACCENTED, NULL));
    assert_true(n >= 2);
    free(r);
    /* always */
    r = sms_render("Đường Trần Hưng Đạo", "always", 3, "1022", &coding, &n);
    assert_string_equal(r, "Duong Tran Hung Dao");
    assert_int_equal(coding, 0);
    assert_int_equal(n, 1);
    free(r);
    /* auto, unaccenting saves parts (UCS-2 2 parts -> GSM-7 1 part) */
    r = sms_render(ACCENTED, "auto", 3, "1022", &coding, &n);
    assert_int_equal(coding, 0);
    assert_int_equal(n, 1);
    assert_true(strncmp(r, "Quy khach vui long mang theo can cuoc cong dan", 46) == 0);
    free(r);
    /* auto, no saving: the accented text wins */
    r = sms_render("Gọi 1022", "auto", 3, "1022", &coding, &n);
    assert_string_equal(r, "Gọi 1022");
    assert_int_equal(coding, 2);
    free(r);
    /* NULL / "" policy means auto */
    r = sms_render(ACCENTED, NULL, 3, NULL, &coding, &n);
    assert_int_equal(coding, 0);
    free(r);
    r = sms_render(ACCENTED, "", 3, NULL, &coding, &n);
    assert_int_equal(coding, 0);
    free(r);
    /* typography that would keep UCS-2 is folded when unaccenting */
    r = sms_render("“Chú ý” – mang CCCD…", "always", 3, NULL, &coding, &n);
    assert_string_equal(r, "\"Chu y\" - mang CCCD...");
    assert_int_equal(coding, 0);
    free(r);
    /* short GSM text unchanged */
    r = sms_render("Hello", "auto", 3, "1022", &coding, &n);
    assert_string_equal(r, "Hello");
    assert_int_equal(n, 1);
    free(r);
}

/* A long text cut to max_segments: fits, ends with the pointer, and the kept
 * part is a word-boundary prefix of the text. */
static void check_cut(const char *text, const char *policy, int max, const char *hotline,
                      const char *suffix)
{
    int coding = -1, n = -1;
    char *r = sms_render(text, policy, max, hotline, &coding, &n);
    assert_non_null(r);
    assert_true(n <= max);
    assert_int_equal(n, sms_segments(r, NULL));
    size_t rl = strlen(r), sl = strlen(suffix);
    assert_true(rl > sl);
    assert_string_equal(r + rl - sl, suffix);
    size_t kept = rl - sl;
    char *src = strcmp(policy, "always") == 0 ? sms_unaccent(text) : strdup(text);
    assert_memory_equal(r, src, kept);
    /* clean: the next character of the source is a blank (or punctuation we trimmed) */
    assert_true(src[kept] == ' ' || src[kept] == ',' || src[kept] == '\n');
    assert_true(r[kept - 1] != ' ');
    free(src);
    free(r);
}

static void test_render_clean_cut(void **state)
{
    (void)state;
    char *words = rep("thu tuc hanh chinh, ", 50);     /* 1000 GSM chars */
    check_cut(words, "auto", 3, "1022", " ... Chi tiet: goi 1022");
    check_cut(words, "never", 1, "1022", " ... Chi tiet: goi 1022");
    check_cut(words, "auto", 2, NULL, " ...");
    check_cut(words, "auto", 2, "", " ...");
    /* max_segments 0: no limit */
    int n = 0;
    char *r = sms_render(words, "auto", 0, "1022", NULL, &n);
    assert_string_equal(r, words);
    assert_int_equal(n, 7);
    free(r);
    free(words);

    /* accented and kept accented (never): UCS-2 pointer */
    char *acc = rep("thủ tục hành chính ", 40);
    check_cut(acc, "never", 2, "1022", " … Chi tiết: gọi 1022");
    /* auto unaccents first, then cuts in GSM-7 */
    int coding = -1;
    r = sms_render(acc, "auto", 2, "1022", &coding, &n);
    assert_int_equal(coding, 0);
    assert_true(n <= 2);
    assert_non_null(strstr(r, "thu tuc hanh chinh"));
    assert_string_equal(r + strlen(r) - strlen(" ... Chi tiet: goi 1022"), " ... Chi tiet: goi 1022");
    free(r);
    free(acc);

    /* one enormous word: hard cut, still within bounds */
    char *big = rep("x", 1000);
    r = sms_render(big, "auto", 1, "1022", &coding, &n);
    assert_int_equal(n, 1);
    assert_true(strlen(r) <= 160);
    assert_non_null(strstr(r, "goi 1022"));
    free(r);
    free(big);
}

/* ---- split ---- */

static void test_split(void **state)
{
    (void)state;
    char *parts[8];
    int n = adapter_split("short answer", 2000, parts, 8);
    assert_int_equal(n, 1);
    assert_string_equal(parts[0], "short answer");
    free(parts[0]);

    /* 2000 code points of a 2-byte letter is one part, 2001 two */
    char *s = rep("ă", 2000);
    n = adapter_split(s, 2000, parts, 8);
    assert_int_equal(n, 1);
    free(parts[0]);
    free(s);
    s = rep("ă", 2001);
    n = adapter_split(s, 2000, parts, 8);
    assert_int_equal(n, 2);
    assert_int_equal(strlen(parts[0]), 4000);
    assert_string_equal(parts[1], "ă");
    free(parts[0]);
    free(parts[1]);
    free(s);

    /* sentence boundaries: every part ends with a full sentence */
    char *text = rep("Mot cau tra loi dai. ", 200);   /* 4200 chars */
    n = adapter_split(text, 2000, parts, 8);
    assert_int_equal(n, 3);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(parts[i]);
        assert_true(l <= 2000);
        assert_int_equal(parts[i][l - 1], '.');
        total += l;
        free(parts[i]);
    }
    assert_int_equal(total, strlen(text) - 3);   /* the trailing blank and the two at the cuts */
    free(text);

    /* a paragraph break in the second half wins over later sentence ends */
    char buf[3000];
    char *a = rep("a", 1500), *b = rep("b. ", 300);
    snprintf(buf, sizeof buf, "%s\n\n%s", a, b);
    n = adapter_split(buf, 2000, parts, 8);
    assert_int_equal(n, 2);
    assert_string_equal(parts[0], a);
    free(parts[0]);
    free(parts[1]);
    free(a);
    free(b);

    /* max_parts bounds the output */
    text = rep("word ", 1000);
    n = adapter_split(text, 100, parts, 3);
    assert_int_equal(n, 3);
    for (int i = 0; i < n; i++)
        free(parts[i]);
    free(text);
    assert_int_equal(adapter_split("", 2000, parts, 8), 0);
    assert_int_equal(adapter_split(NULL, 2000, parts, 8), -1);
}

/* ---- helpers ---- */

static void test_registry(void **state)
{
    (void)state;
    const adapter *const *all = adapter_all();
    int n = 0;
    for (; all[n]; n++)
        assert_ptr_equal(adapter_by_name(all[n]->name), all[n]);
    assert_int_equal(n, 4);
    assert_null(adapter_by_name("telegram"));
    assert_null(adapter_by_name(NULL));
    assert_int_equal(adapter_zalo.max_chars, 2000);
    assert_false(adapter_zalo.is_sms);
    assert_true(adapter_kannel.is_sms && adapter_twilio.is_sms && adapter_esms.is_sms);
    assert_null(adapter_esms.inbound_path);
}

static void test_form_and_json(void **state)
{
    (void)state;
    adapter_form f = { 0 };
    const char *q = "a=1&b=x+y%2B&c&d=%00z&e=%C4%91";
    assert_int_equal(adapter_form_parse(&f, q, strlen(q)), 0);
    assert_string_equal(adapter_form_str(&f, "a"), "1");
    assert_string_equal(adapter_form_str(&f, "b"), "x y+");
    assert_string_equal(adapter_form_str(&f, "c"), "");
    const adapter_field *d = adapter_form_get(&f, "d");
    assert_int_equal(d->value_len, 2);
    assert_memory_equal(d->value, "\0z", 2);
    assert_string_equal(adapter_form_str(&f, "e"), "đ");
    assert_null(adapter_form_str(&f, "zz"));
    adapter_form_free(&f);

    char *enc = adapter_urlencode("a b+c/đ&=");
    assert_string_equal(enc, "a%20b%2Bc%2F%C4%91%26%3D");
    free(enc);
    char *u = adapter_join_url("https://x.vn/", "/webhook/esms/dlr");
    assert_string_equal(u, "https://x.vn/webhook/esms/dlr");
    free(u);

    assert_true(adapter_secret_eq("s3cret", "s3cret"));
    assert_false(adapter_secret_eq("s3cret", "s3cre"));
    assert_false(adapter_secret_eq("s3cret", NULL));

    const char *js = "{\"a\":{\"id\": 6142494823000000001 ,\"s\":\"x\\\"y\"},\"n\":[1,{\"id\":2}],"
                     "\"id\":\"str\"}";
    cJSON *root = cJSON_Parse(js);
    char out[64];
    assert_int_equal(adapter_json_text(js, strlen(js), root, out, sizeof out, "a", "id", NULL), 0);
    assert_string_equal(out, "6142494823000000001");
    assert_int_equal(adapter_json_text(js, strlen(js), root, out, sizeof out, "a", "s", NULL), 0);
    assert_string_equal(out, "x\"y");
    assert_int_equal(adapter_json_text(js, strlen(js), root, out, sizeof out, "id", NULL), 0);
    assert_string_equal(out, "str");
    assert_int_equal(adapter_json_text(js, strlen(js), root, out, sizeof out, "n", NULL), -1);
    assert_int_equal(adapter_json_text(js, strlen(js), root, out, sizeof out, "zz", NULL), -1);
    assert_int_equal(adapter_json_text(js, strlen(js), root, out, 4, "a", "id", NULL), -1);
    cJSON_Delete(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gsm7_detection),
        cmocka_unit_test(test_segments_gsm),
        cmocka_unit_test(test_segments_extension_counts_two),
        cmocka_unit_test(test_segments_ucs2),
        cmocka_unit_test(test_unaccent),
        cmocka_unit_test(test_render_policies),
        cmocka_unit_test(test_render_clean_cut),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_form_and_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
