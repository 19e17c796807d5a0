/* fuzz_lexicon.c - the lexicon loader, and a kb built with what it accepted
 * (synonyms and abbreviations rewrite both the corpus and the message). */
#include "knowledge/kb.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char corpus[] =
    "{\"entries\":[{\"id\":\"vac-xin\",\"question\":\"Tiêm vắc xin ở đâu?\","
    "\"answer\":\"Tại trạm y tế phường.\",\"variants\":[\"chích ngừa ở đâu\"],"
    "\"keywords\":[\"vắc xin\",\"tiêm\"]},"
    "{\"id\":\"cccd\",\"question\":\"Làm căn cước công dân cần giấy tờ gì?\","
    "\"answer\":\"Sổ hộ khẩu.\"}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    kb_lexicon *lex = kb_lexicon_from_json((const char *)data, size, err, sizeof err);
    if (!lex)
        return 0;
    kb_corpus *c = kb_corpus_new();
    if (c && kb_corpus_from_json(c, corpus, strlen(corpus), err, sizeof err) == 0) {
        kb *k = kb_build(c, lex);
        if (k) {
            kb_params p = kb_params_default();
            kb_result r;
            kb_match(k, "ko biet tiem vacxin o dau a", &p, &r);
            kb_match(k, "lam cccd can gi", &p, &r);
        }
        kb_free(k);
    }
    kb_corpus_free(c);
    kb_lexicon_free(lex);
    return 0;
}
