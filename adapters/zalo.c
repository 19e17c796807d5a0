/* zalo.c - Zalo Official Account: signed JSON webhooks in, customer-service
 * messages out (/v3.0/oa/message/cs), OAuth v4 token refresh.
 *
 * The contract is in ../shared/notes/channels.md.  Ids are 19-digit numbers
 * and are only ever handled as strings. */
#include "adapters/adapter.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define ZALO_API_BASE   "https://openapi.zalo.me"
#define ZALO_OAUTH_BASE "https://oauth.zaloapp.com"

static int zalo_configured(const hl_config *cfg)
{
    return adapter_isset(cfg->zalo.app_id) && adapter_isset(cfg->zalo.oa_secret);
}

/* The access token itself comes from the database (the daemon's), so the
 * configuration needed to send is the same as to receive. */
static int zalo_can_send(const hl_config *cfg)
{
    return zalo_configured(cfg);
}

/* ---- signature ---------------------------------------------------------- */

/* hex(SHA-256(app_id + raw_body + timestamp + oa_secret)) into hex[65].
 * Plain SHA-256, not an HMAC: that is what Zalo's SDK (MacUtils) computes. */
static int zalo_mac(const char *app_id, const char *body, size_t body_len, const char *timestamp,
                    const char *oa_secret, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(ctx, app_id, strlen(app_id)) &&
             EVP_DigestUpdate(ctx, body, body_len) &&
             EVP_DigestUpdate(ctx, timestamp, strlen(timestamp)) &&
             EVP_DigestUpdate(ctx, oa_secret, strlen(oa_secret)) &&
             EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == 32;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
    return 0;
}

/* 1 when the header (with or without "mac=") carries the right mac.  Hex
 * case is ignored; the compare is constant-time over the 64 characters. */
static int zalo_signature_ok(const char *header, const char *expected_hex)
{
    if (!header)
        return 0;
    while (*header == ' ')
        header++;
    if (strncasecmp(header, "mac=", 4) == 0)
        header += 4;
    size_t len = strlen(header);
    while (len > 0 && (header[len - 1] == ' ' || header[len - 1] == '\r'))
        len--;
    if (len != 64)
        return 0;
    char got[64];
    for (size_t i = 0; i < 64; i++)
        got[i] = (char)tolower((unsigned char)header[i]);
    return CRYPTO_memcmp(got, expected_hex, 64) == 0;
}

/* ---- inbound ------------------------------------------------------------ */

/* 1 when the JSON text holds the escape \u0000 (cJSON would end the
 * string there). */
static int escaped_nul(const char *s, size_t n)
{
    for (size_t i = 0; i + 5 < n; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u' && memcmp(s + i + 2, "0000", 4) == 0)
            return 1;
        i++;   /* skip the escaped character (\\ included) */
    }
    return 0;
}

/* 1 when s is valid UTF-8 (cJSON passes invalid bytes through, and
 * \u0000 ends the string early, which utf8proc cannot see). */
static int utf8_ok(const char *s)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t n = (utf8proc_ssize_t)strlen(s);
    while (n > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, n, &cp);
        if (k <= 0)
            return 0;
        p += k;
        n -= k;
    }
    return 1;
}

/* Zalo's media events, named by what follows "user_send_". */
static const char *const media_events[] = {
    "image", "file", "audio", "video", "sticker", "gif", "link", "location", "business_card",
    NULL,
};

static const char *media_kind(const char *event)
{
    if (strncmp(event, "user_send_", 10) != 0)
        return NULL;
    for (size_t i = 0; media_events[i]; i++)
        if (strcmp(event + 10, media_events[i]) == 0)
            return media_events[i];
    return NULL;
}

/* Verifies the signature first (nothing from an unsigned body is trusted),
 * then maps the event.  For AD_IGNORE the event name goes into media_type,
 * so the daemon can log what it ignored. */
static int zalo_parse_inbound(const hl_config *cfg, const adapter_http_in *in, adapter_parse *out)
{
    const char *sig = in->header ? in->header(in, "X-ZEvent-Signature") : NULL;
    out->n = 0;
    if (!zalo_configured(cfg))
        return adapter_fail(out, 404, "the Zalo channel is not configured");
    if (!in->method || strcmp(in->method, "POST") != 0)
        return adapter_fail(out, 405, "POST expected");
    if (!sig || !*sig)
        return adapter_fail(out, 401, "missing X-ZEvent-Signature");

    cJSON *root = cJSON_ParseWithLength(in->body ? in->body : "", in->body_len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return adapter_fail(out, 400, "malformed JSON");
    }
    const char *raw = in->body;
    size_t rl = in->body_len;
    char app_id[64], ts[32], event[64], hex[65];
    if (adapter_json_text(raw, rl, root, app_id, sizeof app_id, "app_id", NULL) < 0 ||
        adapter_json_text(raw, rl, root, ts, sizeof ts, "timestamp", NULL) < 0) {
        cJSON_Delete(root);
        return adapter_fail(out, 400, "missing app_id or timestamp");
    }
    if (zalo_mac(app_id, in->body ? in->body : "", in->body_len, ts, cfg->zalo.oa_secret, hex) < 0) {
        cJSON_Delete(root);
        return adapter_fail(out, 500, "cannot compute the signature");
    }
    int sig_ok = zalo_signature_ok(sig, hex);
    OPENSSL_cleanse(hex, sizeof hex);
    if (!sig_ok) {
        cJSON_Delete(root);
        return adapter_fail(out, 401, "bad X-ZEvent-Signature");
    }
    /* A raw NUL would cut the text short where C strings end: refused, as
     * the daemon's own JSON routes do. */
    if (memchr(raw, '\0', rl) || escaped_nul(raw, rl)) {
        cJSON_Delete(root);
        return adapter_fail(out, 400, "NUL byte in body");
    }
    /* Signed, but for another app: a webhook pointed at the wrong OA. */
    if (strcmp(app_id, cfg->zalo.app_id) != 0) {
        cJSON_Delete(root);
        return adapter_fail(out, 401, "app_id does not match channels.zalo.app_id");
    }
    if (adapter_json_text(raw, rl, root, event, sizeof event, "event_name", NULL) < 0) {
        cJSON_Delete(root);
        return adapter_fail(out, 400, "missing event_name");
    }

    adapter_inbound *ev = &out->ev[0];
    memset(ev, 0, sizeof *ev);
    ev->ts_ms = strtoll(ts, NULL, 10);
    const char *kind = media_kind(event);

    if (strcmp(event, "user_send_text") == 0 || kind) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "message");
        const cJSON *text = cJSON_IsObject(msg) ? cJSON_GetObjectItemCaseSensitive(msg, "text") : NULL;
        if (adapter_json_text(raw, rl, root, ev->address, sizeof ev->address, "sender", "id",
                              NULL) < 0 || !ev->address[0]) {
            cJSON_Delete(root);
            return adapter_fail(out, 400, "missing sender.id");
        }
        /* A message without an id cannot be de-duplicated, but is still a
         * message: take it. */
        adapter_json_text(raw, rl, root, ev->provider_id, sizeof ev->provider_id, "message",
                          "msg_id", NULL);
        if (!kind) {
            if (!cJSON_IsString(text)) {
                cJSON_Delete(root);
                return adapter_fail(out, 400, "missing message.text");
            }
            ev->kind = AD_TEXT;
        } else {
            ev->kind = AD_MEDIA;
            snprintf(ev->media_type, sizeof ev->media_type, "%s", kind);
        }
        if (cJSON_IsString(text) && text->valuestring && !utf8_ok(text->valuestring)) {
            cJSON_Delete(root);
            return adapter_fail(out, 400, "message.text is not valid UTF-8");
        }
        if (cJSON_IsString(text) && text->valuestring) {
            ev->text = strdup(text->valuestring);
            if (!ev->text) {
                cJSON_Delete(root);
                return adapter_fail(out, 500, "out of memory");
            }
        }
    } else if (strcmp(event, "follow") == 0 || strcmp(event, "unfollow") == 0) {
        if (adapter_json_text(raw, rl, root, ev->address, sizeof ev->address, "follower", "id",
                              NULL) < 0 || !ev->address[0]) {
            cJSON_Delete(root);
            return adapter_fail(out, 400, "missing follower.id");
        }
        ev->kind = event[0] == 'f' ? AD_FOLLOW : AD_UNFOLLOW;
    } else {
        /* oa_send_* echoes of our own replies (answering them would loop),
         * receipts, and whatever Zalo adds next: acknowledged, not stored. */
        ev->kind = AD_IGNORE;
        snprintf(ev->media_type, sizeof ev->media_type, "%.23s", event);
        adapter_json_text(raw, rl, root, ev->address, sizeof ev->address, "sender", "id", NULL);
        adapter_json_text(raw, rl, root, ev->provider_id, sizeof ev->provider_id, "message",
                          "msg_id", NULL);
    }
    cJSON_Delete(root);
    out->n = 1;
    out->status = 200;
    out->content_type = "application/json";
    snprintf(out->body, sizeof out->body, "{}");
    return 0;
}

/* Zalo has no delivery-report route of its own (receipts arrive as
 * user_received_message / user_seen_message events on the webhook). */
static int zalo_parse_dlr(const hl_config *cfg, const adapter_http_in *in, adapter_dlr *dlr,
                          adapter_parse *out)
{
    (void)cfg;
    (void)in;
    memset(dlr, 0, sizeof *dlr);
    return adapter_fail(out, 404, "no delivery reports on this channel");
}

/* ---- outbound ----------------------------------------------------------- */

static const char *api_base(const hl_config *cfg)
{
    return adapter_isset(cfg->zalo.api_base) ? cfg->zalo.api_base : ZALO_API_BASE;
}

static const char *oauth_base(const hl_config *cfg)
{
    return adapter_isset(cfg->zalo.oauth_base) ? cfg->zalo.oauth_base : ZALO_OAUTH_BASE;
}

static int zalo_build_send(const hl_config *cfg, const adapter_out *msg, adapter_request *req,
                           char *err, size_t errlen)
{
    memset(req, 0, sizeof *req);
    if (!adapter_isset(msg->access_token)) {
        snprintf(err, errlen, "no Zalo access token");
        return -1;
    }
    if (!adapter_isset(msg->address) || !msg->text) {
        snprintf(err, errlen, "no recipient or text");
        return -1;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *rcpt = cJSON_AddObjectToObject(root, "recipient");
    cJSON *m = cJSON_AddObjectToObject(root, "message");
    if (!rcpt || !m || !cJSON_AddStringToObject(rcpt, "user_id", msg->address) ||
        !cJSON_AddStringToObject(m, "text", msg->text))
        goto oom;
    snprintf(req->method, sizeof req->method, "POST");
    req->url = adapter_join_url(api_base(cfg), "v3.0/oa/message/cs");
    req->body = cJSON_PrintUnformatted(root);
    if (!req->url || !req->body ||
        adapter_request_header(req, "access_token: %s", msg->access_token) < 0 ||
        adapter_request_header(req, "Content-Type: application/json") < 0)
        goto oom;
    req->body_len = strlen(req->body);
    cJSON_Delete(root);
    return 0;
oom:
    cJSON_Delete(root);
    adapter_request_free(req);
    snprintf(err, errlen, "out of memory");
    return -1;
}

static void result_set(adapter_result *res, enum adapter_send_status st, const char *code,
                       const char *message)
{
    res->status = st;
    snprintf(res->code, sizeof res->code, "%s", code ? code : "");
    snprintf(res->message, sizeof res->message, "%s", message ? message : "");
}

/* Zalo answers HTTP 200 for its own errors; the verdict is in "error". */
static void zalo_interpret(const hl_config *cfg, long http_status, const char *body, size_t len,
                           int transport_error, adapter_result *res)
{
    (void)cfg;
    memset(res, 0, sizeof *res);
    char code[32];
    if (transport_error || http_status == 0) {
        adapter_no_answer(res, "Zalo");
        return;
    }
    if (http_status == 429 || http_status == 408 || http_status >= 500) {
        snprintf(code, sizeof code, "http_%ld", http_status);
        result_set(res, AD_RETRY, code, "Zalo is unavailable or rate limiting");
        return;
    }
    cJSON *root = body ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *e = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "error") : NULL;
    const cJSON *m = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "message") : NULL;
    const char *msgtext = cJSON_IsString(m) ? m->valuestring : "";
    long err;
    if (cJSON_IsNumber(e))      /* clamped: casting an out-of-range double is undefined */
        err = e->valuedouble > -1e9 && e->valuedouble < 1e9 ? (long)e->valuedouble
              : e->valuedouble < 0                          ? -999999999L : 999999999L;
    else if (cJSON_IsString(e) && e->valuestring)
        err = strtol(e->valuestring, NULL, 10);
    else {
        snprintf(code, sizeof code, "http_%ld", http_status);
        /* A 200 without Zalo's envelope (a proxy's page?): the message may
         * or may not have left, and losing it is worse than a duplicate. */
        if (http_status >= 200 && http_status < 300)
            result_set(res, AD_RETRY, code, "unreadable answer from Zalo");
        else
            result_set(res, AD_FAILED, code, "unexpected HTTP status from Zalo");
        cJSON_Delete(root);
        return;
    }
    snprintf(code, sizeof code, "%ld", err);
    if (err == 0 && http_status >= 200 && http_status < 300) {
        result_set(res, AD_SENT, "", msgtext);
        adapter_json_text(body, len, root, res->provider_id, sizeof res->provider_id, "data",
                          "message_id", NULL);
    } else if (err == -216 || err == -220 || err == -124) {
        /* -216 invalid, -220 expired; -124 is the newer API's "invalid
         * access token".  Refresh and retry once. */
        result_set(res, AD_TOKEN_EXPIRED, code, msgtext);
    } else if (err == -32) {
        result_set(res, AD_RETRY, code, msgtext[0] ? msgtext : "rate limited");
    } else {
        /* -201 invalid field, -213 not a follower, -227 banned/inactive,
         * -230/-232 no interaction in 7 days, and anything unknown. */
        result_set(res, AD_FAILED, code, msgtext);
    }
    cJSON_Delete(root);
}

/* ---- OAuth v4 ----------------------------------------------------------- */

static int zalo_build_refresh(const hl_config *cfg, const char *refresh_token, adapter_request *req,
                              char *err, size_t errlen)
{
    memset(req, 0, sizeof *req);
    if (!adapter_isset(cfg->zalo.app_secret)) {
        snprintf(err, errlen, "channels.zalo.app_secret is not set");
        return -1;
    }
    if (!adapter_isset(refresh_token) || !adapter_isset(cfg->zalo.app_id)) {
        snprintf(err, errlen, "no Zalo refresh token or app_id");
        return -1;
    }
    char *rt = adapter_urlencode(refresh_token);
    char *app = adapter_urlencode(cfg->zalo.app_id);
    snprintf(req->method, sizeof req->method, "POST");
    req->url = adapter_join_url(oauth_base(cfg), "v4/oa/access_token");
    if (rt && app &&
        asprintf(&req->body, "refresh_token=%s&app_id=%s&grant_type=refresh_token", rt, app) < 0)
        req->body = NULL;
    free(rt);
    free(app);
    if (!req->url || !req->body ||
        adapter_request_header(req, "secret_key: %s", cfg->zalo.app_secret) < 0 ||
        adapter_request_header(req, "Content-Type: application/x-www-form-urlencoded") < 0) {
        adapter_request_free(req);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    req->body_len = strlen(req->body);
    return 0;
}

/* A refresh either yields both tokens or fails: the refresh token is
 * single-use, so an answer without a new one is an error the admin must see. */
static int zalo_parse_refresh(const hl_config *cfg, long http_status, const char *body, size_t len,
                              adapter_token *tok, char *err, size_t errlen)
{
    (void)cfg;
    memset(tok, 0, sizeof *tok);
    cJSON *root = body ? cJSON_ParseWithLength(body, len) : NULL;
    if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "token refresh: HTTP %ld with an unreadable answer", http_status);
        cJSON_Delete(root);
        return -1;
    }
    char code[32] = "", reason[160] = "";
    if (adapter_json_text(body, len, root, code, sizeof code, "error", NULL) == 0 && code[0] &&
        strcmp(code, "0") != 0) {
        if (adapter_json_text(body, len, root, reason, sizeof reason, "error_description",
                              NULL) < 0 &&
            adapter_json_text(body, len, root, reason, sizeof reason, "error_name", NULL) < 0)
            adapter_json_text(body, len, root, reason, sizeof reason, "message", NULL);
        snprintf(err, errlen, "token refresh refused: error %s %s", code, reason);
        cJSON_Delete(root);
        return -1;
    }
    if (http_status != 200) {
        snprintf(err, errlen, "token refresh: HTTP %ld", http_status);
        cJSON_Delete(root);
        return -1;
    }
    char exp[32] = "";
    if (adapter_json_text(body, len, root, tok->access_token, sizeof tok->access_token,
                          "access_token", NULL) < 0 || !tok->access_token[0] ||
        adapter_json_text(body, len, root, tok->refresh_token, sizeof tok->refresh_token,
                          "refresh_token", NULL) < 0 || !tok->refresh_token[0]) {
        snprintf(err, errlen, "token refresh: answer without access_token and refresh_token");
        cJSON_Delete(root);
        OPENSSL_cleanse(tok, sizeof *tok);
        return -1;
    }
    /* "90000" (a string, as documented) or 90000; absent: assume an hour so
     * the daemon refreshes early rather than late. */
    tok->expires_in = 3600;
    if (adapter_json_text(body, len, root, exp, sizeof exp, "expires_in", NULL) == 0) {
        long long v = strtoll(exp, NULL, 10);
        if (v > 0)
            tok->expires_in = v;
    }
    cJSON_Delete(root);
    return 0;
}

const adapter adapter_zalo = {
    .name = "zalo",
    .is_sms = 0,
    .max_chars = 2000,
    .inbound_path = "/webhook/zalo",
    .dlr_path = NULL,
    .configured = zalo_configured,
    .can_send = zalo_can_send,
    .parse_inbound = zalo_parse_inbound,
    .parse_dlr = zalo_parse_dlr,
    .build_send = zalo_build_send,
    .interpret = zalo_interpret,
    .build_refresh = zalo_build_refresh,
    .parse_refresh = zalo_parse_refresh,
};
