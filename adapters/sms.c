/* sms.c - SMS rendering shared by every SMS channel: GSM 03.38 detection,
 * segment counting, Vietnamese unaccenting and the policy that picks the
 * text to send (whole, unaccented, or cut at a word boundary). */
#include "adapters/adapter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

/* ---- GSM 03.38 ---------------------------------------------------------- */

/* Cost in septets of code point c in the GSM 7-bit alphabet: 1 for the
 * default table, 2 for the extension table (escape + char), 0 when the
 * character cannot be sent as GSM-7 at all. */
static int gsm7_cost(int32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return 1;
    if (c >= 'a' && c <= 'z')
        return 1;
    if (c >= '0' && c <= '9')
        return 1;
    switch (c) {
    /* default table, ASCII part: everything printable except ` and the
     * characters that moved to the extension table */
    case '\n': case '\r': case ' ': case '!': case '"': case '#': case '$':
    case '%': case '&': case '\'': case '(': case ')': case '*': case '+':
    case ',': case '-': case '.': case '/': case ':': case ';': case '<':
    case '=': case '>': case '?': case '@': case '_':
        return 1;
    /* default table, beyond ASCII */
    case 0x00A3: /* £ */ case 0x00A5: /* ¥ */ case 0x00E8: /* è */
    case 0x00E9: /* é */ case 0x00F9: /* ù */ case 0x00EC: /* ì */
    case 0x00F2: /* ò */ case 0x00C7: /* Ç */ case 0x00D8: /* Ø */
    case 0x00F8: /* ø */ case 0x00C5: /* Å */ case 0x00E5: /* å */
    case 0x0394: /* Δ */ case 0x03A6: /* Φ */ case 0x0393: /* Γ */
    case 0x039B: /* Λ */ case 0x03A9: /* Ω */ case 0x03A0: /* Π */
    case 0x03A8: /* Ψ */ case 0x03A3: /* Σ */ case 0x0398: /* Θ */
    case 0x039E: /* Ξ */ case 0x00C6: /* Æ */ case 0x00E6: /* æ */
    case 0x00DF: /* ß */ case 0x00C9: /* É */ case 0x00A4: /* ¤ */
    case 0x00A1: /* ¡ */ case 0x00C4: /* Ä */ case 0x00D6: /* Ö */
    case 0x00D1: /* Ñ */ case 0x00DC: /* Ü */ case 0x00A7: /* § */
    case 0x00BF: /* ¿ */ case 0x00E4: /* ä */ case 0x00F6: /* ö */
    case 0x00F1: /* ñ */ case 0x00FC: /* ü */ case 0x00E0: /* à */
        return 1;
    /* extension table: sent as ESC + char */
    case '\f': case '^': case '{': case '}': case '\\': case '[': case ']':
    case '~': case '|': case 0x20AC: /* € */
        return 2;
    default:
        return 0;
    }
}

/* Decodes one code point at s[*i] (advancing *i); invalid bytes come back
 * as -1 and advance by one. */
static int32_t next_cp(const char *s, size_t len, size_t *i)
{
    int32_t c;
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s + *i,
                                          (utf8proc_ssize_t)(len - *i), &c);
    if (n <= 0) {
        (*i)++;
        return -1;
    }
    *i += (size_t)n;
    return c;
}

int sms_is_gsm7(const char *utf8)
{
    if (!utf8)
        return 1;
    size_t len = strlen(utf8), i = 0;
    while (i < len)
        if (gsm7_cost(next_cp(utf8, len, &i)) == 0)
            return 0;
    return 1;
}

/* Greedy packing into parts: a unit of cost w never straddles two parts
 * (an escape pair or a surrogate pair stays whole, as phones require). */
static int pack(const int *costs, size_t n, int single, int multi)
{
    long total = 0;
    for (size_t i = 0; i < n; i++)
        total += costs[i];
    if (total <= single)
        return 1;
    int parts = 1, used = 0;
    for (size_t i = 0; i < n; i++) {
        if (used + costs[i] > multi) {
            parts++;
            used = 0;
        }
        used += costs[i];
    }
    return parts;
}

/* Cost of each code point of s for the chosen coding: septets for GSM-7,
 * UTF-16 code units for UCS-2 (an astral character such as an emoji is a
 * surrogate pair: two units).  malloc'd array of *n entries. */
static int *cp_costs(const char *s, int gsm, size_t *n)
{
    size_t len = strlen(s), i = 0, k = 0;
    int *costs = malloc((len + 1) * sizeof *costs);
    if (!costs)
        return NULL;
    while (i < len) {
        int32_t c = next_cp(s, len, &i);
        costs[k++] = gsm ? gsm7_cost(c) : (c > 0xFFFF ? 2 : 1);
    }
    *n = k;
    return costs;
}

/* Empty text is still one SMS. */
int sms_segments(const char *utf8, int *coding)
{
    if (!utf8)
        utf8 = "";
    int gsm = sms_is_gsm7(utf8);
    if (coding)
        *coding = gsm ? 0 : 2;
    size_t n = 0;
    int *costs = cp_costs(utf8, gsm, &n);
    if (!costs)
        return -1;
    int parts = gsm ? pack(costs, n, 160, 153) : pack(costs, n, 70, 67);
    free(costs);
    return parts;
}

/* ---- unaccenting -------------------------------------------------------- */

/* Replaces bytes that are not valid UTF-8 with U+FFFD so utf8proc accepts
 * the text (a citizen's message or an import may hold anything).  malloc'd. */
static char *sanitize_utf8(const char *s)
{
    size_t len = strlen(s), i = 0, o = 0;
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    while (i < len) {
        size_t start = i;
        int32_t c = next_cp(s, len, &i);
        if (c < 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
        } else {
            memcpy(out + o, s + start, i - start);
            o += i - start;
        }
    }
    out[o] = '\0';
    return out;
}

/* NFD, drop combining marks, recompose what is left (NFC), then đ/Đ by hand:
 * they are letters of their own (U+0111/U+0110), not d plus a mark, so no
 * normalisation form takes them apart. */
char *sms_unaccent(const char *utf8)
{
    if (!utf8)
        utf8 = "";
    char *clean = sanitize_utf8(utf8);
    if (!clean)
        return NULL;
    utf8proc_uint8_t *mapped = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)clean, 0, &mapped,
                                      UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                          UTF8PROC_STRIPMARK);
    free(clean);
    if (n < 0)
        return NULL;
    /* đ and Đ are two bytes in UTF-8 and 'd'/'D' one: rewrite in place. */
    char *s = (char *)mapped;
    size_t o = 0;
    for (size_t i = 0; s[i];) {
        if ((unsigned char)s[i] == 0xC4 && ((unsigned char)s[i + 1] == 0x91 ||
                                            (unsigned char)s[i + 1] == 0x90)) {
            s[o++] = (unsigned char)s[i + 1] == 0x91 ? 'd' : 'D';
            i += 2;
        } else {
            s[o++] = s[i++];
        }
    }
    s[o] = '\0';
    return s;
}

/* Typography that word processors put in answers and that GSM-7 lacks:
 * after unaccenting, these alone would keep a message in UCS-2. */
static const struct { const char *from, *to; } gsm_folds[] = {
    { "\xE2\x80\x98", "'" },  { "\xE2\x80\x99", "'" },  /* ‘ ’ */
    { "\xE2\x80\x9C", "\"" }, { "\xE2\x80\x9D", "\"" }, /* “ ” */
    { "\xE2\x80\x93", "-" },  { "\xE2\x80\x94", "-" },  /* – — */
    { "\xE2\x80\xA6", "..." },                          /* … */
    { "\xC2\xA0", " " },                                /* no-break space */
    { "\xE2\x80\xA2", "-" },                            /* • */
    { "\xC2\xAB", "\"" },     { "\xC2\xBB", "\"" },     /* « » */
    { "\t", " " },
};

/* malloc'd copy of s with gsm_folds applied. */
static char *gsm_fold(const char *s)
{
    size_t len = strlen(s);
    char *out = malloc(len * 3 + 1);     /* "…" (3 bytes) -> "..." never grows */
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        /* Every fold starts with one of these three bytes; after unaccenting
         * nearly every byte is plain ASCII and is copied at once. */
        unsigned char c = (unsigned char)s[i];
        if (c != 0xE2 && c != 0xC2 && c != '\t') {
            out[o++] = s[i++];
            continue;
        }
        size_t k, nf = sizeof gsm_folds / sizeof gsm_folds[0];
        for (k = 0; k < nf; k++) {
            size_t fl = strlen(gsm_folds[k].from);
            if (strncmp(s + i, gsm_folds[k].from, fl) == 0) {
                size_t tl = strlen(gsm_folds[k].to);
                memcpy(out + o, gsm_folds[k].to, tl);
                o += tl;
                i += fl;
                break;
            }
        }
        if (k == nf)
            out[o++] = s[i++];
    }
    out[o] = '\0';
    return out;
}

static char *unaccent_for_sms(const char *text)
{
    char *u = sms_unaccent(text);
    if (!u)
        return NULL;
    char *f = gsm_fold(u);
    free(u);
    return f;
}

/* ---- rendering ---------------------------------------------------------- */

static int is_ws(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* prefix (trimmed of trailing blanks and dangling punctuation) + suffix. */
static char *join_cut(const char *text, size_t cut, const char *suffix)
{
    while (cut > 0 && (is_ws(text[cut - 1]) || strchr(",;:-(", text[cut - 1])))
        cut--;
    char *out = NULL;
    if (asprintf(&out, "%.*s%s", (int)cut, text, suffix) < 0)
        return NULL;
    return out;
}

/* The longest prefix of text ending at a word boundary such that prefix +
 * suffix fits in max_segments; a hard cut at a character boundary when even
 * the first word is too long.  malloc'd. */
static char *cut_to_fit(const char *text, int max_segments, const char *suffix)
{
    size_t len = strlen(text);
    char *best = NULL;
    /* Fitting is monotonic in the prefix length: scan the boundaries in
     * order and stop at the first that no longer fits. */
    for (size_t i = 1; i <= len; i++) {
        if (i < len && !(is_ws(text[i]) && !is_ws(text[i - 1])))
            continue;
        char *cand = join_cut(text, i, suffix);
        if (!cand)
            break;
        if (sms_segments(cand, NULL) > max_segments) {
            free(cand);
            break;
        }
        free(best);
        best = cand;
    }
    if (best)
        return best;
    /* No word boundary fits: cut inside the first word, code point by code point. */
    size_t i = 0, good = 0;
    while (i < len) {
        next_cp(text, len, &i);
        char *cand = join_cut(text, i, suffix);
        if (!cand)
            break;
        int fits = sms_segments(cand, NULL) <= max_segments;
        free(cand);
        if (!fits)
            break;
        good = i;
    }
    return join_cut(text, good, suffix);
}

/* policy NULL/"" means auto.  In auto the accented text wins ties: it is
 * the better read, and unaccenting only pays when it saves parts. */
char *sms_render(const char *text, const char *policy, int max_segments, const char *hotline,
                 int *coding, int *segments)
{
    if (!text)
        text = "";
    int always = policy && strcmp(policy, "always") == 0;
    int never = policy && strcmp(policy, "never") == 0;
    char *chosen = NULL;
    if (never) {
        chosen = strdup(text);
    } else {
        char *plain = unaccent_for_sms(text);
        if (!plain)
            return NULL;
        if (always || sms_segments(plain, NULL) < sms_segments(text, NULL)) {
            chosen = plain;
        } else {
            free(plain);
            chosen = strdup(text);
        }
    }
    if (!chosen)
        return NULL;

    int coding_now = 0;
    int segs = sms_segments(chosen, &coding_now);
    if (max_segments > 0 && segs > max_segments) {
        /* In UCS-2 the pointer may keep its accents; in GSM-7 it must not
         * bring UCS-2 back. */
        char suffix[96];
        if (adapter_isset(hotline))
            snprintf(suffix, sizeof suffix, coding_now == 2 ? " \xE2\x80\xA6 Chi ti\xE1\xBA\xBFt: g\xE1\xBB\x8Di %s"
                                                            : " ... Chi tiet: goi %s",
                     hotline);
        else
            snprintf(suffix, sizeof suffix, "%s", coding_now == 2 ? " \xE2\x80\xA6" : " ...");
        char *cut = cut_to_fit(chosen, max_segments, suffix);
        free(chosen);
        if (!cut)
            return NULL;
        chosen = cut;
        segs = sms_segments(chosen, &coding_now);
    }
    if (coding)
        *coding = coding_now;
    if (segments)
        *segments = segs;
    return chosen;
}
