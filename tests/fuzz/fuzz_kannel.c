/* fuzz_kannel.c - Kannel MO webhook and delivery reports (query, form or raw
 * body in UTF-8, UTF-16BE or Latin-1).  With the "sign it" flag the right
 * token is appended to the query so the fuzzer gets past the check. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_req r;
    if (fuzz_req_init(&r, data, size, "/webhook/kannel", NULL) != 0)
        return 0;
    char *q = NULL;
    if (r.sign) {
        size_t n = strlen(r.query) + 32;
        q = malloc(n);
        if (!q)
            abort();
        snprintf(q, n, "%s&token=fuzz-token", r.query);
        r.in.query = q;
    }
    fuzz_check_parse(&adapter_kannel, &r);
    free(q);
    fuzz_req_free(&r);
    return 0;
}
