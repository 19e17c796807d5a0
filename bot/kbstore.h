/* kbstore.h - the knowledge base in the database, and the bridge to knowledge/.
 *
 * The database is the source of truth once the daemon has started: the corpus
 * file is imported only into an empty knowledge base, and the lexicon file
 * only seeds an empty lexicon row. */
#ifndef HOTLINE_KBSTORE_H
#define HOTLINE_KBSTORE_H

#include <stddef.h>
#include "bot/store.h"
#include "knowledge/kb.h"

/* Upserts every entry of c by id (variants and keywords replaced).  Runs in
 * its own transaction unless one is open.  0 / -1 with err. */
int kbstore_import(store *s, const kb_corpus *c, char *err, size_t errlen);
/* Upserts or deletes one entry (inside the caller's transaction or alone). */
int kbstore_put_entry(store *s, const kb_entry *e);
int kbstore_delete_entry(store *s, const char *id);   /* 0, 1 when absent, -1 */
long long kbstore_count(store *s);

/* All entries (enabled or not), in corpus order.  NULL on error. */
kb_corpus *kbstore_load_corpus(store *s);

/* The lexicon document (malloc'd JSON text) or NULL when none is stored. */
char *kbstore_lexicon_get(store *s);
int kbstore_lexicon_set(store *s, const char *doc);

/* First start: imports corpus_path when the knowledge base is empty and
 * seeds the lexicon from lexicon_path when none is stored.  0 / -1. */
int kbstore_seed(store *s, const char *corpus_path, const char *lexicon_path, char *err,
                 size_t errlen);

/* Builds a matcher from what the database holds.  NULL with err on error. */
kb *kbstore_build(store *s, char *err, size_t errlen);

/* For CLI commands given --config: opens the configured database, seeds it
 * if empty, builds the matcher and fills params from the settings.  */
kb *kbstore_load(const char *config_path, kb_params *params, char *err, size_t errlen);

#endif
