/* fuzz_esms.c - eSMS.vn delivery callback (query or form), and the answer
 * parser for its send API (interpret). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_req r;
    if (fuzz_req_init(&r, data, size, "/webhook/esms/dlr", NULL) != 0)
        return 0;
    fuzz_check_parse(&adapter_esms, &r);
    /* The provider's answers are hostile input too. */
    const adapter *const *all = adapter_all();
    for (size_t i = 0; all[i]; i++) {
        adapter_result res;
        memset(&res, 0, sizeof res);
        all[i]->interpret(fuzz_config(), 200 + (data[0] & 0x7f) * 3, r.body, r.body_len, 0, &res);
        if (all[i]->parse_refresh) {
            adapter_token tok;
            char err[160];
            all[i]->parse_refresh(fuzz_config(), 200, r.body, r.body_len, &tok, err, sizeof err);
        }
    }
    fuzz_req_free(&r);
    return 0;
}
