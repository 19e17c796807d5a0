/* fuzz_zalo.c - Zalo OA webhook: signature check and event parser.  With the
 * "sign it" flag the harness signs the body as Zalo would (SHA-256 of
 * app_id + body + timestamp + OA secret, app_id and timestamp read from the
 * body), so the fuzzer explores the parser behind the check. */
#include "fuzz_common.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>

static void sign(fuzz_req *r)
{
    cJSON *root = cJSON_ParseWithLength(r->body, r->body_len);
    char app_id[64] = "", ts[32] = "";
    if (root) {
        adapter_json_text(r->body, r->body_len, root, app_id, sizeof app_id, "app_id", NULL);
        adapter_json_text(r->body, r->body_len, root, ts, sizeof ts, "timestamp", NULL);
        cJSON_Delete(root);
    }
    const char *secret = fuzz_config()->zalo.oa_secret;
    unsigned char md[32];
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL) ||
        !EVP_DigestUpdate(c, app_id, strlen(app_id)) ||
        !EVP_DigestUpdate(c, r->body, r->body_len) || !EVP_DigestUpdate(c, ts, strlen(ts)) ||
        !EVP_DigestUpdate(c, secret, strlen(secret)) || !EVP_DigestFinal_ex(c, md, NULL))
        abort();
    EVP_MD_CTX_free(c);
    strcpy(r->sig, "mac=");
    for (int i = 0; i < 32; i++)
        snprintf(r->sig + 4 + 2 * i, 3, "%02x", md[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_req r;
    if (fuzz_req_init(&r, data, size, "/webhook/zalo", "X-ZEvent-Signature") != 0)
        return 0;
    if (r.sign)
        sign(&r);
    fuzz_check_parse(&adapter_zalo, &r);
    fuzz_req_free(&r);
    return 0;
}
