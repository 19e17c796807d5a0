/* fuzz_twilio.c - Twilio SMS webhook and status callback: X-Twilio-Signature
 * (HMAC-SHA1 over the URL and the sorted POST parameters) and the form
 * parser.  With the "sign it" flag the harness signs the form as Twilio
 * would, independently of the adapter's code. */
#include "fuzz_common.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

static int cmp(const void *a, const void *b)
{
    const adapter_field *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static void sign(fuzz_req *r, const char *url)
{
    adapter_form f = {0};
    if (strcmp(r->in.method, "POST") == 0 &&
        adapter_form_parse(&f, r->body, r->body_len) < 0)
        abort();
    if (f.n)
        qsort(f.f, f.n, sizeof *f.f, cmp);
    const char *key = fuzz_config()->twilio.auth_token;
    size_t total = strlen(url) + 1;
    for (size_t i = 0; i < f.n; i++)
        total += strlen(f.f[i].name) + strlen(f.f[i].value);
    char *msg = malloc(total), *o = msg;
    if (!msg)
        abort();
    o = stpcpy(o, url);
    for (size_t i = 0; i < f.n; i++) {
        o = stpcpy(o, f.f[i].name);
        o = stpcpy(o, f.f[i].value);
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha1(), key, (int)strlen(key), (const unsigned char *)msg, (size_t)(o - msg), md,
              &len))
        abort();
    free(msg);
    EVP_EncodeBlock((unsigned char *)r->sig, md, (int)len);
    adapter_form_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_req r;
    if (fuzz_req_init(&r, data, size, "/webhook/twilio", "X-Twilio-Signature") != 0)
        return 0;
    /* Signed for the message webhook; the status callback (a different
     * URL) then sees a wrong signature, which is also worth running. */
    if (r.sign)
        sign(&r, "https://hotline.example.vn/webhook/twilio");
    fuzz_check_parse(&adapter_twilio, &r);
    fuzz_req_free(&r);
    return 0;
}
