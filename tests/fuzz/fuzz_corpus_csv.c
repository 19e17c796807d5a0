/* fuzz_corpus_csv.c - the CSV importer (question,answer[,keywords]). */
#include "knowledge/kb.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    kb_corpus *c = kb_corpus_new();
    if (!c)
        return 0;
    if (kb_corpus_from_csv(c, (const char *)data, size, err, sizeof err) == 0) {
        kb *k = kb_build(c, NULL);
        if (k) {
            kb_params p = kb_params_default();
            kb_result r;
            kb_match(k, "tiem vac xin o dau", &p, &r);
        }
        kb_free(k);
    }
    kb_corpus_free(c);
    return 0;
}
