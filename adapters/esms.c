/* esms.c - eSMS.vn brandname SMS: outbound only (its MO format is not
 * public), with RequestId = our outbox id and delivery callbacks by GET. */
#include "adapters/adapter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define ESMS_API_BASE "https://rest.esms.vn"
#define ESMS_DLR_PATH "/webhook/esms/dlr"

static int esms_configured(const hl_config *cfg)
{
    return adapter_isset(cfg->esms.api_key) && adapter_isset(cfg->esms.secret_key);
}

/* SmsType 2 (customer care) needs a registered brandname. */
static int esms_can_send(const hl_config *cfg)
{
    return esms_configured(cfg) && adapter_isset(cfg->esms.brandname);
}

static int esms_parse_inbound(const hl_config *cfg, const adapter_http_in *in, adapter_parse *out)
{
    (void)cfg;
    (void)in;
    out->n = 0;
    return adapter_fail(out, 404, "eSMS is outbound only");
}

/* GET /webhook/esms/dlr?SMSID=...&SendStatus=5&RequestId=<outbox id>.
 * eSMS does not sign its callbacks: a forged report can only change a
 * message's displayed status, never send anything. */
static int esms_parse_dlr(const hl_config *cfg, const adapter_http_in *in, adapter_dlr *dlr,
                          adapter_parse *out)
{
    adapter_form form = { 0 };
    memset(dlr, 0, sizeof *dlr);
    out->n = 0;
    if (!esms_configured(cfg))
        return adapter_fail(out, 404, "the eSMS channel is not configured");
    if ((in->query && adapter_form_parse(&form, in->query, strlen(in->query)) < 0) ||
        (in->method && strcmp(in->method, "POST") == 0 && in->body &&
         adapter_form_parse(&form, in->body, in->body_len) < 0)) {
        adapter_form_free(&form);
        return adapter_fail(out, 500, "out of memory");
    }
    const char *smsid = adapter_form_str(&form, "SMSID");
    const char *st = adapter_form_str(&form, "SendStatus");
    const char *rid = adapter_form_str(&form, "RequestId");
    char *end = NULL;
    long long oid = adapter_isset(rid) ? strtoll(rid, &end, 10) : 0;
    if ((!adapter_isset(smsid) && oid <= 0) || !adapter_isset(st)) {
        adapter_form_free(&form);
        return adapter_fail(out, 400, "SMSID or RequestId, and SendStatus, are required");
    }
    dlr->outbox_id = (oid > 0 && end && !*end) ? oid : 0;
    snprintf(dlr->provider_id, sizeof dlr->provider_id, "%s", smsid ? smsid : "");
    long s = strtol(st, NULL, 10);
    if (s == 5) {
        dlr->state = AD_DLR_DELIVERED;
        snprintf(dlr->message, sizeof dlr->message, "sent");
    } else if (s == 4) {
        dlr->state = AD_DLR_FAILED;
        snprintf(dlr->message, sizeof dlr->message, "rejected");
    } else {
        dlr->state = AD_DLR_ACCEPTED;
        snprintf(dlr->message, sizeof dlr->message, "status %ld", s);
    }
    snprintf(dlr->code, sizeof dlr->code, "%ld", s);
    adapter_form_free(&form);
    out->status = 200;
    out->content_type = "text/plain";
    out->body[0] = '\0';
    return 0;
}

static int esms_build_send(const hl_config *cfg, const adapter_out *msg, adapter_request *req,
                           char *err, size_t errlen)
{
    memset(req, 0, sizeof *req);
    if (!esms_can_send(cfg)) {
        snprintf(err, errlen, "channels.esms needs api_key, secret_key and brandname");
        return -1;
    }
    if (!adapter_isset(msg->address) || !msg->text) {
        snprintf(err, errlen, "no recipient or text");
        return -1;
    }
    const char *api = adapter_isset(cfg->esms.api_base) ? cfg->esms.api_base : ESMS_API_BASE;
    const char *pub = adapter_isset(msg->public_url) ? msg->public_url : cfg->public_url;
    char rid[32];
    snprintf(rid, sizeof rid, "%lld", msg->outbox_id);
    /* eSMS wants 0912345678 or 84912345678, not "+84...". */
    const char *phone = msg->address[0] == '+' ? msg->address + 1 : msg->address;
    char *cb = adapter_isset(pub) ? adapter_join_url(pub, ESMS_DLR_PATH) : NULL;
    cJSON *root = cJSON_CreateObject();
    int ok = root && cJSON_AddStringToObject(root, "ApiKey", cfg->esms.api_key) &&
             cJSON_AddStringToObject(root, "SecretKey", cfg->esms.secret_key) &&
             cJSON_AddStringToObject(root, "Phone", phone) &&
             cJSON_AddStringToObject(root, "Content", msg->text) &&
             cJSON_AddStringToObject(root, "Brandname", cfg->esms.brandname) &&
             cJSON_AddStringToObject(root, "SmsType", "2") &&
             cJSON_AddStringToObject(root, "IsUnicode", msg->coding == 2 ? "1" : "0") &&
             cJSON_AddStringToObject(root, "RequestId", rid);
    if (ok && cb)
        ok = cJSON_AddStringToObject(root, "CallbackUrl", cb) != NULL;
    free(cb);
    ok = ok && (req->body = cJSON_PrintUnformatted(root)) != NULL;
    cJSON_Delete(root);
    ok = ok && (req->url = adapter_join_url(api, "MainService.svc/json/SendMultipleMessage_V4_post_json/")) != NULL;
    ok = ok && adapter_request_header(req, "Content-Type: application/json") == 0;
    if (!ok) {
        adapter_request_free(req);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(req->method, sizeof req->method, "POST");
    req->body_len = strlen(req->body);
    return 0;
}

/* CodeResult: 100 accepted, 124 duplicate RequestId (we sent it before: the
 * outbox id is the RequestId), 99 unknown error (retry), anything else,
 * e.g. 101 bad keys, 103 no balance, 104 brandname not registered, is
 * permanent. */
static void esms_interpret(const hl_config *cfg, long http_status, const char *body, size_t len,
                           int transport_error, adapter_result *res)
{
    (void)cfg;
    memset(res, 0, sizeof *res);
    if (transport_error || http_status == 0) {
        adapter_no_answer(res, "eSMS");
        return;
    }
    if (http_status == 429 || http_status == 408 || http_status >= 500) {
        res->status = AD_RETRY;
        snprintf(res->code, sizeof res->code, "http_%ld", http_status);
        snprintf(res->message, sizeof res->message, "eSMS is unavailable");
        return;
    }
    cJSON *root = body ? cJSON_ParseWithLength(body, len) : NULL;
    char code[32] = "";
    if (adapter_json_text(body, len, root, code, sizeof code, "CodeResult", NULL) < 0) {
        res->status = (http_status >= 200 && http_status < 300) ? AD_RETRY : AD_FAILED;
        snprintf(res->code, sizeof res->code, "http_%ld", http_status);
        snprintf(res->message, sizeof res->message, "unreadable answer from eSMS");
        cJSON_Delete(root);
        return;
    }
    snprintf(res->code, sizeof res->code, "%s", code);
    adapter_json_text(body, len, root, res->provider_id, sizeof res->provider_id, "SMSID", NULL);
    if (adapter_json_text(body, len, root, res->message, sizeof res->message, "ErrorMessage",
                          NULL) < 0)
        res->message[0] = '\0';
    if (strcmp(code, "100") == 0) {
        res->status = AD_SENT;
    } else if (strcmp(code, "124") == 0) {
        res->status = AD_SENT;
        if (!res->message[0])
            snprintf(res->message, sizeof res->message, "duplicate RequestId: already sent");
    } else if (strcmp(code, "99") == 0) {
        res->status = AD_RETRY;
    } else {
        res->status = AD_FAILED;
        if (!res->message[0])
            snprintf(res->message, sizeof res->message, "%s",
                     strcmp(code, "101") == 0   ? "wrong ApiKey or SecretKey"
                     : strcmp(code, "103") == 0 ? "account balance too low"
                     : strcmp(code, "104") == 0 ? "brandname not registered"
                                                : "refused by eSMS");
    }
    cJSON_Delete(root);
}

const adapter adapter_esms = {
    .name = "esms",
    .is_sms = 1,
    .max_chars = 0,
    .inbound_path = NULL,
    .dlr_path = ESMS_DLR_PATH,
    .configured = esms_configured,
    .can_send = esms_can_send,
    .parse_inbound = esms_parse_inbound,
    .parse_dlr = esms_parse_dlr,
    .build_send = esms_build_send,
    .interpret = esms_interpret,
    .build_refresh = NULL,
    .parse_refresh = NULL,
};
