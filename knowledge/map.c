/* map.c - a string -> uint32 hash table for the lexicon and the index.
 *
 * Open addressing with linear probing over a power-of-two table kept at most
 * half full.  Keys are FNV-1a hashed.  Lookups are the hot path of matching
 * (one per syllable and bigram of a message), so a slot holds the key number
 * and the key's hash together: a probe reads one array, and only a slot
 * whose hash agrees sends it to the key itself (length first, then bytes). */
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
    free(m->vals);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

#define LEN_UNKNOWN 0xFFFF   /* key too long for its length prefix */

static size_t key_len(const char *k)
{
    uint16_t n;
    memcpy(&n, k - sizeof n, sizeof n);
    return n == LEN_UNKNOWN ? strlen(k) : n;
}

static int key_eq(const char *k, const char *key, size_t klen)
{
    return key_len(k) == klen && memcmp(k, key, klen) == 0;
}

#define SLOT(h, k) ((uint64_t)(uint32_t)(h) << 32 | (uint64_t)((k) + 1))
#define SLOT_KEY(s) ((uint32_t)(s) - 1)
#define SLOT_HASH(s) ((uint32_t)((s) >> 32))

int kb_map_get(const kb_map *m, const char *key, size_t klen, uint32_t *val)
{
    if (m->nslots == 0)
        return 0;
    size_t mask = m->nslots - 1;
    uint64_t h = kb_hash(key, klen);
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint64_t s = m->slots[i];
        if (s == 0)
            return 0;
        if (SLOT_HASH(s) == (uint32_t)h && key_eq(m->keys[SLOT_KEY(s)], key, klen)) {
            if (val)
                *val = m->vals[SLOT_KEY(s)];
            return 1;
        }
    }
}

/* Rehashes into a table twice as big (or 64 slots). */
static int grow(kb_map *m)
{
    size_t ns = m->nslots ? m->nslots * 2 : 64;
    uint64_t *slots = calloc(ns, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t k = 0; k < m->nslots; k++) {
        uint64_t s = m->slots[k];
        if (!s)
            continue;
        size_t i = (size_t)SLOT_HASH(s) & (ns - 1);
        while (slots[i])
            i = (i + 1) & (ns - 1);
        slots[i] = s;
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
        uint64_t s = m->slots[i];
        if (SLOT_HASH(s) == (uint32_t)h && key_eq(m->keys[SLOT_KEY(s)], key, klen)) {
            m->vals[SLOT_KEY(s)] = val;
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
        m->cap = nc;
    }
    uint16_t len16 = klen < LEN_UNKNOWN ? (uint16_t)klen : LEN_UNKNOWN;
    char *k = key_alloc(m, sizeof len16 + klen + 1);
    if (!k)
        return -1;
    memcpy(k, &len16, sizeof len16);
    k += sizeof len16;
    memcpy(k, key, klen);
    k[klen] = '\0';
    m->keys[m->n] = k;
    m->vals[m->n] = val;
    m->slots[i] = SLOT(h, m->n);
    m->n++;
    return 0;
}
