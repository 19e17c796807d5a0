/* test_esms - the eSMS.vn adapter: the send request, CodeResult table,
 * delivery callbacks. */
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

static hl_config cfg_make(void)
{
    hl_config c;
    memset(&c, 0, sizeof c);
    c.public_url = (char *)"https://hotline.example.vn";
    c.esms.api_key = (char *)"KEY123";
    c.esms.secret_key = (char *)"SECRET456";
    c.esms.brandname = (char *)"UBND-Q1";
    return c;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_build_send(void **state)
{
    (void)state;
    hl_config c = cfg_make();
    adapter_out m = { .outbox_id = 1234567890123LL, .address = "+84901234567",
                      .text = "Tiem vac xin tai tram y te", .coding = 0 };
    adapter_request r;
    char err[160];
    assert_int_equal(adapter_esms.build_send(&c, &m, &r, err, sizeof err), 0);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.url, "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/");
    assert_string_equal(r.headers[0], "Content-Type: application/json");
    cJSON *b = cJSON_ParseWithLength(r.body, r.body_len);
    assert_non_null(b);
    assert_string_equal(jstr(b, "ApiKey"), "KEY123");
    assert_string_equal(jstr(b, "SecretKey"), "SECRET456");
    assert_string_equal(jstr(b, "Phone"), "84901234567");
    assert_string_equal(jstr(b, "Content"), "Tiem vac xin tai tram y te");
    assert_string_equal(jstr(b, "Brandname"), "UBND-Q1");
    assert_string_equal(jstr(b, "SmsType"), "2");
    assert_string_equal(jstr(b, "IsUnicode"), "0");
    assert_string_equal(jstr(b, "RequestId"), "1234567890123");
    assert_string_equal(jstr(b, "CallbackUrl"), "https://hotline.example.vn/webhook/esms/dlr");
    cJSON_Delete(b);
    adapter_request_free(&r);
    /* UCS-2, configured host */
    c.esms.api_base = (char *)"http://127.0.0.1:7000/";
    m.coding = 2;
    m.text = "Tiêm vắc xin";
    assert_int_equal(adapter_esms.build_send(&c, &m, &r, err, sizeof err), 0);
    assert_string_equal(r.url, "http://127.0.0.1:7000/MainService.svc/json/SendMultipleMessage_V4_post_json/");
    b = cJSON_ParseWithLength(r.body, r.body_len);
    assert_string_equal(jstr(b, "IsUnicode"), "1");
    assert_string_equal(jstr(b, "Content"), "Tiêm vắc xin");
    cJSON_Delete(b);
    adapter_request_free(&r);
    /* no brandname */
    c.esms.brandname = NULL;
    assert_false(adapter_esms.can_send(&c));
    assert_int_equal(adapter_esms.build_send(&c, &m, &r, err, sizeof err), -1);
    assert_null(strstr(err, "SECRET456"));
    assert_true(adapter_esms.configured(&c));
    assert_null(adapter_esms.inbound_path);
    assert_string_equal(adapter_esms.dlr_path, "/webhook/esms/dlr");
}

static void interp(long status, const char *body, int transport, adapter_result *res)
{
    hl_config c = cfg_make();
    adapter_esms.interpret(&c, status, body, body ? strlen(body) : 0, transport, res);
}

static void test_interpret_table(void **state)
{
    (void)state;
    static const struct { long status; const char *body; int transport; enum adapter_send_status want; const char *code; } t[] = {
        { 200, "{\"CodeResult\":\"100\",\"CountRegenerate\":0,\"SMSID\":\"a1b2-c3\"}", 0, AD_SENT, "100" },
        { 200, "{\"CodeResult\":100,\"SMSID\":123456789012345678}", 0, AD_SENT, "100" },
        { 200, "{\"CodeResult\":\"124\",\"ErrorMessage\":\"Duplicate RequestId\"}", 0, AD_SENT, "124" },
        { 200, "{\"CodeResult\":\"99\",\"ErrorMessage\":\"Unknown error\"}", 0, AD_RETRY, "99" },
        { 200, "{\"CodeResult\":\"101\",\"ErrorMessage\":\"Authorize Failed\"}", 0, AD_FAILED, "101" },
        { 200, "{\"CodeResult\":\"103\"}", 0, AD_FAILED, "103" },
        { 200, "{\"CodeResult\":\"104\"}", 0, AD_FAILED, "104" },
        { 200, "{\"CodeResult\":\"118\"}", 0, AD_FAILED, "118" },
        { 500, "", 0, AD_RETRY, "http_500" },
        { 502, NULL, 0, AD_RETRY, "http_502" },
        { 429, "", 0, AD_RETRY, "http_429" },
        { 0, NULL, 1, AD_RETRY, "transport" },
        { 404, "Not found", 0, AD_FAILED, "http_404" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        adapter_result r;
        interp(t[i].status, t[i].body, t[i].transport, &r);
        assert_int_equal(r.status, t[i].want);
        assert_string_equal(r.code, t[i].code);
    }
    adapter_result r;
    interp(200, "{\"CodeResult\":\"100\",\"SMSID\":\"a1b2-c3\"}", 0, &r);
    assert_string_equal(r.provider_id, "a1b2-c3");
    interp(200, "{\"CodeResult\":100,\"SMSID\":123456789012345678}", 0, &r);
    assert_string_equal(r.provider_id, "123456789012345678");
    interp(200, "{\"CodeResult\":\"101\",\"ErrorMessage\":\"Authorize Failed\"}", 0, &r);
    assert_string_equal(r.message, "Authorize Failed");
    interp(200, "{\"CodeResult\":\"104\"}", 0, &r);
    assert_string_equal(r.message, "brandname not registered");
}

static int dlr(const hl_config *c, const char *query, adapter_dlr *d, adapter_parse *p)
{
    adapter_http_in in;
    memset(&in, 0, sizeof in);
    in.method = "GET";
    in.path = "/webhook/esms/dlr";
    in.query = query;
    memset(p, 0, sizeof *p);
    return adapter_esms.parse_dlr(c, &in, d, p);
}

static void test_dlr(void **state)
{
    (void)state;
    hl_config c = cfg_make();
    adapter_dlr d;
    adapter_parse p;
    assert_int_equal(dlr(&c, "SMSID=a1b2-c3&SendStatus=5&RequestId=42", &d, &p), 0);
    assert_int_equal(p.status, 200);
    assert_true(d.outbox_id == 42);
    assert_string_equal(d.provider_id, "a1b2-c3");
    assert_int_equal(d.state, AD_DLR_DELIVERED);
    assert_int_equal(dlr(&c, "SMSID=a1b2-c3&SendStatus=4&RequestId=42", &d, &p), 0);
    assert_int_equal(d.state, AD_DLR_FAILED);
    assert_string_equal(d.code, "4");
    assert_int_equal(dlr(&c, "SMSID=a1b2-c3&SendStatus=2&RequestId=42", &d, &p), 0);
    assert_int_equal(d.state, AD_DLR_ACCEPTED);
    assert_int_equal(dlr(&c, "SMSID=a1b2-c3&SendStatus=5", &d, &p), 0);
    assert_true(d.outbox_id == 0);
    assert_int_equal(dlr(&c, "SendStatus=5", &d, &p), -1);
    assert_int_equal(p.status, 400);
    assert_int_equal(dlr(&c, "SMSID=x&RequestId=1", &d, &p), -1);
    assert_int_equal(p.status, 400);
    /* outbound only */
    adapter_http_in in;
    memset(&in, 0, sizeof in);
    in.method = "POST";
    memset(&p, 0, sizeof p);
    assert_int_equal(adapter_esms.parse_inbound(&c, &in, &p), -1);
    assert_int_equal(p.status, 404);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_send),
        cmocka_unit_test(test_interpret_table),
        cmocka_unit_test(test_dlr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
