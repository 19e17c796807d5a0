/* test_twilio - the Twilio adapter: X-Twilio-Signature against Twilio's
 * published example, inbound mapping, status callbacks, the REST send
 * request and the answer table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "adapters/adapter.h"

#define SID   "AC0123456789abcdef0123456789abcdef"
#define TOKEN "twilio-auth-token-for-tests"

typedef struct fake_in {
    adapter_http_in in;
    const char *sig;
} fake_in;

static const char *fake_header(const adapter_http_in *in, const char *name)
{
    const fake_in *f = in->ctx;
    if (strcasecmp(name, "X-Twilio-Signature") == 0)
        return f->sig;
    if (strcasecmp(name, "Content-Type") == 0)
        return "application/x-www-form-urlencoded";
    return NULL;
}

static void fake_post(fake_in *f, const char *path, const char *query, const char *body,
                      const char *sig)
{
    memset(f, 0, sizeof *f);
    f->in.method = "POST";
    f->in.path = path;
    f->in.query = query;
    f->in.body = body;
    f->in.body_len = strlen(body);
    f->in.header = fake_header;
    f->in.ctx = f;
    f->sig = sig;
}

static hl_config cfg_make(void)
{
    hl_config c;
    memset(&c, 0, sizeof c);
    c.public_url = (char *)"https://hotline.example.vn";
    c.twilio.account_sid = (char *)SID;
    c.twilio.auth_token = (char *)TOKEN;
    c.twilio.from = (char *)"+15005550006";
    return c;
}

/* Independent signer for the tests: base64(HMAC-SHA1(token, data)). */
static void sign(const char *token, const char *data, char out[40])
{
    unsigned char md[20];
    unsigned int l = 0;
    HMAC(EVP_sha1(), token, (int)strlen(token), (const unsigned char *)data, strlen(data), md, &l);
    EVP_EncodeBlock((unsigned char *)out, md, 20);
}

/* Twilio's published example, from "Webhooks security"
 * (https://www.twilio.com/docs/usage/webhooks/webhooks-security, "Validating
 * signatures from Twilio"): auth token 12345, a POST to
 * https://mycompany.com/myapp.php?foo=1&bar=2 with CallSid=CA1234567890ABCDE,
 * Caller=+12349013030, Digits=1234, From=+12349013030, To=+18005551212 is
 * signed 0/KCTR6DLpKmkAf8muzZqo1nDgQ= .  The parameters are posted out of
 * order here on purpose: the signature sorts them. */
static void test_published_example(void **state)
{
    (void)state;
    hl_config c;
    memset(&c, 0, sizeof c);
    c.twilio.account_sid = (char *)"ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    c.twilio.auth_token = (char *)"12345";
    c.twilio.public_url = (char *)"https://mycompany.com/myapp.php";
    const char *body = "To=%2B18005551212&CallSid=CA1234567890ABCDE&Digits=1234"
                       "&From=%2B12349013030&Caller=%2B12349013030";
    fake_in f;
    adapter_parse p;
    fake_post(&f, "/webhook/twilio", "foo=1&bar=2", body, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    memset(&p, 0, sizeof p);
    assert_int_equal(adapter_twilio.parse_inbound(&c, &f.in, &p), 0);
    assert_int_equal(p.status, 200);
    assert_string_equal(p.content_type, "text/xml");
    assert_string_equal(p.body, "<Response/>");
    assert_string_equal(p.ev[0].address, "+12349013030");
    adapter_parse_clear(&p);
    /* tampered parameter, other query, other token: all refused */
    const char *tampered = "To=%2B18005551212&CallSid=CA1234567890ABCDE&Digits=9999"
                           "&From=%2B12349013030&Caller=%2B12349013030";
    fake_post(&f, "/webhook/twilio", "foo=1&bar=2", tampered, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    memset(&p, 0, sizeof p);
    assert_int_equal(adapter_twilio.parse_inbound(&c, &f.in, &p), -1);
    assert_int_equal(p.status, 401);
    assert_int_equal(p.n, 0);
    adapter_parse_clear(&p);
    fake_post(&f, "/webhook/twilio", "foo=1&bar=3", body, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    memset(&p, 0, sizeof p);
    assert_int_equal(adapter_twilio.parse_inbound(&c, &f.in, &p), -1);
    adapter_parse_clear(&p);
    c.twilio.auth_token = (char *)"54321";
    fake_post(&f, "/webhook/twilio", "foo=1&bar=2", body, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    memset(&p, 0, sizeof p);
    assert_int_equal(adapter_twilio.parse_inbound(&c, &f.in, &p), -1);
    assert_null(strstr(p.error, "54321"));
    adapter_parse_clear(&p);
    /* the signer used below agrees with the published value */
    char s[40];
    sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDECaller+12349013030"
                  "Digits1234From+12349013030To+18005551212", s);
    assert_string_equal(s, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
}

static int inbound(const hl_config *c, const char *body, const char *signed_data, adapter_parse *p)
{
    char s[40];
    sign(TOKEN, signed_data, s);
    fake_in f;
    fake_post(&f, "/webhook/twilio", NULL, body, s);
    memset(p, 0, sizeof *p);
    return adapter_twilio.parse_inbound(c, &f.in, p);
}

static void test_inbound(void **state)
{
    (void)state;
    hl_config c = cfg_make();
    adapter_parse p;
    /* URL = public_url + /webhook/twilio when twilio.public_url is unset */
    assert_int_equal(inbound(&c, "MessageSid=SM1&AccountSid=" SID "&From=%2B84901&To=%2B1500&Body=Ti%C3%AAm+ch%E1%BB%A7ng&NumMedia=0",
                             "https://hotline.example.vn/webhook/twilio"
                             "AccountSid" SID "BodyTiêm chủngFrom+84901MessageSidSM1NumMedia0To+1500", &p), 0);
    assert_int_equal(p.ev[0].kind, AD_TEXT);
    assert_string_equal(p.ev[0].provider_id, "SM1");
    assert_string_equal(p.ev[0].address, "+84901");
    assert_string_equal(p.ev[0].text, "Tiêm chủng");
    adapter_parse_clear(&p);
    /* media only */
    assert_int_equal(inbound(&c, "MessageSid=SM2&From=%2B84901&Body=&NumMedia=1&MediaContentType0=image%2Fjpeg",
                             "https://hotline.example.vn/webhook/twilio"
                             "BodyFrom+84901MediaContentType0image/jpegMessageSidSM2NumMedia1", &p), 0);
    assert_int_equal(p.ev[0].kind, AD_MEDIA);
    assert_string_equal(p.ev[0].media_type, "image");
    adapter_parse_clear(&p);
    /* the public URL of this route, explicitly configured (behind a proxy) */
    c.twilio.public_url = (char *)"https://proxy.example.vn/tw/hook/";
    assert_int_equal(inbound(&c, "MessageSid=SM3&From=x&Body=hi",
                             "https://proxy.example.vn/tw/hookBodyhiFromxMessageSidSM3", &p), 0);
    adapter_parse_clear(&p);
    /* ... with the default port spelled out, as Twilio sometimes signs it */
    assert_int_equal(inbound(&c, "MessageSid=SM3&From=x&Body=hi",
                             "https://proxy.example.vn:443/tw/hookBodyhiFromxMessageSidSM3", &p), 0);
    adapter_parse_clear(&p);
    /* signed for the wrong URL */
    assert_int_equal(inbound(&c, "MessageSid=SM3&From=x&Body=hi",
                             "https://hotline.example.vn/webhook/twilioBodyhiFromxMessageSidSM3", &p), -1);
    assert_int_equal(p.status, 401);
    adapter_parse_clear(&p);
    /* no signature */
    fake_in f;
    fake_post(&f, "/webhook/twilio", NULL, "From=x&Body=hi", NULL);
    memset(&p, 0, sizeof p);
    assert_int_equal(adapter_twilio.parse_inbound(&c, &f.in, &p), -1);
    assert_int_equal(p.status, 401);
    adapter_parse_clear(&p);
    /* signed but no From */
    assert_int_equal(inbound(&c, "Body=hi", "https://proxy.example.vn/tw/hookBodyhi", &p), -1);
    assert_int_equal(p.status, 400);
    adapter_parse_clear(&p);
}

static int status_cb(const hl_config *c, const char *query, const char *body, const char *signed_data,
                     adapter_dlr *d, adapter_parse *p)
{
    char s[40];
    sign(TOKEN, signed_data, s);
    fake_in f;
    fake_post(&f, "/webhook/twilio/status", query, body, s);
    memset(p, 0, sizeof *p);
    return adapter_twilio.parse_dlr(c, &f.in, d, p);
}

static void test_status_callback(void **state)
{
    (void)state;
    hl_config c = cfg_make();
    adapter_dlr d;
    adapter_parse p;
    assert_int_equal(status_cb(&c, "id=77", "MessageSid=SM9&MessageStatus=delivered",
                               "https://hotline.example.vn/webhook/twilio/status?id=77"
                               "MessageSidSM9MessageStatusdelivered", &d, &p), 0);
    assert_true(d.outbox_id == 77);
    assert_string_equal(d.provider_id, "SM9");
    assert_int_equal(d.state, AD_DLR_DELIVERED);
    assert_false(d.opted_out);
    assert_int_equal(status_cb(&c, "id=77", "MessageSid=SM9&MessageStatus=undelivered&ErrorCode=21610",
                               "https://hotline.example.vn/webhook/twilio/status?id=77"
                               "ErrorCode21610MessageSidSM9MessageStatusundelivered", &d, &p), 0);
    assert_int_equal(d.state, AD_DLR_FAILED);
    assert_string_equal(d.code, "21610");
    assert_true(d.opted_out);
    assert_int_equal(status_cb(&c, NULL, "MessageSid=SM9&MessageStatus=sent",
                               "https://hotline.example.vn/webhook/twilio/status"
                               "MessageSidSM9MessageStatussent", &d, &p), 0);
    assert_int_equal(d.state, AD_DLR_ACCEPTED);
    assert_true(d.outbox_id == 0);
    /* the status URL is the webhook URL + /status, signed */
    assert_int_equal(status_cb(&c, "id=77", "MessageSid=SM9&MessageStatus=delivered",
                               "https://hotline.example.vn/webhook/twilio?id=77"
                               "MessageSidSM9MessageStatusdelivered", &d, &p), -1);
    assert_int_equal(p.status, 401);
}

static void test_build_send(void **state)
{
    (void)state;
    hl_config c = cfg_make();
    c.twilio.api_base = (char *)"http://127.0.0.1:9000";
    adapter_out m = { .outbox_id = 5, .address = "+84901234567", .text = "Xin chào & cảm ơn",
                      .coding = 2 };
    adapter_request r;
    char err[160];
    assert_int_equal(adapter_twilio.build_send(&c, &m, &r, err, sizeof err), 0);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.url, "http://127.0.0.1:9000/2010-04-01/Accounts/" SID "/Messages.json");
    assert_string_equal(r.userpwd, SID ":" TOKEN);
    assert_string_equal(r.headers[0], "Content-Type: application/x-www-form-urlencoded");
    assert_string_equal(r.body, "To=%2B84901234567&From=%2B15005550006&Body=Xin%20ch%C3%A0o%20%26%20c%E1%BA%A3m%20%C6%A1n"
                                "&StatusCallback=https%3A%2F%2Fhotline.example.vn%2Fwebhook%2Ftwilio%2Fstatus%3Fid%3D5");
    adapter_request_free(&r);
    /* default host; a Messaging Service as sender */
    c.twilio.api_base = NULL;
    c.twilio.from = (char *)"MG0123456789abcdef0123456789abcdef";
    assert_int_equal(adapter_twilio.build_send(&c, &m, &r, err, sizeof err), 0);
    assert_true(strncmp(r.url, "https://api.twilio.com/2010-04-01/", 34) == 0);
    assert_non_null(strstr(r.body, "&MessagingServiceSid=MG0123456789abcdef0123456789abcdef&"));
    adapter_request_free(&r);
    c.twilio.from = NULL;
    assert_int_equal(adapter_twilio.build_send(&c, &m, &r, err, sizeof err), -1);
    assert_null(strstr(err, TOKEN));
}

static void interp(long status, const char *body, int transport, adapter_result *res)
{
    hl_config c = cfg_make();
    adapter_twilio.interpret(&c, status, body, body ? strlen(body) : 0, transport, res);
}

static void test_interpret_table(void **state)
{
    (void)state;
    adapter_result r;
    interp(201, "{\"sid\":\"SMabc\",\"status\":\"queued\",\"error_code\":null}", 0, &r);
    assert_int_equal(r.status, AD_SENT);
    assert_string_equal(r.provider_id, "SMabc");
    interp(200, "{\"sid\":\"SMdef\",\"status\":\"queued\"}", 0, &r);
    assert_int_equal(r.status, AD_SENT);
    interp(429, "{\"code\":20429,\"message\":\"Too Many Requests\"}", 0, &r);
    assert_int_equal(r.status, AD_RETRY);
    assert_string_equal(r.code, "20429");
    interp(500, "", 0, &r);
    assert_int_equal(r.status, AD_RETRY);
    interp(503, NULL, 0, &r);
    assert_int_equal(r.status, AD_RETRY);
    interp(0, NULL, 1, &r);
    assert_int_equal(r.status, AD_RETRY);
    interp(400, "{\"code\":21211,\"message\":\"The 'To' number is not a valid phone number.\",\"status\":400}", 0, &r);
    assert_int_equal(r.status, AD_FAILED);
    assert_string_equal(r.code, "21211");
    assert_string_equal(r.message, "The 'To' number is not a valid phone number.");
    assert_false(r.opted_out);
    interp(400, "{\"code\":21610,\"message\":\"Attempt to send to unsubscribed recipient\",\"status\":400}", 0, &r);
    assert_int_equal(r.status, AD_FAILED);
    assert_true(r.opted_out);
    interp(401, "{\"code\":20003,\"message\":\"Authenticate\"}", 0, &r);
    assert_int_equal(r.status, AD_FAILED);
    interp(404, "not json", 0, &r);
    assert_int_equal(r.status, AD_FAILED);
    assert_string_equal(r.code, "http_404");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_example),
        cmocka_unit_test(test_inbound),
        cmocka_unit_test(test_status_callback),
        cmocka_unit_test(test_build_send),
        cmocka_unit_test(test_interpret_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
