/* test_kannel - the Kannel adapter: MO by GET and POST, token check,
 * charsets (UTF-8, UTF-16BE), sendsms URL, answers, delivery reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "adapters/adapter.h"

#define TOKEN "tok-kannel-42"

typedef struct fake_in {
    adapter_http_in in;
    const char *ct;
} fake_in;

static const char *fake_header(const adapter_http_in *in, const char *name)
{
    const fake_in *f = in->ctx;
    if (strcasecmp(name, "Content-Type") == 0)
        return f->ct;
    return NULL;
}

static void fake_get(fake_in *f, const char *path, const char *query)
{
    memset(f, 0, sizeof *f);
    f->in.method = "GET";
    f->in.path = path;
    f->in.query = query;
    f->in.body = "";
    f->in.header = fake_header;
    f->in.ctx = f;
}

static void fake_post(fake_in *f, const char *path, const char *query, const char *ct,
                      const char *body, size_t len)
{
    fake_get(f, path, query);
    f->in.method = "POST";
    f->ct = ct;
    f->in.body = body;
    f->in.body_len = len;
}

static hl_config cfg_make(void)
{
    hl_config c;
    memset(&c, 0, sizeof c);
    c.public_url = (char *)"http://127.0.0.1:8080";
    c.kannel.sendsms_url = (char *)"http://127.0.0.1:13013/cgi-bin/sendsms";
    c.kannel.username = (char *)"hotline";
    c.kannel.password = (char *)"p@ss word";
    c.kannel.from = (char *)"1022";
    c.kannel.webhook_token = (char *)TOKEN;
    return c;
}

static int mo_get(const hl_config *c, const char *query, adapter_parse *p)
{
    fake_in f;
    fake_get(&f, "/webhook/kannel", query);
    memset(p, 0, sizeof *p);
    return adapter_kannel.parse_inbound(c, &f.in, p);
}

static void test_mo_get(void **state)
{
    (void)state;
    hl_config c = cfg_make();
    adapter_parse p;
    /* what deploy/kannel.conf's get-url sends */
    assert_int_equal(mo_get(&c, "token=" TOKEN "&from=%2B84901234567&to=1022"
                                "&text=Ti%C3%AAm+v%E1%BA%AFc+xin+%E1%BB%9F+%C4%91%C3%A2u%3F"
                                "&id=0f6a1d2c-1b2b-4c3c-9d4d-5e5f6a7b8c9d&ts=1699003881&coding=0&charset=UTF-8", &p), 0);
    assert_int_equal(p.status, 200);
    assert_string_equal(p.body, "");
    assert_int_equal(p.n, 1);
    assert_int_equal(p.ev[0].kind, AD_TEXT);
    assert_string_equal(p.ev[0].address, "+84901234567");
    assert_string_equal(p.ev[0].text, "Tiêm vắc xin ở đâu?");
    assert_string_equal(p.ev[0].provider_id, "0f6a1d2c-1b2b-4c3c-9d4d-5e5f6a7b8c9d");
    assert_true(p.ev[0].ts_ms == 1699003881000LL);
    adapter_parse_clear(&p);
    /* no id: provider_id stays "" (the daemon de-duplicates on sender + text) */
    assert_int_equal(mo_get(&c, "token=" TOKEN "&from=0901&text=hello", &p), 0);
    assert_string_equal(p.ev[0].provider_id, "");
    assert_string_equal(p.ev[0].text, "hello");
    adapter_parse_clear(&p);
}

static void test_mo_auth_and_fields(void **state)
{
    (void)state;
    hl_config c = cfg_make();
    adapter_parse p;
    assert_int_equal(mo_get(&c, "from=0901&text=hello", &p), -1);
    assert_int_equal(p.status, 401);
    assert_int_equal(p.n, 0);
    assert_null(strstr(p.error, TOKEN));
    adapter_parse_clear(&p);
    assert_int_equal(mo_get(&c, "token=wrong&from=0901&text=hello", &p), -1);
    assert_int_equal(p.status, 401);
    adapter_parse_clear(&p);
    assert_int_equal(mo_get(&c, "token=" TOKEN "x&from=0901&text=hello", &p), -1);
    assert_int_equal(p.status, 401);
    adapter_parse_clear(&p);
    assert_int_equal(mo_get(&c, NULL, &p), -1);
    assert_int_equal(p.status, 401);
    adapter_parse_clear(&p);
    assert_int_equal(mo_get(&c, "token=" TOKEN "&text=hello", &p), -1);
    assert_int_equal(p.status, 400);
    adapter_parse_clear(&p);
    assert_int_equal(mo_get(&c, "token=" TOKEN "&from=0901", &p), -1);
    assert_int_equal(p.status, 400);
    adapter_parse_clear(&p);
    /* a server without a webhook token accepts nothing */
    c.kannel.webhook_token = (char *)"";
    assert_false(adapter_kannel.configured(&c));
    assert_int_equal(mo_get(&c, "token=&from=0901&text=hello", &p), -1);
    assert_true(p.status == 404 || p.status == 401);
    adapter_parse_clear(&p);
}

static void test_mo_charsets(void **state)
{
    (void)state;
    hl_config c = cfg_make();
    adapter_parse p;
    /* UCS-2 as UTF-16BE bytes: "Đạo" = 0110 1EA1 006F, plus an emoji pair */
    assert_int_equal(mo_get(&c, "token=" TOKEN "&from=0901&text=%01%10%1E%A1%00o%D8%3D%DE%00"
                                "&coding=2&charset=UTF-16BE", &p), 0);
    assert_string_equal(p.ev[0].text, "Đạo\xF0\x9F\x98\x80");
    adapter_parse_clear(&p);
    /* coding=2 without a charset, bytes that are not UTF-8 */
    assert_int_equal(mo_get(&c, "token=" TOKEN "&from=0901&text=%00h%00i&coding=2", &p), 0);
    assert_string_equal(p.ev[0].text, "hi");
    adapter_parse_clear(&p);
    /* Latin-1 recoded by Kannel */
    assert_int_equal(mo_get(&c, "token=" TOKEN "&from=0901&text=caf%E9&charset=ISO-8859-1", &p), 0);
    assert_string_equal(p.ev[0].text, "café");
    adapter_parse_clear(&p);
    /* UTF-8 with coding=2 (Kannel recoded to UTF-8) stays as it is */
    assert_int_equal(mo_get(&c, "token=" TOKEN "&from=0901&text=%C4%91&coding=2&charset=UTF-8", &p), 0);
    assert_string_equal(p.ev[0].text, "đ");
    adapter_parse_clear(&p);
}

static void test_mo_post(void **state)
{
    (void)state;
    hl_config c = cfg_make();
    adapter_parse p;
    fake_in f;
    const char *form = "from=%2B84901&to=1022&text=xin+ch%C3%A0o&id=abc";
    fake_post(&f, "/webhook/kannel", "token=" TOKEN, "application/x-www-form-urlencoded", form,
              strlen(form));
    memset(&p, 0, sizeof p);
    assert_int_equal(adapter_kannel.parse_inbound(&c, &f.in, &p), 0);
    assert_string_equal(p.ev[0].address, "+84901");
    assert_string_equal(p.ev[0].text, "xin chào");
    assert_string_equal(p.ev[0].provider_id, "abc");
    adapter_parse_clear(&p);
    /* post-url default: the body is the bare text */
    const char *txt = "hoi ve ho chieu";
    fake_post(&f, "/webhook/kannel", "token=" TOKEN "&from=0901", "text/plain; charset=UTF-8", txt,
              strlen(txt));
    memset(&p, 0, sizeof p);
    assert_int_equal(adapter_kannel.parse_inbound(&c, &f.in, &p), 0);
    assert_string_equal(p.ev[0].text, txt);
    adapter_parse_clear(&p);
    /* token in the form body works too */
    const char *form2 = "token=" TOKEN "&from=0901&text=x";
    fake_post(&f, "/webhook/kannel", NULL, "application/x-www-form-urlencoded", form2, strlen(form2));
    memset(&p, 0, sizeof p);
    assert_int_equal(adapter_kannel.parse_inbound(&c, &f.in, &p), 0);
    adapter_parse_clear(&p);
}

static void test_build_send(void **state)
{
    (void)state;
    hl_config c = cfg_make();
    adapter_out m = { .outbox_id = 42, .address = "+84901234567", .text = "Tiêm vắc xin & hỏi?",
                      .coding = 2, .public_url = NULL };
    adapter_request r;
    char err[160];
    assert_int_equal(adapter_kannel.build_send(&c, &m, &r, err, sizeof err), 0);
    assert_string_equal(r.method, "GET");
    assert_null(r.body);
    assert_int_equal(r.n_headers, 0);
    assert_string_equal(r.url,
        "http://127.0.0.1:13013/cgi-bin/sendsms?username=hotline&password=p%40ss%20word&from=1022"
        "&to=%2B84901234567&text=Ti%C3%AAm%20v%E1%BA%AFc%20xin%20%26%20h%E1%BB%8Fi%3F"
        "&charset=UTF-8&coding=2&dlr-mask=31"
        "&dlr-url=http%3A%2F%2F127.0.0.1%3A8080%2Fwebhook%2Fkannel%2Fdlr%3Fid%3D42%26type%3D%25d%26token%3D" TOKEN);
    adapter_request_free(&r);
    /* GSM text: coding 0; public_url from the message wins */
    m.coding = 0;
    m.text = "hello";
    m.public_url = "https://pub.example.vn/";
    assert_int_equal(adapter_kannel.build_send(&c, &m, &r, err, sizeof err), 0);
    assert_non_null(strstr(r.url, "&coding=0&"));
    assert_non_null(strstr(r.url, "dlr-url=https%3A%2F%2Fpub.example.vn%2Fwebhook%2Fkannel%2Fdlr%3Fid%3D42"));
    adapter_request_free(&r);
    /* no public URL at all: no dlr */
    c.public_url = NULL;
    m.public_url = NULL;
    assert_int_equal(adapter_kannel.build_send(&c, &m, &r, err, sizeof err), 0);
    assert_null(strstr(r.url, "dlr-url"));
    adapter_request_free(&r);
    /* a sendsms_url that already has a query */
    c.kannel.sendsms_url = (char *)"http://k/cgi-bin/sendsms?smsc=viettel";
    assert_int_equal(adapter_kannel.build_send(&c, &m, &r, err, sizeof err), 0);
    assert_true(strncmp(r.url, "http://k/cgi-bin/sendsms?smsc=viettel&username=", 47) == 0);
    adapter_request_free(&r);
}

static void interp(long status, const char *body, int transport, adapter_result *res)
{
    hl_config c = cfg_make();
    adapter_kannel.interpret(&c, status, body, body ? strlen(body) : 0, transport, res);
}

static void test_interpret_table(void **state)
{
    (void)state;
    static const struct { long status; const char *body; int transport; enum adapter_send_status want; } t[] = {
        { 202, "0: Accepted for delivery", 0, AD_SENT },
        { 202, "3: Queued for later delivery", 0, AD_SENT },
        { 200, "0: Accepted for delivery", 0, AD_SENT },
        { 503, "Temporal failure, try again later.", 0, AD_RETRY },
        { 500, "", 0, AD_RETRY },
        { 0, NULL, 1, AD_RETRY },
        { 403, "Authorization failed for sendsms", 0, AD_FAILED },
        { 400, "Missing receiver number", 0, AD_FAILED },
        { 404, "", 0, AD_FAILED },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        adapter_result r;
        interp(t[i].status, t[i].body, t[i].transport, &r);
        assert_int_equal(r.status, t[i].want);
    }
    adapter_result r;
    interp(403, "Authorization failed for sendsms\n", 0, &r);
    assert_string_equal(r.code, "http_403");
    assert_string_equal(r.message, "Authorization failed for sendsms");
}

static int dlr_get(const hl_config *c, const char *query, adapter_dlr *d, adapter_parse *p)
{
    fake_in f;
    fake_get(&f, "/webhook/kannel/dlr", query);
    memset(p, 0, sizeof *p);
    return adapter_kannel.parse_dlr(c, &f.in, d, p);
}

static void test_dlr(void **state)
{
    (void)state;
    hl_config c = cfg_make();
    adapter_dlr d;
    adapter_parse p;
    static const struct { const char *type; enum adapter_dlr_state want; } t[] = {
        { "1", AD_DLR_DELIVERED }, { "2", AD_DLR_FAILED }, { "4", AD_DLR_ACCEPTED },
        { "8", AD_DLR_ACCEPTED }, { "16", AD_DLR_FAILED },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char q[128];
        snprintf(q, sizeof q, "id=42&type=%s&token=" TOKEN, t[i].type);
        assert_int_equal(dlr_get(&c, q, &d, &p), 0);
        assert_int_equal(p.status, 200);
        assert_true(d.outbox_id == 42);
        assert_int_equal(d.state, t[i].want);
        assert_string_equal(d.code, t[i].type);
    }
    assert_int_equal(dlr_get(&c, "id=42&type=1", &d, &p), -1);
    assert_int_equal(p.status, 401);
    assert_int_equal(dlr_get(&c, "id=42&type=1&token=nope", &d, &p), -1);
    assert_int_equal(p.status, 401);
    assert_int_equal(dlr_get(&c, "type=1&token=" TOKEN, &d, &p), -1);
    assert_int_equal(p.status, 400);
    assert_int_equal(dlr_get(&c, "id=x1&type=1&token=" TOKEN, &d, &p), -1);
    assert_int_equal(p.status, 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mo_get),
        cmocka_unit_test(test_mo_auth_and_fields),
        cmocka_unit_test(test_mo_charsets),
        cmocka_unit_test(test_mo_post),
        cmocka_unit_test(test_build_send),
        cmocka_unit_test(test_interpret_table),
        cmocka_unit_test(test_dlr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
