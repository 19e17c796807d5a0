/* test_zalo - the Zalo OA adapter: webhook signature (a fixed vector and
 * the formula recomputed here), event mapping, ids kept as strings, the
 * send request, the error-code table, the OAuth v4 refresh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "adapters/adapter.h"

#define APP_ID    "2553928453557884079"
#define OA_SECRET "oa-secret-for-tests"
#define APP_SECRET "app-secret-for-tests"

/* The documented example event (channels.md). */
static const char *EXAMPLE =
    "{\"event_name\":\"user_send_text\",\"app_id\":\"2553928453557884079\","
    "\"sender\":{\"id\":\"6142494823000000000\"},\"recipient\":{\"id\":\"3662729599332560487\"},"
    "\"message\":{\"text\":\"tiem vac xin o dau\",\"msg_id\":\"cb31dff1c39642cc1b83\"},"
    "\"timestamp\":\"1699003881354\",\"user_id_by_app\":\"979122185046046317\"}";

/* Computed once by hand:
 *   printf '%s' "2553928453557884079${EXAMPLE}1699003881354oa-secret-for-tests" | sha256sum */
#define EXAMPLE_MAC "adf27f39e2fb1b285d900b6f67ec4ab3a318516e4e2182685f7a33067d2e0c1f"

/* ---- a fake request ---- */

typedef struct fake_in {
    adapter_http_in in;
    const char *names[4];
    const char *values[4];
    int n;
} fake_in;

static const char *fake_header(const adapter_http_in *in, const char *name)
{
    const fake_in *f = in->ctx;
    for (int i = 0; i < f->n; i++)
        if (strcasecmp(f->names[i], name) == 0)
            return f->values[i];
    return NULL;
}

static void fake_init(fake_in *f, const char *body, const char *sig)
{
    memset(f, 0, sizeof *f);
    f->in.method = "POST";
    f->in.path = "/webhook/zalo";
    f->in.body = body;
    f->in.body_len = strlen(body);
    f->in.remote_addr = "127.0.0.1";
    f->in.header = fake_header;
    f->in.ctx = f;
    f->names[f->n] = "Content-Type";
    f->values[f->n++] = "application/json";
    if (sig) {
        f->names[f->n] = "X-ZEvent-Signature";
        f->values[f->n++] = sig;
    }
}

static hl_config cfg_make(void)
{
    hl_config c;
    memset(&c, 0, sizeof c);
    c.zalo.app_id = (char *)APP_ID;
    c.zalo.oa_secret = (char *)OA_SECRET;
    c.zalo.app_secret = (char *)APP_SECRET;
    c.zalo.api_base = (char *)"https://openapi.zalo.me";
    c.zalo.oauth_base = (char *)"https://oauth.zaloapp.com";
    return c;
}

/* The formula, computed independently of the adapter:
 * hex(SHA-256(app_id + body + timestamp + oa_secret)). */
static void mac_of(const char *app_id, const char *body, const char *ts, const char *secret,
                   char out[70])
{
    size_t n = strlen(app_id) + strlen(body) + strlen(ts) + strlen(secret) + 1;
    char *all = malloc(n);
    snprintf(all, n, "%s%s%s%s", app_id, body, ts, secret);
    unsigned char md[32];
    unsigned int l = 0;
    EVP_Digest(all, strlen(all), md, &l, EVP_sha256(), NULL);
    free(all);
    strcpy(out, "mac=");
    for (int i = 0; i < 32; i++)
        sprintf(out + 4 + 2 * i, "%02x", md[i]);
}

static int parse(const hl_config *c, const char *body, const char *sig, adapter_parse *p)
{
    fake_in f;
    fake_init(&f, body, sig);
    memset(p, 0, sizeof *p);
    return adapter_zalo.parse_inbound(c, &f.in, p);
}

/* A body built from a template, signed with the formula. */
static int parse_signed(const hl_config *c, const char *body, adapter_parse *p)
{
    char sig[70];
    cJSON *root = cJSON_Parse(body);
    const cJSON *ts = cJSON_GetObjectItem(root, "timestamp");
    char tsbuf[32];
    if (cJSON_IsString(ts))
        snprintf(tsbuf, sizeof tsbuf, "%s", ts->valuestring);
    else
        snprintf(tsbuf, sizeof tsbuf, "%.0f", ts->valuedouble);
    mac_of(APP_ID, body, tsbuf, OA_SECRET, sig);
    cJSON_Delete(root);
    return parse(c, body, sig, p);
}

/* ---- signature ---- */

static void test_fixed_vector(void **state)
{
    (void)state;
    char sig[70];
    mac_of(APP_ID, EXAMPLE, "1699003881354", OA_SECRET, sig);
    assert_string_equal(sig + 4, EXAMPLE_MAC);     /* the formula agrees with sha256sum */

    hl_config c = cfg_make();
    adapter_parse p;
    assert_int_equal(parse(&c, EXAMPLE, "mac=" EXAMPLE_MAC, &p), 0);
    assert_int_equal(p.status, 200);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.ev[0].kind, AD_TEXT);
    assert_string_equal(p.ev[0].address, "6142494823000000000");
    assert_string_equal(p.ev[0].provider_id, "cb31dff1c39642cc1b83");
    assert_string_equal(p.ev[0].text, "tiem vac xin o dau");
    assert_true(p.ev[0].ts_ms == 1699003881354LL);
    adapter_parse_clear(&p);
    /* "mac=" is optional, hex case does not matter */
    assert_int_equal(parse(&c, EXAMPLE, EXAMPLE_MAC, &p), 0);
    adapter_parse_clear(&p);
    assert_int_equal(parse(&c, EXAMPLE, "mac=ADF27F39E2FB1B285D900B6F67EC4AB3A318516E4E2182685F7A33067D2E0C1F", &p), 0);
    adapter_parse_clear(&p);
}

static void test_bad_signatures(void **state)
{
    (void)state;
    hl_config c = cfg_make();
    adapter_parse p;
    /* missing */
    assert_int_equal(parse(&c, EXAMPLE, NULL, &p), -1);
    assert_int_equal(p.status, 401);
    assert_int_equal(p.n, 0);
    adapter_parse_clear(&p);
    assert_int_equal(parse(&c, EXAMPLE, "", &p), -1);
    assert_int_equal(p.status, 401);
    adapter_parse_clear(&p);
    /* one hex digit off */
    assert_int_equal(parse(&c, EXAMPLE, "mac=bdf27f39e2fb1b285d900b6f67ec4ab3a318516e4e2182685f7a33067d2e0c1f", &p), -1);
    assert_int_equal(p.status, 401);
    assert_int_equal(p.n, 0);
    adapter_parse_clear(&p);
    /* truncated */
    assert_int_equal(parse(&c, EXAMPLE, "mac=adf27f39", &p), -1);
    assert_int_equal(p.status, 401);
    adapter_parse_clear(&p);
    /* signed with another secret (e.g. the App Secret instead of the OA Secret) */
    char sig[70];
    mac_of(APP_ID, EXAMPLE, "1699003881354", APP_SECRET, sig);
    assert_int_equal(parse(&c, EXAMPLE, sig, &p), -1);
    assert_int_equal(p.status, 401);
    assert_null(strstr(p.error, OA_SECRET));
    adapter_parse_clear(&p);
    /* the body tampered after signing (one byte of the text) */
    char *tampered = strdup(EXAMPLE);
    *strstr(tampered, "dau") = 'D';
    assert_int_equal(parse(&c, tampered, "mac=" EXAMPLE_MAC, &p), -1);
    assert_int_equal(p.status, 401);
    adapter_parse_clear(&p);
    free(tampered);
    /* an HMAC is not what Zalo computes */
    assert_int_equal(parse(&c, EXAMPLE, "mac=0000000000000000000000000000000000000000000000000000000000000000", &p), -1);
    adapter_parse_clear(&p);
}

static void test_malformed(void **state)
{
    (void)state;
    hl_config c = cfg_make();
    adapter_parse p;
    assert_int_equal(parse(&c, "{not json", "mac=" EXAMPLE_MAC, &p), -1);
    assert_int_equal(p.status, 400);
    adapter_parse_clear(&p);
    assert_int_equal(parse(&c, "[1,2]", "mac=" EXAMPLE_MAC, &p), -1);
    assert_int_equal(p.status, 400);
    adapter_parse_clear(&p);
    /* no timestamp: cannot be verified */
    assert_int_equal(parse(&c, "{\"event_name\":\"user_send_text\",\"app_id\":\"" APP_ID "\"}", "mac=" EXAMPLE_MAC, &p), -1);
    assert_int_equal(p.status, 400);
    adapter_parse_clear(&p);
    /* signed but without sender */
    assert_int_equal(parse_signed(&c, "{\"event_name\":\"user_send_text\",\"app_id\":\"" APP_ID "\","
                                      "\"message\":{\"text\":\"x\",\"msg_id\":\"1\"},\"timestamp\":\"1\"}", &p), -1);
    assert_int_equal(p.status, 400);
    adapter_parse_clear(&p);
    /* signed but for another app */
    char sig[70];
    const char *other = "{\"event_name\":\"follow\",\"app_id\":\"42\",\"follower\":{\"id\":\"1\"},\"timestamp\":\"1\"}";
    mac_of("42", other, "1", OA_SECRET, sig);
    assert_int_equal(parse(&c, other, sig, &p), -1);
    assert_int_equal(p.status, 401);
    adapter_parse_clear(&p);
    /* not configured */
    hl_config empty;
    memset(&empty, 0, sizeof empty);
    empty.zalo.app_id = (char *)"";
    assert_false(adapter_zalo.configured(&empty));
    assert_true(adapter_zalo.configured(&c));
}

/* ---- events ---- */

static void test_events(void **state)
{
    (void)state;
    hl_config c = cfg_make();
    adapter_parse p;
    /* echo of our own message: ignored (answering it would loop) */
    assert_int_equal(parse_signed(&c, "{\"event_name\":\"oa_send_text\",\"app_id\":\"" APP_ID "\","
        "\"sender\":{\"id\":\"3662729599332560487\"},\"recipient\":{\"id\":\"6142494823000000000\"},"
        "\"message\":{\"text\":\"answer\",\"msg_id\":\"m1\"},\"timestamp\":\"1699003881354\"}", &p), 0);
    assert_int_equal(p.status, 200);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.ev[0].kind, AD_IGNORE);
    assert_string_equal(p.ev[0].media_type, "oa_send_text");
    adapter_parse_clear(&p);
    /* follow: follower.id, no sender */
    assert_int_equal(parse_signed(&c, "{\"event_name\":\"follow\",\"app_id\":\"" APP_ID "\","
        "\"oa_id\":\"3662729599332560487\",\"follower\":{\"id\":\"6142494823000000009\"},"
        "\"source\":\"testing_webhook\",\"timestamp\":\"1699003881354\"}", &p), 0);
    assert_int_equal(p.ev[0].kind, AD_FOLLOW);
    assert_string_equal(p.ev[0].address, "6142494823000000009");
    adapter_parse_clear(&p);
    assert_int_equal(parse_signed(&c, "{\"event_name\":\"unfollow\",\"app_id\":\"" APP_ID "\","
        "\"follower\":{\"id\":\"6142494823000000009\"},\"timestamp\":\"1699003881354\"}", &p), 0);
    assert_int_equal(p.ev[0].kind, AD_UNFOLLOW);
    adapter_parse_clear(&p);
    /* media */
    assert_int_equal(parse_signed(&c, "{\"event_name\":\"user_send_image\",\"app_id\":\"" APP_ID "\","
        "\"sender\":{\"id\":\"6142494823000000000\"},\"message\":{\"msg_id\":\"img1\",\"attachments\":"
        "[{\"type\":\"image\",\"payload\":{\"url\":\"https://x/y.jpg\"}}]},\"timestamp\":\"1699003881354\"}", &p), 0);
    assert_int_equal(p.ev[0].kind, AD_MEDIA);
    assert_string_equal(p.ev[0].media_type, "image");
    assert_string_equal(p.ev[0].provider_id, "img1");
    assert_null(p.ev[0].text);
    adapter_parse_clear(&p);
    const char *kinds[] = { "file", "audio", "video", "sticker", "gif", "link", "location",
                            "business_card" };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char body[512];
        snprintf(body, sizeof body, "{\"event_name\":\"user_send_%s\",\"app_id\":\"" APP_ID "\","
                 "\"sender\":{\"id\":\"6142494823000000000\"},\"message\":{\"msg_id\":\"k%zu\"},"
                 "\"timestamp\":\"1\"}", kinds[i], i);
        assert_int_equal(parse_signed(&c, body, &p), 0);
        assert_int_equal(p.ev[0].kind, AD_MEDIA);
        assert_string_equal(p.ev[0].media_type, kinds[i]);
        adapter_parse_clear(&p);
    }
    /* unknown and receipt events: 200, ignored */
    assert_int_equal(parse_signed(&c, "{\"event_name\":\"user_seen_message\",\"app_id\":\"" APP_ID "\","
        "\"sender\":{\"id\":\"1\"},\"message\":{\"msg_ids\":[\"a\"]},\"timestamp\":\"1\"}", &p), 0);
    assert_int_equal(p.ev[0].kind, AD_IGNORE);
    adapter_parse_clear(&p);
    assert_int_equal(parse_signed(&c, "{\"event_name\":\"user_reacted_message\",\"app_id\":\"" APP_ID "\","
        "\"timestamp\":\"1\"}", &p), 0);
    assert_int_equal(p.status, 200);
    assert_int_equal(p.ev[0].kind, AD_IGNORE);
    adapter_parse_clear(&p);
}

/* 19-digit ids sent as JSON numbers keep every digit (a double would turn
 * 6142494823000000001 into ...000000000). */
static void test_ids_as_strings(void **state)
{
    (void)state;
    hl_config c = cfg_make();
    adapter_parse p;
    const char *body = "{\"event_name\":\"user_send_text\",\"app_id\":2553928453557884079,"
                       "\"sender\":{\"id\":6142494823000000001},\"message\":{\"text\":\"Đường Trần Hưng Đạo\","
                       "\"msg_id\":9223372036854775807},\"timestamp\":1699003881354}";
    char sig[70];
    mac_of(APP_ID, body, "1699003881354", OA_SECRET, sig);
    assert_int_equal(parse(&c, body, sig, &p), 0);
    assert_string_equal(p.ev[0].address, "6142494823000000001");
    assert_string_equal(p.ev[0].provider_id, "9223372036854775807");
    assert_string_equal(p.ev[0].text, "Đường Trần Hưng Đạo");
    adapter_parse_clear(&p);
}

/* ---- sending ---- */

static void test_build_send(void **state)
{
    (void)state;
    hl_config c = cfg_make();
    c.zalo.api_base = (char *)"http://127.0.0.1:9999/";
    adapter_out m = { .outbox_id = 7, .address = "6142494823000000001", .text = "Trả lời \"x\"",
                      .access_token = "AT-123", .public_url = "https://h.vn" };
    adapter_request r;
    char err[160];
    assert_int_equal(adapter_zalo.build_send(&c, &m, &r, err, sizeof err), 0);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.url, "http://127.0.0.1:9999/v3.0/oa/message/cs");
    assert_int_equal(r.n_headers, 2);
    assert_string_equal(r.headers[0], "access_token: AT-123");
    assert_string_equal(r.headers[1], "Content-Type: application/json");
    assert_null(r.userpwd);
    assert_string_equal(r.body, "{\"recipient\":{\"user_id\":\"6142494823000000001\"},"
                                "\"message\":{\"text\":\"Trả lời \\\"x\\\"\"}}");
    assert_int_equal(r.body_len, strlen(r.body));
    adapter_request_free(&r);
    /* the default host */
    c.zalo.api_base = NULL;
    assert_int_equal(adapter_zalo.build_send(&c, &m, &r, err, sizeof err), 0);
    assert_string_equal(r.url, "https://openapi.zalo.me/v3.0/oa/message/cs");
    adapter_request_free(&r);
    /* no token */
    m.access_token = "";
    assert_int_equal(adapter_zalo.build_send(&c, &m, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "token"));
}

static void interp(long status, const char *body, int transport, adapter_result *res)
{
    hl_config c = cfg_make();
    adapter_zalo.interpret(&c, status, body, body ? strlen(body) : 0, transport, res);
}

static void test_interpret_table(void **state)
{
    (void)state;
    adapter_result r;
    interp(200, "{\"error\":0,\"message\":\"Success\",\"data\":{\"message_id\":\"f5b2c4d6\",\"user_id\":\"614\"}}", 0, &r);
    assert_int_equal(r.status, AD_SENT);
    assert_string_equal(r.provider_id, "f5b2c4d6");

    static const struct { int err; enum adapter_send_status want; } table[] = {
        { -216, AD_TOKEN_EXPIRED }, { -220, AD_TOKEN_EXPIRED }, { -32, AD_RETRY },
        { -201, AD_FAILED }, { -213, AD_FAILED }, { -227, AD_FAILED }, { -230, AD_FAILED },
        { -232, AD_FAILED }, { -999, AD_FAILED },
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        char body[128], code[16];
        snprintf(body, sizeof body, "{\"error\":%d,\"message\":\"reason %d\"}", table[i].err, table[i].err);
        interp(200, body, 0, &r);
        assert_int_equal(r.status, table[i].want);
        snprintf(code, sizeof code, "%d", table[i].err);
        assert_string_equal(r.code, code);
        snprintf(body, sizeof body, "reason %d", table[i].err);
        assert_string_equal(r.message, body);
    }
    /* transient HTTP and transport failures */
    interp(429, "", 0, &r);
    assert_int_equal(r.status, AD_RETRY);
    interp(500, "oops", 0, &r);
    assert_int_equal(r.status, AD_RETRY);
    interp(503, NULL, 0, &r);
    assert_int_equal(r.status, AD_RETRY);
    interp(0, NULL, 1, &r);
    assert_int_equal(r.status, AD_RETRY);
    /* error as a string */
    interp(200, "{\"error\":\"-220\",\"message\":\"expired\"}", 0, &r);
    assert_int_equal(r.status, AD_TOKEN_EXPIRED);
}

/* ---- OAuth v4 ---- */

static void test_refresh(void **state)
{
    (void)state;
    hl_config c = cfg_make();
    adapter_request r;
    char err[160];
    assert_int_equal(adapter_zalo.build_refresh(&c, "RT/1+2=", &r, err, sizeof err), 0);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.url, "https://oauth.zaloapp.com/v4/oa/access_token");
    assert_string_equal(r.headers[0], "secret_key: " APP_SECRET);
    assert_string_equal(r.headers[1], "Content-Type: application/x-www-form-urlencoded");
    assert_string_equal(r.body, "refresh_token=RT%2F1%2B2%3D&app_id=" APP_ID "&grant_type=refresh_token");
    adapter_request_free(&r);
    c.zalo.app_secret = NULL;
    assert_int_equal(adapter_zalo.build_refresh(&c, "RT", &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "app_secret"));

    adapter_token t;
    const char *ok = "{\"access_token\":\"AT2\",\"refresh_token\":\"RT2\",\"expires_in\":\"90000\"}";
    assert_int_equal(adapter_zalo.parse_refresh(&c, 200, ok, strlen(ok), &t, err, sizeof err), 0);
    assert_string_equal(t.access_token, "AT2");
    assert_string_equal(t.refresh_token, "RT2");
    assert_true(t.expires_in == 90000);
    const char *num = "{\"access_token\":\"AT3\",\"refresh_token\":\"RT3\",\"expires_in\":3600}";
    assert_int_equal(adapter_zalo.parse_refresh(&c, 200, num, strlen(num), &t, err, sizeof err), 0);
    assert_true(t.expires_in == 3600);
    const char *bad = "{\"error\":-14014,\"error_name\":\"Invalid refresh token\"}";
    assert_int_equal(adapter_zalo.parse_refresh(&c, 200, bad, strlen(bad), &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "-14014"));
    assert_non_null(strstr(err, "Invalid refresh token"));
    const char *half = "{\"access_token\":\"AT4\",\"expires_in\":\"90000\"}";
    assert_int_equal(adapter_zalo.parse_refresh(&c, 200, half, strlen(half), &t, err, sizeof err), -1);
    assert_int_equal(adapter_zalo.parse_refresh(&c, 502, "<html>", 6, &t, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_vector),
        cmocka_unit_test(test_bad_signatures),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_ids_as_strings),
        cmocka_unit_test(test_build_send),
        cmocka_unit_test(test_interpret_table),
        cmocka_unit_test(test_refresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
