/* fuzz_fold.c - the normaliser and its neighbours on arbitrary bytes:
 * kb_fold (case, marks, spacing), kb_unaccent, and the SMS renderer
 * (GSM-7 detection, segment count, unaccent, clean cut). */
#include "fuzz_common.h"
#include "knowledge/kb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_dup(data, size);   /* stops at the first NUL, like every C caller */
    char *f = kb_fold(s);
    if (f) {
        /* Folding is idempotent. */
        char *ff = kb_fold(f);
        if (!ff || strcmp(f, ff) != 0)
            abort();
        free(ff);
    }
    free(f);
    free(kb_unaccent(s));
    int coding = 0, segments = 0;
    static const char *const policies[] = {"auto", "always", "never"};
    char *sms = sms_render(s, policies[size % 3], 1 + (int)(size % 4), "1022", &coding, &segments);
    if (sms && (segments < 0 || segments > 1 + (int)(size % 4)))
        abort();
    free(sms);
    sms_segments(s, &coding);
    free(sms_unaccent(s));
    char *parts[16];
    int np = adapter_split(s, 1 + size % 300, parts, 16);
    for (int i = 0; i < np; i++)
        free(parts[i]);
    free(s);
    return 0;
}
