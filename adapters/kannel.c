/* kannel.c - SMS through Kannel: MO from smsbox's sms-service get-url (or
 * post-url), MT through the sendsms interface, delivery reports through
 * dlr-url.  deploy/kannel.conf is the matching Kannel configuration.
 *
 * Kannel cannot sign its requests: a secret token in the URL
 * (channels.kannel.webhook_token) authenticates them. */
#include "adapters/adapter.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <utf8proc.h>

static int kannel_configured(const hl_config *cfg)
{
    return adapter_isset(cfg->kannel.sendsms_url) && adapter_isset(cfg->kannel.webhook_token);
}

static int kannel_can_send(const hl_config *cfg)
{
    return kannel_configured(cfg);
}

/* ---- charsets ----------------------------------------------------------- */

static size_t put_utf8(char *o, uint32_t c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (c >> 18));
    o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* UTF-16BE (UCS-2 is its subset) to UTF-8; lone surrogates become U+FFFD. malloc'd. */
static char *utf16be_to_utf8(const unsigned char *b, size_t n)
{
    char *out = malloc(n / 2 * 3 + 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        uint32_t c = (uint32_t)b[i] << 8 | b[i + 1];
        if (c >= 0xD800 && c <= 0xDBFF && i + 3 < n) {
            uint32_t lo = (uint32_t)b[i + 2] << 8 | b[i + 3];
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                i += 2;
            } else {
                c = 0xFFFD;
            }
        } else if (c >= 0xD800 && c <= 0xDFFF) {
            c = 0xFFFD;
        }
        if (c == 0)
            continue;
        o += put_utf8(out + o, c);
    }
    out[o] = '\0';
    return out;
}

static char *latin1_to_utf8(const unsigned char *b, size_t n)
{
    char *out = malloc(n * 2 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            o += put_utf8(out + o, b[i]);
    out[o] = '\0';
    return out;
}

static int valid_utf8(const char *s, size_t n)
{
    if (memchr(s, '\0', n))
        return 0;
    size_t i = 0;
    while (i < n) {
        int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                              (utf8proc_ssize_t)(n - i), &c);
        if (k <= 0)
            return 0;
        i += (size_t)k;
    }
    return 1;
}

static int is_utf16(const char *charset)
{
    return charset && (strcasecmp(charset, "UTF-16BE") == 0 || strcasecmp(charset, "UTF16-BE") == 0 ||
                       strcasecmp(charset, "UTF-16") == 0 || strcasecmp(charset, "UCS-2") == 0 ||
                       strcasecmp(charset, "UCS2") == 0);
}

static int is_latin1(const char *charset)
{
    return charset && (strcasecmp(charset, "ISO-8859-1") == 0 || strcasecmp(charset, "LATIN1") == 0 ||
                       strcasecmp(charset, "WINDOWS-1252") == 0);
}

/* The MO text as UTF-8.  Kannel hands UTF-8 (charset=UTF-8), or, for a
 * UCS-2 message it did not recode, the raw UTF-16BE bytes (coding=2,
 * charset=UTF-16BE); ISO-8859-1 when it recoded to Latin-1.  Whatever is
 * left and is not valid UTF-8 is read as Latin-1 rather than dropped. */
static char *mo_text(const char *v, size_t n, const char *charset, const char *coding)
{
    int ucs2_coding = coding && (strcmp(coding, "2") == 0 || strcmp(coding, "3") == 0);
    if (is_utf16(charset) || (ucs2_coding && !adapter_isset(charset) && !valid_utf8(v, n)))
        return utf16be_to_utf8((const unsigned char *)v, n);
    if (is_latin1(charset) || !valid_utf8(v, n))
        return latin1_to_utf8((const unsigned char *)v, n);
    return strndup(v, n);
}

/* ---- inbound ------------------------------------------------------------ */

/* Query fields, plus the body's for a form POST.  A post-url POST whose
 * body is the bare text (Kannel's default) gives text from the body and
 * from/to from the X-Kannel-* headers when the URL does not carry them. */
static int collect(const adapter_http_in *in, adapter_form *form, const char **body_text,
                   size_t *body_len, const char **body_charset)
{
    *body_text = NULL;
    *body_charset = NULL;
    if (in->query && adapter_form_parse(form, in->query, strlen(in->query)) < 0)
        return -1;
    if (!in->method || strcmp(in->method, "POST") != 0 || !in->body)
        return 0;
    const char *ct = in->header ? in->header(in, "Content-Type") : NULL;
    if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
        return adapter_form_parse(form, in->body, in->body_len);
    *body_text = in->body;
    *body_len = in->body_len;
    const char *cs = ct ? strcasestr(ct, "charset=") : NULL;
    if (cs)
        *body_charset = cs + 8;
    return 0;
}

static int kannel_authorized(const hl_config *cfg, const adapter_form *form)
{
    const char *token = adapter_form_str(form, "token");
    return adapter_isset(cfg->kannel.webhook_token) && token &&
           adapter_secret_eq(token, cfg->kannel.webhook_token);
}

/* What every Kannel callback passes before its own fields are read: the
 * channel is configured, the request is collected (see collect()) and its
 * token is right.  0, or -1 after adapter_fail() with form freed. */
static int kannel_accept(const hl_config *cfg, const adapter_http_in *in, adapter_form *form,
                         const char **body_text, size_t *body_len, const char **body_charset,
                         adapter_parse *out)
{
    if (!kannel_configured(cfg))
        return adapter_fail(out, 404, "the Kannel channel is not configured");
    if (collect(in, form, body_text, body_len, body_charset) < 0) {
        adapter_form_free(form);
        return adapter_fail(out, 500, "out of memory");
    }
    if (!kannel_authorized(cfg, form)) {
        adapter_form_free(form);
        return adapter_fail(out, 401, "missing or wrong token");
    }
    return 0;
}

static int kannel_parse_inbound(const hl_config *cfg, const adapter_http_in *in, adapter_parse *out)
{
    adapter_form form = { 0 };
    const char *btext = NULL, *bcharset = NULL;
    size_t blen = 0;
    out->n = 0;
    if (kannel_accept(cfg, in, &form, &btext, &blen, &bcharset, out) < 0)
        return -1;
    const char *from = adapter_form_str(&form, "from");
    if (!adapter_isset(from) && in->header)
        from = in->header(in, "X-Kannel-From");
    const adapter_field *text = adapter_form_get(&form, "text");
    const char *charset = adapter_form_str(&form, "charset");
    const char *coding = adapter_form_str(&form, "coding");
    if (!adapter_isset(from) || (!text && !btext)) {
        adapter_form_free(&form);
        return adapter_fail(out, 400, "from and text are required");
    }
    adapter_inbound *ev = &out->ev[0];
    memset(ev, 0, sizeof *ev);
    ev->kind = AD_TEXT;
    snprintf(ev->address, sizeof ev->address, "%s", from);
    /* Kannel's %I; without it the daemon de-duplicates on (sender, text). */
    const char *id = adapter_form_str(&form, "id");
    snprintf(ev->provider_id, sizeof ev->provider_id, "%s", id ? id : "");
    const char *ts = adapter_form_str(&form, "ts");
    /* Unix seconds (%T); anything outside 0 .. year 9999 is not a time. */
    long long secs = ts ? strtoll(ts, NULL, 10) : 0;
    ev->ts_ms = secs > 0 && secs < 253402300800LL ? secs * 1000 : 0;
    if (text)
        ev->text = mo_text(text->value, text->value_len, charset, coding);
    else
        ev->text = mo_text(btext, blen, adapter_isset(charset) ? charset : bcharset, coding);
    adapter_form_free(&form);
    if (!ev->text)
        return adapter_fail(out, 500, "out of memory");
    out->n = 1;
    /* An empty body: with max-messages = 0 Kannel sends nothing back anyway,
     * the reply goes through the outbox. */
    out->status = 200;
    out->content_type = "text/plain";
    out->body[0] = '\0';
    return 0;
}

/* dlr-url = {public_url}/webhook/kannel/dlr?id=<outbox id>&type=%d&token=... */
static int kannel_parse_dlr(const hl_config *cfg, const adapter_http_in *in, adapter_dlr *dlr,
                            adapter_parse *out)
{
    adapter_form form = { 0 };
    const char *btext = NULL, *bcharset = NULL;
    size_t blen = 0;
    memset(dlr, 0, sizeof *dlr);
    out->n = 0;
    if (kannel_accept(cfg, in, &form, &btext, &blen, &bcharset, out) < 0)
        return -1;
    const char *id = adapter_form_str(&form, "id");
    const char *type = adapter_form_str(&form, "type");
    char *end = NULL;
    long long oid = id ? strtoll(id, &end, 10) : 0;
    if (!adapter_isset(id) || *end || oid <= 0 || !adapter_isset(type)) {
        adapter_form_free(&form);
        return adapter_fail(out, 400, "id and type are required");
    }
    dlr->outbox_id = oid;
    long t = strtol(type, NULL, 10);
    switch (t) {
    case 1:  dlr->state = AD_DLR_DELIVERED; snprintf(dlr->message, sizeof dlr->message, "delivered to phone"); break;
    case 2:  dlr->state = AD_DLR_FAILED;    snprintf(dlr->message, sizeof dlr->message, "not delivered"); break;
    case 4:  dlr->state = AD_DLR_ACCEPTED;  snprintf(dlr->message, sizeof dlr->message, "queued on the SMSC"); break;
    case 8:  dlr->state = AD_DLR_ACCEPTED;  snprintf(dlr->message, sizeof dlr->message, "delivered to the SMSC"); break;
    case 16: dlr->state = AD_DLR_FAILED;    snprintf(dlr->message, sizeof dlr->message, "rejected by the SMSC"); break;
    default: dlr->state = AD_DLR_ACCEPTED;  snprintf(dlr->message, sizeof dlr->message, "report type %ld", t); break;
    }
    snprintf(dlr->code, sizeof dlr->code, "%ld", t);
    /* %A, when the dlr-url carries it: the SMSC's own words are better. */
    const char *reply = adapter_form_str(&form, "reply");
    if (adapter_isset(reply))
        snprintf(dlr->message, sizeof dlr->message, "%s", reply);
    adapter_form_free(&form);
    out->status = 200;
    out->content_type = "text/plain";
    out->body[0] = '\0';
    return 0;
}

/* ---- outbound ----------------------------------------------------------- */

/* GET {sendsms_url}?username=&password=&from=&to=&text=&charset=UTF-8
 * &coding=0|2&dlr-mask=31&dlr-url=...  The URL holds the sendsms password
 * and the webhook token: the daemon must not log it. */
static int kannel_build_send(const hl_config *cfg, const adapter_out *msg, adapter_request *req,
                             char *err, size_t errlen)
{
    memset(req, 0, sizeof *req);
    if (!kannel_configured(cfg)) {
        snprintf(err, errlen, "the Kannel channel is not configured");
        return -1;
    }
    if (!adapter_isset(msg->address) || !msg->text) {
        snprintf(err, errlen, "no recipient or text");
        return -1;
    }
    const char *pub = adapter_isset(msg->public_url) ? msg->public_url : cfg->public_url;
    char *q = NULL, *dlr = NULL, *dlrbase = NULL;
    int ok = adapter_query_add(&q, "username", cfg->kannel.username) == 0 &&
             adapter_query_add(&q, "password", cfg->kannel.password) == 0;
    if (ok && adapter_isset(cfg->kannel.from))
        ok = adapter_query_add(&q, "from", cfg->kannel.from) == 0;
    ok = ok && adapter_query_add(&q, "to", msg->address) == 0 &&
         adapter_query_add(&q, "text", msg->text) == 0 &&
         adapter_query_add(&q, "charset", "UTF-8") == 0 &&
         adapter_query_add(&q, "coding", msg->coding == 2 ? "2" : "0") == 0;
    if (ok && adapter_isset(pub)) {
        char *tok = adapter_urlencode(cfg->kannel.webhook_token);
        dlrbase = adapter_join_url(pub, "webhook/kannel/dlr");
        ok = tok && dlrbase &&
             asprintf(&dlr, "%s?id=%lld&type=%%d&token=%s", dlrbase, msg->outbox_id, tok) >= 0;
        if (!ok)
            dlr = NULL;
        free(tok);
        ok = ok && adapter_query_add(&q, "dlr-mask", "31") == 0 &&
             adapter_query_add(&q, "dlr-url", dlr) == 0;
    }
    const char *base = cfg->kannel.sendsms_url;
    if (ok && asprintf(&req->url, "%s%s%s", base, strchr(base, '?') ? "&" : "?", q) < 0) {
        req->url = NULL;
        ok = 0;
    }
    free(q);
    free(dlr);
    free(dlrbase);
    if (!ok) {
        adapter_request_free(req);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(req->method, sizeof req->method, "GET");
    return 0;
}

/* The first line of Kannel's answer, for staff (it never echoes secrets). */
static void first_line(char *dst, size_t dl, const char *body, size_t len)
{
    size_t n = 0;
    while (n < len && body[n] != '\n' && body[n] != '\r' && body[n] != '\0')
        n++;
    snprintf(dst, dl, "%.*s", (int)n, body);
}

/* 202 "0: Accepted for delivery" / "3: Queued for later delivery" are
 * successes; 503 "Temporal failure" and other 5xx retry; 4xx are permanent. */
static void kannel_interpret(const hl_config *cfg, long http_status, const char *body, size_t len,
                             int transport_error, adapter_result *res)
{
    (void)cfg;
    memset(res, 0, sizeof *res);
    if (!body)
        len = 0;
    if (transport_error || http_status == 0) {
        adapter_no_answer(res, "Kannel");
        return;
    }
    snprintf(res->code, sizeof res->code, "http_%ld", http_status);
    first_line(res->message, sizeof res->message, body ? body : "", len);
    if (http_status >= 200 && http_status < 300) {
        /* Any 2xx: Kannel took the message (older versions answer "Sent."). */
        res->status = AD_SENT;
        if (len >= 2 && (body[0] == '0' || body[0] == '3') && body[1] == ':')
            snprintf(res->code, sizeof res->code, "%c", body[0]);
    } else if (http_status == 429 || http_status == 408 || http_status >= 500) {
        res->status = AD_RETRY;
    } else {
        res->status = AD_FAILED;
    }
}

const adapter adapter_kannel = {
    .name = "kannel",
    .is_sms = 1,
    .max_chars = 0,
    .inbound_path = "/webhook/kannel",
    .dlr_path = "/webhook/kannel/dlr",
    .configured = kannel_configured,
    .can_send = kannel_can_send,
    .parse_inbound = kannel_parse_inbound,
    .parse_dlr = kannel_parse_dlr,
    .build_send = kannel_build_send,
    .interpret = kannel_interpret,
    .build_refresh = NULL,
    .parse_refresh = NULL,
};
