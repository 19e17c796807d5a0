/* fuzz_corpus_json.c - the faq.json importer, and the export of whatever
 * it accepted (which must parse again to the same number of entries). */
#include "knowledge/kb.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    kb_corpus *c = kb_corpus_new();
    if (!c)
        return 0;
    if (kb_corpus_from_json(c, (const char *)data, size, err, sizeof err) == 0) {
        char *json = kb_corpus_to_json(c);
        if (json) {
            kb_corpus *c2 = kb_corpus_new();
            if (kb_corpus_from_json(c2, json, strlen(json), err, sizeof err) != 0 || c2->n != c->n)
                abort();
            kb_corpus_free(c2);
            free(json);
        }
        kb *k = kb_build(c, NULL);
        kb_free(k);
    }
    kb_corpus_free(c);
    return 0;
}
