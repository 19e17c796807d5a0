/* map.c - a string -> uint32 hash table for the lexicon and the index.
 *
 * Open addressing with linear probing over a power-of-two table kept at most
 * half full.  Keys are FNV-1a hashed.  Lookups are the hot path of matching
 * (one per syllable and bigram of a message), so the table stores only key
 * numbers and compares the hash-selected key directly. */
#include <stdlib.h>
#include <string.h>

#include "knowledge/kb_internal.h"

uint64_t kb_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

void kb_map_init(kb_map *m)
{
    memset(m, 0, sizeof *m);
}

void kb_map_free(kb_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nchunks; i++)
        free(m->chunks[i]);
    free(m->chunks);
    free(m->keys);
    free(m->hashes);
    free(m->vals);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static int key_eq(const char *k, const char *key, size_t klen)
{
    return strncmp(k, key, klen) == 0 && k[klen] == '\0';
}

int kb_map_get(const kb_map *m, const char *key, size_t klen, uint32_t *val)
{
    if (m->nslots == 0)
        return 0;
    size_t mask = m->nslots - 1;
    uint64_t h = kb_hash(key, klen);
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint32_t s = m->slots[i];
        if (s == 0)
            return 0;
        if (m->hashes[s - 1] == (uint32_t)h && key_eq(m->keys[s - 1], key, klen)) {
            if (val)
                *val = m->vals[s - 1];
            return 1;
        }
    }
}

/* Rehashes into a table twice as big (or 64 slots). */
static int grow(kb_map *m)
{
    size_t ns = m->nslots ? m->nslots * 2 : 64;
    uint32_t *slots = calloc(ns, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t k = 0; k < m->n; k++) {
        size_t i = (size_t)m->hashes[k] & (ns - 1);
        while (slots[i])
            i = (i + 1) & (ns - 1);
        slots[i] = (uint32_t)(k + 1);
    }
    free(m->slots);
    m->slots = slots;
    m->nslots = ns;
    return 0;
}

/* Room for a key of n bytes in the current chunk (a new chunk when full):
 * a large index has hundreds of thousands of short keys. */
static char *key_alloc(kb_map *m, size_t n)
{
    if (m->nchunks == 0 || m->chunk_used + n > m->chunk_cap) {
        size_t cap = n > 65536 ? n : 65536;
        char **v = realloc(m->chunks, (m->nchunks + 1) * sizeof *v);
        if (!v)
            return NULL;
        m->chunks = v;
        if (!(m->chunks[m->nchunks] = malloc(cap)))
            return NULL;
        m->nchunks++;
        m->chunk_used = 0;
        m->chunk_cap = cap;
    }
    char *p = m->chunks[m->nchunks - 1] + m->chunk_used;
    m->chunk_used += n;
    return p;
}

int kb_map_put(kb_map *m, const char *key, size_t klen, uint32_t val)
{
    if ((m->n + 1) * 2 > m->nslots && grow(m) < 0)
        return -1;
    size_t mask = m->nslots - 1;
    uint64_t h = kb_hash(key, klen);
    size_t i = (size_t)h & mask;
    for (; m->slots[i]; i = (i + 1) & mask) {
        uint32_t s = m->slots[i];
        if (key_eq(m->keys[s - 1], key, klen)) {
            m->vals[s - 1] = val;
            return 0;
        }
    }
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 32;
        char **keys = realloc(m->keys, nc * sizeof *keys);
        if (!keys)
            return -1;
        m->keys = keys;
        uint32_t *vals = realloc(m->vals, nc * sizeof *vals);
        if (!vals)
            return -1;
        m->vals = vals;
        uint32_t *hs = realloc(m->hashes, nc * sizeof *hs);
        if (!hs)
            return -1;
        m->hashes = hs;
        m->cap = nc;
    }
    char *k = key_alloc(m, klen + 1);
    if (!k)
        return -1;
    memcpy(k, key, klen);
    k[klen] = '\0';
    m->keys[m->n] = k;
    m->hashes[m->n] = (uint32_t)h;
    m->vals[m->n] = val;
    m->slots[i] = (uint32_t)(m->n + 1);
    m->n++;
    return 0;
}
