/* fuzz_common.h - shared by the libFuzzer harnesses: a configuration with
 * every channel set up, and an adapter_http_in built from the fuzzer's bytes.
 *
 * Input layout for the webhook harnesses:
 *   byte 0      flags: bit 0 POST (else GET), bits 1-2 Content-Type
 *               (form, json, text/plain; charset=UTF-16BE, none), bit 3
 *               "sign it": the harness computes a valid signature so the
 *               fuzzer gets past the check into the parser
 *   then        QUERY '\n' HEADER '\n' BODY (missing parts are empty);
 *               HEADER is the signature/token header's value */
#ifndef HOTLINE_FUZZ_COMMON_H
#define HOTLINE_FUZZ_COMMON_H

#include "adapters/adapter.h"
#include "bot/config.h"
#include "bot/log.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char fuzz_config_json[] =
    "{\"public_url\":\"https://hotline.example.vn\","
    " \"channels\":{"
    "  \"zalo\":{\"app_id\":\"2553928453557884079\",\"oa_secret\":\"fuzz-oa-secret\","
    "            \"app_secret\":\"fuzz-app-secret\",\"refresh_token\":\"r0\"},"
    "  \"kannel\":{\"sendsms_url\":\"http://127.0.0.1:13013/cgi-bin/sendsms\",\"username\":\"u\","
    "              \"password\":\"p\",\"from\":\"1022\",\"webhook_token\":\"fuzz-token\"},"
    "  \"twilio\":{\"account_sid\":\"AC0123456789abcdef0123456789abcdef\",\"auth_token\":\"fuzz-auth\","
    "              \"from\":\"+15005550006\"},"
    "  \"esms\":{\"api_key\":\"k\",\"secret_key\":\"s\",\"brandname\":\"HOTLINE\"}}}";

static hl_config fuzz_cfg;
static int fuzz_cfg_ready;

static const hl_config *fuzz_config(void)
{
    if (!fuzz_cfg_ready) {
        char err[256];
        log_set_level(LOG_ERROR);
        if (config_load_text(&fuzz_cfg, fuzz_config_json, strlen(fuzz_config_json), err,
                             sizeof err) != 0) {
            fprintf(stderr, "fuzz config: %s\n", err);
            abort();
        }
        fuzz_cfg_ready = 1;
    }
    return &fuzz_cfg;
}

typedef struct fuzz_req {
    adapter_http_in in;
    char *query, *hdr, *body;   /* malloc'd copies (exact sizes, so ASan sees overreads) */
    size_t body_len;
    const char *content_type;
    const char *sig_name;       /* the header hdr answers to */
    char sig[128];              /* computed signature when "sign it" */
    int sign;
} fuzz_req;

static const char *fuzz_header(const adapter_http_in *in, const char *name)
{
    const fuzz_req *r = in->ctx;
    if (strcasecmp(name, "Content-Type") == 0)
        return r->content_type;
    if (r->sig_name && strcasecmp(name, r->sig_name) == 0)
        return r->sign ? r->sig : r->hdr;
    if (strcasecmp(name, "Host") == 0)
        return "hotline.example.vn";
    return NULL;
}

static char *fuzz_dup(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Splits data into the request; returns -1 when the input is empty. */
static int fuzz_req_init(fuzz_req *r, const uint8_t *data, size_t size, const char *path,
                         const char *sig_name)
{
    memset(r, 0, sizeof *r);
    if (size < 1)
        return -1;
    uint8_t flags = data[0];
    data++;
    size--;
    const uint8_t *nl1 = memchr(data, '\n', size);
    size_t qlen = nl1 ? (size_t)(nl1 - data) : size;
    const uint8_t *rest = nl1 ? nl1 + 1 : data + size;
    size_t rlen = size - (size_t)(rest - data);
    const uint8_t *nl2 = memchr(rest, '\n', rlen);
    size_t hlen = nl2 ? (size_t)(nl2 - rest) : rlen;
    const uint8_t *body = nl2 ? nl2 + 1 : rest + rlen;
    size_t blen = rlen - (size_t)(body - rest);
    r->query = fuzz_dup(data, qlen);
    r->hdr = fuzz_dup(rest, hlen);
    /* NUL-terminated after body_len, as the daemon's http_body() gives it. */
    r->body = fuzz_dup(body, blen);
    r->body_len = blen;
    static const char *const cts[] = {"application/x-www-form-urlencoded", "application/json",
                                      "text/plain; charset=UTF-16BE", NULL};
    r->content_type = cts[(flags >> 1) & 3];
    r->sign = (flags >> 3) & 1;
    r->sig_name = sig_name;
    r->in.method = flags & 1 ? "POST" : "GET";
    r->in.path = path;
    r->in.query = qlen ? r->query : NULL;
    r->in.body = r->body;
    r->in.body_len = blen;
    r->in.remote_addr = "127.0.0.1";
    r->in.header = fuzz_header;
    r->in.ctx = r;
    return 0;
}

static void fuzz_req_free(fuzz_req *r)
{
    free(r->query);
    free(r->hdr);
    free(r->body);
}

/* Runs parse_inbound and parse_dlr of one adapter and checks the contract:
 * 0 with n events in range and a 2xx, or -1 with a 4xx/5xx and a reason. */
static void fuzz_check_parse(const adapter *ad, const fuzz_req *r)
{
    const hl_config *cfg = fuzz_config();
    adapter_parse p;
    if (ad->parse_inbound) {
        memset(&p, 0, sizeof p);
        int rc = ad->parse_inbound(cfg, &r->in, &p);
        if (rc == 0) {
            if (p.n > ADAPTER_MAX_EVENTS || p.status < 200 || p.status > 299)
                abort();
            for (size_t i = 0; i < p.n; i++)
                if (strlen(p.ev[i].address) >= sizeof p.ev[i].address)
                    abort();
        } else if (rc != -1 || p.status < 400 || p.status > 599 || !p.error[0]) {
            abort();
        }
        adapter_parse_clear(&p);
    }
    if (ad->parse_dlr) {
        adapter_dlr dlr;
        memset(&p, 0, sizeof p);
        int rc = ad->parse_dlr(cfg, &r->in, &dlr, &p);
        if (rc == 0 ? (p.status < 200 || p.status > 299)
                    : (rc != -1 || p.status < 400 || p.status > 599))
            abort();
        adapter_parse_clear(&p);
    }
}

#endif
