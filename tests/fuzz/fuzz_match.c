/* fuzz_match.c - the tokeniser and matcher: kb_match of arbitrary text
 * against a kb built once from the sample corpus and lexicon. */
#include "fuzz_common.h"
#include "knowledge/kb.h"

static kb *k;
static kb_corpus *c;      /* kept (reachable) for the whole run */
static kb_lexicon *lex;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    c = kb_corpus_new();
    lex = kb_lexicon_load_file(FUZZ_ROOT "/knowledge/data/lexicon.json", err, sizeof err);
    if (!c || !lex || kb_corpus_load_file(c, FUZZ_ROOT "/knowledge/data/faq.json", err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_match: %s\n", err);
        abort();
    }
    k = kb_build(c, lex);
    if (!k)
        abort();
    /* The kb may keep pointers into the corpus and lexicon: keep them. */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_dup(data, size);
    kb_params p = kb_params_default();
    kb_result r;
    int rc = kb_match(k, s, &p, &r);
    if (rc != 0 && rc != -1)
        abort();
    if (r.n_cand > KB_TOP || r.confidence < 0 || r.confidence > 1)
        abort();
    if (r.action == KB_ANSWER && r.n_cand == 0)
        abort();
    free(s);
    return 0;
}
