/* map.c - a string -> uint32 hash table for the lexicon and the index.
 *
 * Open addressing with linear probing over a power-of-two table kept at most
 * half full.  Keys are FNV-1a hashed.  Lookups are the hot path of matching
 * (one per syllable and bigram of a message) and of building an index (four
 * per syllable of every entry), so a slot holds the key's hash and where its
 * record is: a probe reads one array, and only a slot whose hash agrees
 * sends it to the record (value, length, key) -- one more cache line. */
#include <stdlib.h>
#include <string.h>

#include "knowledge/kb_internal.h"

uint64_t kb_hash_more(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

uint64_t kb_hash(const char *s, size_t n)
{
    return kb_hash_more(KB_HASH_INIT, s, n);
}

void kb_map_init(kb_map *m)
{
    memset(m, 0, sizeof *m);
}

void kb_map_free(kb_map *m)
{
    if (!m)
        return;
    free(m->arena);
    free(m->offs);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

#define LEN_UNKNOWN 0xFFFF   /* key too long for the length field */
#define REC_HEAD 6           /* uint32 value, uint16 length */

#define SLOT(h, off) ((uint64_t)(uint32_t)(h) << 32 | (uint64_t)(uint32_t)(off))
#define SLOT_OFF(s) ((uint32_t)(s))
#define SLOT_HASH(s) ((uint32_t)((s) >> 32))

static inline int rec_eq(const char *r, const char *key, size_t klen)
{
    uint16_t n;
    memcpy(&n, r + 4, sizeof n);
    const char *k = r + REC_HEAD;
    if (n == LEN_UNKNOWN)
        return klen >= LEN_UNKNOWN && strncmp(k, key, klen) == 0 && k[klen] == '\0';
    if (n != klen)
        return 0;
    for (size_t i = 0; i < klen; i++)   /* short keys: no call */
        if (k[i] != key[i])
            return 0;
    return 1;
}

const char *kb_map_key(const kb_map *m, size_t i)
{
    return m->arena + m->offs[i] + REC_HEAD;
}

/* The slot holding key, or the empty slot where it would go. */
static inline size_t find(const kb_map *m, const char *key, size_t klen, uint64_t h)
{
    size_t mask = m->nslots - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint64_t s = m->slots[i];
        if (s == 0 || (SLOT_HASH(s) == (uint32_t)h && rec_eq(m->arena + SLOT_OFF(s), key, klen)))
            return i;
    }
}

int kb_map_get(const kb_map *m, const char *key, size_t klen, uint32_t *val)
{
    return kb_map_get_hashed(m, key, klen, kb_hash(key, klen), val);
}

int kb_map_get_hashed(const kb_map *m, const char *key, size_t klen, uint64_t h, uint32_t *val)
{
    if (m->nslots == 0)
        return 0;
    uint64_t s = m->slots[find(m, key, klen, h)];
    if (s == 0)
        return 0;
    if (val)
        memcpy(val, m->arena + SLOT_OFF(s), sizeof *val);
    return 1;
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

int kb_map_put(kb_map *m, const char *key, size_t klen, uint32_t val)
{
    if ((m->n + 1) * 2 > m->nslots && grow(m) < 0)
        return -1;
    uint64_t h = kb_hash(key, klen);
    size_t i = find(m, key, klen, h);
    if (m->slots[i]) {
        memcpy(m->arena + SLOT_OFF(m->slots[i]), &val, sizeof val);
        return 0;
    }
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 32;
        uint32_t *offs = realloc(m->offs, nc * sizeof *offs);
        if (!offs)
            return -1;
        m->offs = offs;
        m->cap = nc;
    }
    /* records are 4-aligned; offset 0 is never used, so a slot is never 0 */
    size_t off = m->arena_len ? m->arena_len : 4;
    size_t need = off + ((REC_HEAD + klen + 1 + 3) & ~(size_t)3);
    if (need > UINT32_MAX)
        return -1;
    if (need > m->arena_cap) {
        size_t nc = m->arena_cap ? m->arena_cap : 4096;
        while (nc < need)
            nc *= 2;
        char *a = realloc(m->arena, nc);
        if (!a)
            return -1;
        m->arena = a;
        m->arena_cap = nc;
    }
    char *r = m->arena + off;
    uint16_t len16 = klen < LEN_UNKNOWN ? (uint16_t)klen : LEN_UNKNOWN;
    memcpy(r, &val, sizeof val);
    memcpy(r + 4, &len16, sizeof len16);
    memcpy(r + REC_HEAD, key, klen);
    r[REC_HEAD + klen] = '\0';
    m->arena_len = need;
    m->offs[m->n++] = (uint32_t)off;
    m->slots[i] = SLOT(h, off);
    return 0;
}
