/* twilio.c - SMS through Twilio: signed form webhooks in (messages and
 * status callbacks), REST API out (Messages.json). */
#include "adapters/adapter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define TWILIO_API_BASE "https://api.twilio.com"
#define TWILIO_PATH     "/webhook/twilio"

static int twilio_configured(const hl_config *cfg)
{
    return adapter_isset(cfg->twilio.account_sid) && adapter_isset(cfg->twilio.auth_token);
}

/* Sending also needs a sender (a number or a Messaging Service). */
static int twilio_can_send(const hl_config *cfg)
{
    return twilio_configured(cfg) && adapter_isset(cfg->twilio.from);
}

/* ---- signature ---------------------------------------------------------- */

/* The public URL Twilio calls for the message webhook: twilio.public_url
 * when set (the full URL, for deployments behind a proxy), else public_url
 * + /webhook/twilio.  malloc'd, NULL when neither is set. */
static char *webhook_base(const hl_config *cfg)
{
    if (adapter_isset(cfg->twilio.public_url)) {
        char *s = strdup(cfg->twilio.public_url);
        size_t n = s ? strlen(s) : 0;
        while (n > 0 && s[n - 1] == '/')
            s[--n] = '\0';
        return s;
    }
    if (adapter_isset(cfg->public_url))
        return adapter_join_url(cfg->public_url, TWILIO_PATH);
    return NULL;
}

static int cmp_field(const void *a, const void *b)
{
    const adapter_field *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

/* base64(HMAC-SHA1(auth_token, url + name1 + value1 + name2 + ...)) with
 * the parameters sorted by name (then value, for repeated names).  sig must
 * hold 29 bytes.  Sorts form in place. */
static int twilio_signature(const char *token, const char *url, adapter_form *form, char sig[32])
{
    if (form->n > 1)    /* qsort(NULL, 0, ...) is undefined */
        qsort(form->f, form->n, sizeof *form->f, cmp_field);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int ok = 0;
    size_t total = strlen(url) + 1;
    for (size_t i = 0; i < form->n; i++)
        total += strlen(form->f[i].name) + strlen(form->f[i].value);
    char *msg = malloc(total);
    if (!msg)
        return -1;
    size_t o = strlen(url);
    memcpy(msg, url, o);
    for (size_t i = 0; i < form->n; i++) {
        size_t nl = strlen(form->f[i].name), vl = strlen(form->f[i].value);
        memcpy(msg + o, form->f[i].name, nl);
        o += nl;
        memcpy(msg + o, form->f[i].value, vl);
        o += vl;
    }
    if (HMAC(EVP_sha1(), token, (int)strlen(token), (unsigned char *)msg, o, md, &mdlen) &&
        mdlen == 20)
        ok = EVP_EncodeBlock((unsigned char *)sig, md, 20) == 28;
    free(msg);
    return ok ? 0 : -1;
}

/* Twilio's own validators accept the URL with and without the default port
 * (its proxies are inconsistent about it): returns the other spelling, or
 * NULL.  malloc'd. */
static char *toggle_port(const char *url)
{
    const char *scheme_end = strstr(url, "://");
    if (!scheme_end)
        return NULL;
    int https = strncasecmp(url, "https", 5) == 0;
    const char *host = scheme_end + 3;
    const char *hend = host + strcspn(host, "/?");
    const char *colon = memchr(host, ':', (size_t)(hend - host));
    char *out = NULL;
    if (colon) {
        const char *want = https ? ":443" : ":80";
        if ((size_t)(hend - colon) != strlen(want) || strncmp(colon, want, strlen(want)) != 0)
            return NULL;
        if (asprintf(&out, "%.*s%s", (int)(colon - url), url, hend) < 0)
            return NULL;
    } else if (asprintf(&out, "%.*s%s%s", (int)(hend - url), url, https ? ":443" : ":80", hend) < 0) {
        return NULL;
    }
    return out;
}

static int sig_eq(const char *got, const char *want)
{
    size_t n = strlen(want);
    return strlen(got) == n && CRYPTO_memcmp(got, want, n) == 0;
}

/* Checks X-Twilio-Signature for url (+ "?" + the request's query).  1 ok. */
static int twilio_verify(const hl_config *cfg, const adapter_http_in *in, const char *url,
                         adapter_form *params)
{
    const char *got = in->header ? in->header(in, "X-Twilio-Signature") : NULL;
    if (!got || !*got || !url)
        return 0;
    char *full = NULL;
    if (adapter_isset(in->query) && !strchr(url, '?')) {
        if (asprintf(&full, "%s?%s", url, in->query) < 0)
            return 0;
    } else {
        full = strdup(url);
    }
    if (!full)
        return 0;
    char sig[32];
    int ok = twilio_signature(cfg->twilio.auth_token, full, params, sig) == 0 && sig_eq(got, sig);
    if (!ok) {
        char *alt = toggle_port(full);
        ok = alt && twilio_signature(cfg->twilio.auth_token, alt, params, sig) == 0 &&
             sig_eq(got, sig);
        free(alt);
    }
    free(full);
    return ok;
}

/* The parameters Twilio signed: the POST body's form fields (none for a
 * GET: then they are in the query, which is part of the signed URL). */
static int signed_params(const adapter_http_in *in, adapter_form *form, adapter_form *all)
{
    if (in->method && strcmp(in->method, "POST") == 0 && in->body &&
        adapter_form_parse(form, in->body, in->body_len) < 0)
        return -1;
    if (in->query && adapter_form_parse(all, in->query, strlen(in->query)) < 0)
        return -1;
    if (in->method && strcmp(in->method, "POST") == 0 && in->body &&
        adapter_form_parse(all, in->body, in->body_len) < 0)
        return -1;
    return 0;
}

/* ---- inbound ------------------------------------------------------------ */

static int twilio_parse_inbound(const hl_config *cfg, const adapter_http_in *in, adapter_parse *out)
{
    adapter_form form = { 0 }, all = { 0 };
    out->n = 0;
    int rc = -1;
    char *base = NULL;
    if (!twilio_configured(cfg))
        return adapter_fail(out, 404, "the Twilio channel is not configured");
    if (signed_params(in, &form, &all) < 0) {
        adapter_fail(out, 500, "out of memory");
        goto done;
    }
    base = webhook_base(cfg);
    if (!base) {
        adapter_fail(out, 401,
                     "cannot verify: neither channels.twilio.public_url nor public_url is set");
        goto done;
    }
    if (!twilio_verify(cfg, in, base, &form)) {
        adapter_fail(out, 401, "missing or bad X-Twilio-Signature");
        goto done;
    }
    const char *from = adapter_form_str(&all, "From");
    const char *body = adapter_form_str(&all, "Body");
    const char *sid = adapter_form_str(&all, "MessageSid");
    const char *nmedia = adapter_form_str(&all, "NumMedia");
    if (!adapter_isset(from)) {
        adapter_fail(out, 400, "From is required");
        goto done;
    }
    adapter_inbound *ev = &out->ev[0];
    memset(ev, 0, sizeof *ev);
    snprintf(ev->address, sizeof ev->address, "%s", from);
    snprintf(ev->provider_id, sizeof ev->provider_id, "%s", sid ? sid : "");
    if (!adapter_isset(body) && nmedia && atoi(nmedia) > 0) {
        ev->kind = AD_MEDIA;
        /* "image/jpeg" -> "image" */
        const char *ct = adapter_form_str(&all, "MediaContentType0");
        snprintf(ev->media_type, sizeof ev->media_type, "%.*s",
                 ct ? (int)strcspn(ct, "/") : 5, ct ? ct : "media");
    } else {
        ev->kind = AD_TEXT;
        ev->text = strdup(body ? body : "");
        if (!ev->text) {
            adapter_fail(out, 500, "out of memory");
            goto done;
        }
    }
    out->n = 1;
    out->status = 200;
    out->content_type = "text/xml";
    snprintf(out->body, sizeof out->body, "<Response/>");
    rc = 0;
done:
    free(base);
    adapter_form_free(&form);
    adapter_form_free(&all);
    return rc;
}

/* Status callback at /webhook/twilio/status?id=<outbox id> (the id is put
 * there by build_send; the signed URL includes it). */
static int twilio_parse_dlr(const hl_config *cfg, const adapter_http_in *in, adapter_dlr *dlr,
                            adapter_parse *out)
{
    adapter_form form = { 0 }, all = { 0 };
    memset(dlr, 0, sizeof *dlr);
    out->n = 0;
    int rc = -1;
    char *base = NULL, *url = NULL;
    if (!twilio_configured(cfg))
        return adapter_fail(out, 404, "the Twilio channel is not configured");
    if (signed_params(in, &form, &all) < 0) {
        adapter_fail(out, 500, "out of memory");
        goto done;
    }
    base = webhook_base(cfg);
    url = base ? adapter_join_url(base, "status") : NULL;
    if (!url || !twilio_verify(cfg, in, url, &form)) {
        adapter_fail(out, 401, "missing or bad X-Twilio-Signature");
        goto done;
    }
    const char *sid = adapter_form_str(&all, "MessageSid");
    const char *status = adapter_form_str(&all, "MessageStatus");
    const char *code = adapter_form_str(&all, "ErrorCode");
    const char *id = adapter_form_str(&all, "id");
    if (!adapter_isset(sid) || !adapter_isset(status)) {
        adapter_fail(out, 400, "MessageSid and MessageStatus are required");
        goto done;
    }
    snprintf(dlr->provider_id, sizeof dlr->provider_id, "%s", sid);
    dlr->outbox_id = id ? strtoll(id, NULL, 10) : 0;
    if (dlr->outbox_id < 0)
        dlr->outbox_id = 0;
    if (strcmp(status, "delivered") == 0 || strcmp(status, "read") == 0)
        dlr->state = AD_DLR_DELIVERED;
    else if (strcmp(status, "failed") == 0 || strcmp(status, "undelivered") == 0 ||
             strcmp(status, "canceled") == 0)
        dlr->state = AD_DLR_FAILED;
    else
        dlr->state = AD_DLR_ACCEPTED;   /* queued, accepted, sending, sent, scheduled */
    snprintf(dlr->code, sizeof dlr->code, "%s", adapter_isset(code) ? code : "");
    snprintf(dlr->message, sizeof dlr->message, "%s", status);
    dlr->opted_out = adapter_isset(code) && strcmp(code, "21610") == 0;
    out->status = 200;
    out->content_type = "text/plain";
    out->body[0] = '\0';
    rc = 0;
done:
    free(base);
    free(url);
    adapter_form_free(&form);
    adapter_form_free(&all);
    return rc;
}

/* ---- outbound ----------------------------------------------------------- */

/* A Messaging Service SID ("MG" + 32 hex) goes in MessagingServiceSid. */
static int is_messaging_service(const char *from)
{
    return strncmp(from, "MG", 2) == 0 && strlen(from) == 34;
}

static int twilio_build_send(const hl_config *cfg, const adapter_out *msg, adapter_request *req,
                             char *err, size_t errlen)
{
    memset(req, 0, sizeof *req);
    if (!twilio_can_send(cfg)) {
        snprintf(err, errlen, "channels.twilio needs account_sid, auth_token and from");
        return -1;
    }
    if (!adapter_isset(msg->address) || !msg->text) {
        snprintf(err, errlen, "no recipient or text");
        return -1;
    }
    const char *api = adapter_isset(cfg->twilio.api_base) ? cfg->twilio.api_base : TWILIO_API_BASE;
    char *path = NULL, *q = NULL, *status_url = NULL;
    char *base = NULL;
    int ok = asprintf(&path, "2010-04-01/Accounts/%s/Messages.json", cfg->twilio.account_sid) >= 0;
    if (!ok)
        path = NULL;
    ok = ok && (req->url = adapter_join_url(api, path)) != NULL;
    ok = ok && adapter_query_add(&q, "To", msg->address) == 0 &&
         adapter_query_add(&q,
                           is_messaging_service(cfg->twilio.from) ? "MessagingServiceSid" : "From",
                           cfg->twilio.from) == 0 &&
         adapter_query_add(&q, "Body", msg->text) == 0;
    /* The status callback URL is built the way parse_dlr verifies it. */
    if (ok && adapter_isset(msg->public_url) && !adapter_isset(cfg->twilio.public_url))
        base = adapter_join_url(msg->public_url, TWILIO_PATH);
    else if (ok)
        base = webhook_base(cfg);
    if (ok && base) {
        ok = asprintf(&status_url, "%s/status?id=%lld", base, msg->outbox_id) >= 0;
        if (!ok)
            status_url = NULL;
        ok = ok && adapter_query_add(&q, "StatusCallback", status_url) == 0;
    }
    ok = ok && asprintf(&req->userpwd, "%s:%s", cfg->twilio.account_sid, cfg->twilio.auth_token) >= 0;
    if (!ok)
        req->userpwd = NULL;
    ok = ok && adapter_request_header(req, "Content-Type: application/x-www-form-urlencoded") == 0;
    free(path);
    free(base);
    free(status_url);
    if (!ok) {
        free(q);
        adapter_request_free(req);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(req->method, sizeof req->method, "POST");
    req->body = q;
    req->body_len = strlen(q);
    return 0;
}

static void twilio_interpret(const hl_config *cfg, long http_status, const char *body, size_t len,
                             int transport_error, adapter_result *res)
{
    (void)cfg;
    memset(res, 0, sizeof *res);
    if (transport_error || http_status == 0) {
        adapter_no_answer(res, "Twilio");
        return;
    }
    cJSON *root = body ? cJSON_ParseWithLength(body, len) : NULL;
    if (http_status == 200 || http_status == 201) {
        res->status = AD_SENT;
        adapter_json_text(body, len, root, res->provider_id, sizeof res->provider_id, "sid", NULL);
        adapter_json_text(body, len, root, res->message, sizeof res->message, "status", NULL);
        cJSON_Delete(root);
        return;
    }
    res->status = (http_status == 429 || http_status >= 500) ? AD_RETRY : AD_FAILED;
    if (adapter_json_text(body, len, root, res->code, sizeof res->code, "code", NULL) < 0)
        snprintf(res->code, sizeof res->code, "http_%ld", http_status);
    const cJSON *m = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "message") : NULL;
    snprintf(res->message, sizeof res->message, "%s",
             cJSON_IsString(m) ? m->valuestring : "unexpected answer from Twilio");
    if (strcmp(res->code, "21610") == 0) {
        res->opted_out = 1;
        res->status = AD_FAILED;
    }
    cJSON_Delete(root);
}

const adapter adapter_twilio = {
    .name = "twilio",
    .is_sms = 1,
    .max_chars = 0,
    .inbound_path = TWILIO_PATH,
    .dlr_path = TWILIO_PATH "/status",
    .configured = twilio_configured,
    .can_send = twilio_can_send,
    .parse_inbound = twilio_parse_inbound,
    .parse_dlr = twilio_parse_dlr,
    .build_send = twilio_build_send,
    .interpret = twilio_interpret,
    .build_refresh = NULL,
    .parse_refresh = NULL,
};
