/* text.c - Vietnamese text normalisation and syllable tokens.
 *
 * Citizens' messages arrive in NFC, in NFD, in "Unicode tổ hợp" (a
 * precomposed vowel followed by a combining tone mark), with either tone
 * placement (hoà / hòa, thuỷ / thủy), in ALL CAPS, with emoji, zero-width
 * characters and sometimes invalid bytes.  One utf8proc call decomposes and
 * case-folds everything into NFD; from there each syllable yields
 *
 *   fold   every mark dropped, đ/Đ/ð/Ð -> d        "Được" -> "duoc"
 *   exact  vowel marks and đ kept, the tone moved to the end as "#n", so the
 *          key no longer depends on which vowel the writer put the tone on
 *          ("hoà" and "hòa" -> "hoa#2").
 *
 * The exact key is only a key: it is never shown to anyone. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "knowledge/kb_internal.h"

/* đ has no decomposition, so no mark stripping removes its bar; the Icelandic
 * eth and the African D look the same on a phone screen and are typed for
 * it by some keyboards.  Map them all to đ (exact) before case folding. */
static utf8proc_int32_t to_dstroke(utf8proc_int32_t cp, void *data)
{
    (void)data;
    switch (cp) {
    case 0x0110: case 0x00D0: case 0x00F0: case 0x0189:
        return 0x0111;
    default:
        return cp;
    }
}

/* Same, for the folded form: straight to ASCII d. */
static utf8proc_int32_t to_d(utf8proc_int32_t cp, void *data)
{
    cp = to_dstroke(cp, data);
    return cp == 0x0111 ? 'd' : cp;
}

static int is_word_cat(utf8proc_category_t c)
{
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
           (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
}

static int is_mark_cat(utf8proc_category_t c)
{
    return c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME;
}

/* The five Vietnamese tone marks, as digits in the exact key.  The ones
 * that are not tones (circumflex, breve, horn) stay in the syllable. */
static char tone_digit(utf8proc_int32_t cp)
{
    switch (cp) {
    case 0x0301: return '1';   /* sắc */
    case 0x0300: return '2';   /* huyền */
    case 0x0309: return '3';   /* hỏi */
    case 0x0303: return '4';   /* ngã */
    case 0x0323: return '5';   /* nặng */
    default: return 0;
    }
}

char *kb_fold(const char *text)
{
    if (!text)
        return NULL;
    utf8proc_uint8_t *buf = NULL;
    utf8proc_ssize_t n = utf8proc_map_custom((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)strlen(text),
        &buf, UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK | UTF8PROC_IGNORE,
        to_d, NULL);
    if (n < 0)
        return NULL;
    /* Punctuation, symbols and emoji become single spaces; the result never
     * grows, so it is written in place. */
    utf8proc_ssize_t r = 0, w = 0;
    int space = 1;
    while (r < n) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(buf + r, n - r, &cp);
        if (k <= 0)
            break;
        if (is_word_cat(utf8proc_category(cp))) {
            memmove(buf + w, buf + r, (size_t)k);
            w += k;
            space = 0;
        } else if (!space) {
            buf[w++] = ' ';
            space = 1;
        }
        r += k;
    }
    if (w > 0 && buf[w - 1] == ' ')
        w--;
    buf[w] = '\0';
    return (char *)buf;
}

/* Like to_d, but keeps the case for kb_unaccent. */
static utf8proc_int32_t to_d_cased(utf8proc_int32_t cp, void *data)
{
    (void)data;
    switch (cp) {
    case 0x0110: case 0x00D0: case 0x0189:
        return 'D';
    case 0x0111: case 0x00F0:
        return 'd';
    default:
        return cp;
    }
}

char *kb_unaccent(const char *text)
{
    if (!text)
        return NULL;
    utf8proc_uint8_t *buf = NULL;
    utf8proc_ssize_t n = utf8proc_map_custom((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)strlen(text),
        &buf, UTF8PROC_COMPOSE | UTF8PROC_STRIPMARK, to_d_cased, NULL);
    return n < 0 ? NULL : (char *)buf;
}

void kb_toks_free(kb_toks *t)
{
    if (!t)
        return;
    free(t->v);
    memset(t, 0, sizeof *t);
}

int kb_toks_push(kb_toks *t, const kb_tok *tok)
{
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 32;
        kb_tok *v = realloc(t->v, nc * sizeof *v);
        if (!v)
            return -1;
        t->v = v;
        t->cap = nc;
    }
    t->v[t->n++] = *tok;
    if (tok->marked)
        t->has_marks = 1;
    return 0;
}

/* Appends the UTF-8 bytes of cp to s (length *len, capacity cap) unless that
 * would overflow; a syllable longer than the buffer is cut, which only ever
 * happens to junk. */
static inline void put_cp(char *s, size_t *len, size_t cap, utf8proc_int32_t cp)
{
    if (cp < 0x80) {
        if (*len + 2 > cap)
            return;
        s[(*len)++] = (char)cp;
        s[*len] = '\0';
        return;
    }
    utf8proc_uint8_t b[4];
    utf8proc_ssize_t k = utf8proc_encode_char(cp, b);
    if (k <= 0 || *len + (size_t)k + 1 > cap)
        return;
    memcpy(s + *len, b, (size_t)k);
    *len += (size_t)k;
    s[*len] = '\0';
}

typedef struct tokbuild {
    kb_tok tok;
    size_t flen, elen;
    char tone;
    int open;
    int numfirst, lastdig;   /* the word began with a digit; last char was one */
} tokbuild;

/* Vietnamese writes a final i/y after a consonant either way: "lý"/"lí",
 * "kỳ"/"kì", "mỹ"/"mĩ", "tỷ"/"tỉ" (old and new spelling both in use).  Such a
 * syllable (consonants then a single y) is keyed with i.  "y" alone (y tế)
 * and y after a vowel (tuy, quy, hay) are left alone. */
static void spell_i(kb_tok *k, tokbuild *b)
{
    if (b->flen < 2 || k->fold[b->flen - 1] != 'y')
        return;
    for (size_t i = 0; i + 1 < b->flen; i++)
        if (!strchr("bcdghklmnpqrstvx", k->fold[i]))
            return;
    k->fold[b->flen - 1] = 'i';
    /* In the exact form the y is followed only by the tone (stripped), so it
     * is the last byte written. */
    if (b->elen > 0 && k->exact[b->elen - 1] == 'y')
        k->exact[b->elen - 1] = 'i';
}

static int finish(tokbuild *b, kb_toks *t)
{
    if (!b->open)
        return 0;
    b->open = 0;
    if (b->flen == 0)
        return 0;
    kb_tok *k = &b->tok;
    spell_i(k, b);
    if (k->marked) {
        if (b->tone && b->elen + 3 <= sizeof k->exact) {
            k->exact[b->elen++] = '#';
            k->exact[b->elen++] = b->tone;
            k->exact[b->elen] = '\0';
        }
    } else {
        k->exact[0] = '\0';
    }
    k->flen = (uint8_t)b->flen;
    k->fhash = kb_hash(k->fold, b->flen);
    k->elen = (uint8_t)strlen(k->exact);
    k->number = 1;
    for (size_t i = 0; i < b->flen; i++)
        if (k->fold[i] < '0' || k->fold[i] > '9')
            k->number = 0;
    k->weight = 1.0f;
    return kb_toks_push(t, k);
}

#define KB_CPS_STACK 1024

/* ---- decomposition -------------------------------------------------------
 *
 * kb_tokenize needs the text as NFD + case fold + compatibility + ignorables
 * removed, đ-like letters as đ: utf8proc_decompose_custom() with those
 * options and to_dstroke.  That call looks every code point up in
 * utf8proc's tables, recursing for case folding; messages are written with
 * the same few hundred letters and marks, so their results are kept in a
 * table built once (utf8proc_decompose_char() of each code point below
 * DTAB_N, exactly what utf8proc_decompose_custom() calls), with their
 * combining classes and categories.  Code points above it still go to
 * utf8proc.  Then the marks are put in canonical order as utf8proc does. */
#define DTAB_N 0x2000
#define DTAB_SLOW 0xFF       /* decomposes to more than DTAB_MAX code points */
#define DTAB_MAX 4
#define DOPTS (UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE)

static struct {
    uint16_t off[DTAB_N];    /* into pool */
    uint8_t len[DTAB_N];     /* code points it decomposes to, or DTAB_SLOW */
    uint8_t ccc[DTAB_N];     /* canonical combining class */
    uint8_t cat[DTAB_N];     /* utf8proc category */
    utf8proc_int32_t pool[DTAB_N * 2];
} dtab;
static pthread_once_t dtab_once = PTHREAD_ONCE_INIT;

static void dtab_init(void)
{
    size_t used = 0;
    for (utf8proc_int32_t cp = 0; cp < DTAB_N; cp++) {
        utf8proc_int32_t buf[16];
        int bc = UTF8PROC_BOUNDCLASS_START;
        utf8proc_ssize_t n = utf8proc_decompose_char(to_dstroke(cp, NULL), buf, 16, DOPTS, &bc);
        const utf8proc_property_t *pr = utf8proc_get_property(cp);
        dtab.ccc[cp] = (uint8_t)pr->combining_class;
        dtab.cat[cp] = (uint8_t)pr->category;
        if (n < 0 || n > DTAB_MAX || used + (size_t)n > sizeof dtab.pool / sizeof dtab.pool[0]) {
            dtab.len[cp] = DTAB_SLOW;
            continue;
        }
        dtab.off[cp] = (uint16_t)used;
        dtab.len[cp] = (uint8_t)n;
        memcpy(dtab.pool + used, buf, (size_t)n * sizeof buf[0]);
        used += (size_t)n;
    }
}

static int ccc_of(utf8proc_int32_t cp)
{
    return cp >= 0 && cp < DTAB_N ? dtab.ccc[cp] : utf8proc_get_property(cp)->combining_class;
}

/* Makes room for more code points after the first w of *buf (which is
 * stack while it is still the caller's buffer). */
static int grow_cps(utf8proc_int32_t **buf, utf8proc_int32_t *stack, size_t w, size_t *cap, size_t more)
{
    size_t nc = *cap * 2 + more;
    utf8proc_int32_t *nb = *buf == stack ? malloc(nc * sizeof *nb) : realloc(*buf, nc * sizeof *nb);
    if (!nb)
        return -1;
    if (*buf == stack)
        memcpy(nb, stack, w * sizeof *nb);
    *buf = nb;
    *cap = nc;
    return 0;
}

/* utf8proc_decompose_custom(text, len, ..., DOPTS, to_dstroke) into *cps
 * (stack, cap KB_CPS_STACK; replaced by a malloc'd buffer when longer).
 * Returns the number of code points, or -1 (invalid UTF-8, no memory). */
static utf8proc_ssize_t decompose(const char *text, size_t len, utf8proc_int32_t **cps)
{
    pthread_once(&dtab_once, dtab_init);
    utf8proc_int32_t *buf = *cps;
    size_t cap = KB_CPS_STACK, w = 0;
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)text;
    for (size_t r = 0; r < len;) {
        utf8proc_int32_t cp;
        if (s[r] < 0x80) {
            cp = s[r++];
        } else {
            utf8proc_ssize_t k = utf8proc_iterate(s + r, (utf8proc_ssize_t)(len - r), &cp);
            if (k < 0 || cp < 0)
                goto fail;
            r += (size_t)k;
        }
        if (cp < DTAB_N && dtab.len[cp] != DTAB_SLOW) {
            if (w + DTAB_MAX > cap && grow_cps(&buf, *cps, w, &cap, DTAB_MAX) < 0)
                goto fail;
            const utf8proc_int32_t *d = dtab.pool + dtab.off[cp];
            for (unsigned i = 0; i < dtab.len[cp]; i++)
                buf[w++] = d[i];
            continue;
        }
        for (;;) {
            int bc = UTF8PROC_BOUNDCLASS_START;
            utf8proc_ssize_t n = utf8proc_decompose_char(to_dstroke(cp, NULL), buf + w,
                                                         (utf8proc_ssize_t)(cap - w), DOPTS, &bc);
            if (n < 0)
                goto fail;
            if (w + (size_t)n <= cap) {
                w += (size_t)n;
                break;
            }
            if (grow_cps(&buf, *cps, w, &cap, (size_t)n) < 0)
                goto fail;
        }
    }
    /* canonical ordering, as utf8proc_decompose_custom() does it */
    for (size_t pos = 0; pos + 1 < w;) {
        utf8proc_int32_t a = buf[pos], b = buf[pos + 1];
        if (b < 0x300) {     /* combining class 0: nothing moves */
            pos++;
            continue;
        }
        int ca = ccc_of(a), cb = ccc_of(b);
        if (ca > cb && cb > 0) {
            buf[pos] = b;
            buf[pos + 1] = a;
            if (pos > 0)
                pos--;
            else
                pos++;
        } else {
            pos++;
        }
    }
    *cps = buf;
    return (utf8proc_ssize_t)w;
fail:
    if (buf != *cps)
        free(buf);
    return -1;
}

int kb_tokenize(const char *text, size_t len, kb_toks *t)
{
    if (!text)
        return -1;
    utf8proc_int32_t stack[KB_CPS_STACK], *cps = stack;
    utf8proc_ssize_t n;
    /* Most SMS are plain ASCII: then decomposing is the identity and case
     * folding is tolower, and utf8proc is skipped. */
    size_t i = 0;
    while (i < len && (unsigned char)text[i] < 0x80 && text[i] != '\0')
        i++;
    if (i == len) {
        if (len > KB_CPS_STACK && !(cps = malloc(len * sizeof *cps)))
            return -1;
        for (i = 0; i < len; i++)
            cps[i] = text[i] >= 'A' && text[i] <= 'Z' ? text[i] + 32 : text[i];
        n = (utf8proc_ssize_t)len;
    } else {
        /* Decomposed straight into code points (no re-encoding); a text
         * too long for the stack buffer goes to the heap. */
        n = decompose(text, len, &cps);
        if (n < 0)
            return -1;
    }
    size_t start = t->n;
    int had_marks = t->has_marks;
    tokbuild b;
    memset(&b, 0, sizeof b);
    int rc = 0;
    for (utf8proc_ssize_t r = 0; r < n && rc == 0; r++) {
        utf8proc_int32_t cp = cps[r];
        utf8proc_category_t cat;
        if (cp < 0x80)
            cat = (cp >= 'a' && cp <= 'z') ? UTF8PROC_CATEGORY_LL
                  : (cp >= '0' && cp <= '9') ? UTF8PROC_CATEGORY_ND : UTF8PROC_CATEGORY_PO;
        else if (cp < DTAB_N)
            cat = (utf8proc_category_t)dtab.cat[cp];
        else
            cat = utf8proc_category(cp);
        if (is_word_cat(cat)) {
            int dig = cp >= '0' && cp <= '9';
            /* "76t", "18th", "3mui", "1h30": a number glued to a unit or a
             * word is split there, the letters flagged as a unit so the
             * lexicon can read "t" after a number as "tuổi".  Words that
             * start with a letter ("f0", "covid19", "ct07") stay whole. */
            if (b.open && b.numfirst && dig != b.lastdig) {
                if ((rc = finish(&b, t)) < 0)
                    break;
                memset(&b, 0, sizeof b);
                b.open = 1;
                b.numfirst = 1;
                b.tok.unit = (unsigned char)!dig;
            }
            if (!b.open) {
                memset(&b, 0, sizeof b);
                b.open = 1;
                b.numfirst = dig;
            }
            b.lastdig = dig;
            if (cp == 0x0111) {
                b.tok.marked = 1;
                put_cp(b.tok.fold, &b.flen, KB_TOKLEN, 'd');
            } else {
                put_cp(b.tok.fold, &b.flen, KB_TOKLEN, cp);
            }
            put_cp(b.tok.exact, &b.elen, KB_TOKLEN, cp);
        } else if (is_mark_cat(cat)) {
            if (!b.open)
                continue;          /* a mark on nothing: drop it */
            b.tok.marked = 1;
            char d = tone_digit(cp);
            if (d) {
                if (!b.tone)
                    b.tone = d;
            } else {
                put_cp(b.tok.exact, &b.elen, KB_TOKLEN, cp);
            }
        } else {
            rc = finish(&b, t);
        }
    }
    if (rc == 0)
        rc = finish(&b, t);
    if (cps != stack)
        free(cps);
    if (rc < 0) {
        t->n = start;
        t->has_marks = had_marks;
    }
    return rc;
}
