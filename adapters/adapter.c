/* adapter.c - the list of channels and the helpers every adapter shares:
 * request/parse cleanup, form decoding, URL encoding, secret comparison,
 * and splitting long replies for channels with a per-message limit. */
#include "adapters/adapter.h"

#include <curl/curl.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

/* ---- the registry ------------------------------------------------------- */

static const adapter *const all_adapters[] = {
    &adapter_zalo, &adapter_kannel, &adapter_twilio, &adapter_esms, NULL,
};

const adapter *const *adapter_all(void)
{
    return all_adapters;
}

const adapter *adapter_by_name(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; all_adapters[i]; i++)
        if (strcmp(all_adapters[i]->name, name) == 0)
            return all_adapters[i];
    return NULL;
}

/* ---- parse / request lifetimes ------------------------------------------ */

/* Frees the texts the parser allocated and zeroes the whole struct, so it
 * can be reused for the next request. */
void adapter_parse_clear(adapter_parse *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < ADAPTER_MAX_EVENTS; i++)
        free(p->ev[i].text);
    memset(p, 0, sizeof *p);
}

void adapter_request_free(adapter_request *r)
{
    if (!r)
        return;
    free(r->url);
    for (size_t i = 0; i < r->n_headers && i < ADAPTER_MAX_HEADERS; i++)
        free(r->headers[i]);
    free(r->body);
    if (r->userpwd) {
        /* It holds a secret: do not leave it in freed memory. */
        OPENSSL_cleanse(r->userpwd, strlen(r->userpwd));
        free(r->userpwd);
    }
    memset(r, 0, sizeof *r);
}

/* Appends one "Name: value" header.  -1 when the table is full or on ENOMEM. */
int adapter_request_header(adapter_request *r, const char *fmt, ...)
{
    if (r->n_headers >= ADAPTER_MAX_HEADERS)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char *h = NULL;
    int n = vasprintf(&h, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    r->headers[r->n_headers++] = h;
    return 0;
}

/* ---- small helpers ------------------------------------------------------ */

int adapter_isset(const char *s)
{
    return s && *s;
}

int adapter_fail(adapter_parse *out, int status, const char *msg)
{
    out->status = status;
    snprintf(out->error, sizeof out->error, "%s", msg);
    return -1;
}

/* Comparing digests rather than the strings themselves keeps the compare
 * constant-time whatever the lengths: an attacker learns neither the secret's
 * length nor how many leading bytes matched. */
int adapter_secret_eq(const char *a, const char *b)
{
    if (!a || !b)
        return 0;
    unsigned char da[SHA256_DIGEST_LENGTH], db[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)a, strlen(a), da);
    SHA256((const unsigned char *)b, strlen(b), db);
    return CRYPTO_memcmp(da, db, sizeof da) == 0;
}

void adapter_no_answer(adapter_result *res, const char *provider)
{
    res->status = AD_RETRY;
    snprintf(res->code, sizeof res->code, "transport");
    snprintf(res->message, sizeof res->message, "no answer from %s", provider);
}

/* libcurl's escaping (RFC 3986: all but ALPHA DIGIT - . _ ~), copied to a
 * malloc'd string so that callers free() it.  evhttp_encode_uri gave the
 * same bytes but formatted each escape with printf: a Vietnamese SMS reply
 * is mostly escapes, and that was 6% of the loop's time under load. */
char *adapter_urlencode(const char *s)
{
    char *e = curl_easy_escape(NULL, s ? s : "", 0);
    if (!e)
        return NULL;
    char *out = strdup(e);
    curl_free(e);
    return out;
}

int adapter_query_add(char **q, const char *name, const char *value)
{
    char *enc = adapter_urlencode(value ? value : "");
    if (!enc)
        return -1;
    char *nq = NULL;
    int r = asprintf(&nq, "%s%s%s=%s", *q ? *q : "", *q && **q ? "&" : "", name, enc);
    free(enc);
    if (r < 0)
        return -1;
    free(*q);
    *q = nq;
    return 0;
}

char *adapter_join_url(const char *base, const char *suffix)
{
    if (!base)
        base = "";
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    if (!suffix)
        suffix = "";
    while (*suffix == '/')
        suffix++;
    char *out = NULL;
    if (asprintf(&out, "%.*s/%s", (int)bl, base, suffix) < 0)
        return NULL;
    return out;
}

/* ---- form decoding ------------------------------------------------------ */

/* evhttp_parse_query_str() would do, but it yields NUL-terminated values
 * (a UTF-16BE text from Kannel is full of %00) and refuses "key" without
 * '=': decode each piece with evhttp_uridecode(), which reports the length. */
int adapter_form_parse(adapter_form *form, const char *s, size_t len)
{
    if (!s)
        return 0;
    const char *end = s + len;
    const char *p = s;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pe = amp ? amp : end;
        if (pe > p) {
            const char *eq = memchr(p, '=', (size_t)(pe - p));
            const char *ke = eq ? eq : pe;
            char *kraw = strndup(p, (size_t)(ke - p));
            char *vraw = eq ? strndup(eq + 1, (size_t)(pe - eq - 1)) : strdup("");
            size_t klen = 0, vlen = 0;
            char *k = kraw ? evhttp_uridecode(kraw, 1, &klen) : NULL;
            char *v = vraw ? evhttp_uridecode(vraw, 1, &vlen) : NULL;
            free(kraw);
            free(vraw);
            adapter_field *nf = (k && v) ? realloc(form->f, (form->n + 1) * sizeof *nf) : NULL;
            if (!nf) {
                free(k);
                free(v);
                return -1;
            }
            form->f = nf;
            form->f[form->n].name = k;
            form->f[form->n].value = v;
            form->f[form->n].value_len = vlen;
            form->n++;
        }
        p = amp ? amp + 1 : end;
    }
    return 0;
}

const adapter_field *adapter_form_get(const adapter_form *form, const char *name)
{
    for (size_t i = 0; i < form->n; i++)
        if (strcmp(form->f[i].name, name) == 0)
            return &form->f[i];
    return NULL;
}

const char *adapter_form_str(const adapter_form *form, const char *name)
{
    const adapter_field *f = adapter_form_get(form, name);
    return f ? f->value : NULL;
}

void adapter_form_free(adapter_form *form)
{
    for (size_t i = 0; i < form->n; i++) {
        free(form->f[i].name);
        free(form->f[i].value);
    }
    free(form->f);
    form->f = NULL;
    form->n = 0;
}

/* ---- splitting ---------------------------------------------------------- */

/* Byte offset just past the first max_chars code points of s[0..len), or
 * len when s is shorter.  Continuation bytes never start a code point, so
 * the cut never lands inside a UTF-8 sequence. */
static size_t prefix_bytes(const char *s, size_t len, size_t max_chars)
{
    size_t i = 0, n = 0;
    while (i < len) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (n == max_chars)
                return i;
            n++;
        }
        i++;
    }
    return len;
}

static int is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Where to end a part that may be at most win bytes long.  Tries, in
 * order, a paragraph break, a line break, a sentence end and a space in the
 * second half of the window, then a space anywhere; else a hard cut. */
static size_t best_cut(const char *s, size_t win)
{
    size_t half = win / 2;
    size_t para = 0, line = 0, sent = 0, word = 0;
    for (size_t i = 1; i < win; i++) {
        char c = s[i];
        if (c == '\n' && s[i - 1] == '\n')
            para = i;
        if (c == '\n')
            line = i;
        if (is_space(c) && (s[i - 1] == '.' || s[i - 1] == '!' || s[i - 1] == '?' ||
                            s[i - 1] == ';'))
            sent = i;
        if (is_space(c))
            word = i;
    }
    if (win < 2)
        return win;
    /* The byte at s[win] starts the next part: a break right there is best. */
    if (is_space(s[win]))
        return win;
    if (para >= half)
        return para;
    if (line >= half)
        return line;
    if (sent >= half)
        return sent;
    if (word > 0)
        return word;
    return win;
}

/* Splits at paragraph, line, sentence or word boundaries into parts of at
 * most max_chars code points, whitespace trimmed at the cuts.  Writes at
 * most max_parts malloc'd strings (the caller frees them); text beyond them
 * is dropped, so pass a max_parts large enough for the channel. */
int adapter_split(const char *text, size_t max_chars, char **parts, int max_parts)
{
    if (!text || !parts || max_parts <= 0)
        return -1;
    const char *p = text;
    size_t len = strlen(text);
    int n = 0;
    while (len > 0 && is_space(*p)) {
        p++;
        len--;
    }
    while (len > 0 && is_space(p[len - 1]))
        len--;
    while (len > 0 && n < max_parts) {
        size_t win = max_chars ? prefix_bytes(p, len, max_chars) : len;
        size_t cut = (win == len) ? len : best_cut(p, win);
        size_t keep = cut;
        while (keep > 0 && is_space(p[keep - 1]))
            keep--;
        char *part = strndup(p, keep);
        if (!part) {
            while (n > 0)
                free(parts[--n]);
            return -1;
        }
        parts[n++] = part;
        p += cut;
        len -= cut;
        while (len > 0 && is_space(*p)) {
            p++;
            len--;
        }
    }
    return n;
}

/* ---- raw JSON numbers --------------------------------------------------- */

/* cJSON keeps numbers only as doubles, which cannot hold a 19-digit Zalo id.
 * This scanner walks the raw text along the same keys to recover a number's
 * exact digits.  It trusts its input a little: cJSON already accepted it. */

static const char *js_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p at '"': returns just past the closing quote, or NULL. */
static const char *js_string_end(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* Returns just past the value at p, or NULL. */
static const char *js_skip(const char *p, const char *end)
{
    p = js_ws(p, end);
    if (p >= end)
        return NULL;
    if (*p == '"')
        return js_string_end(p, end);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < end) {
            if (*p == '"') {
                p = js_string_end(p, end);
                if (!p)
                    return NULL;
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if (*p == '}' || *p == ']') {
                if (--depth == 0)
                    return p + 1;
            }
            p++;
        }
        return NULL;
    }
    while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' &&
           *p != '\n' && *p != '\r')
        p++;
    return p;
}

/* In the object at p, the value of key (compared byte for byte with the
 * raw key, which is right for the plain ASCII keys vendors use). */
static const char *js_member(const char *p, const char *end, const char *key)
{
    p = js_ws(p, end);
    if (p >= end || *p != '{')
        return NULL;
    p++;
    size_t kl = strlen(key);
    for (;;) {
        p = js_ws(p, end);
        if (p >= end || *p != '"')
            return NULL;
        const char *ks = p + 1;
        const char *ke = js_string_end(p, end);
        if (!ke)
            return NULL;
        int match = (size_t)(ke - 1 - ks) == kl && memcmp(ks, key, kl) == 0;
        p = js_ws(ke, end);
        if (p >= end || *p != ':')
            return NULL;
        p = js_ws(p + 1, end);
        if (match)
            return p;
        p = js_skip(p, end);
        if (!p)
            return NULL;
        p = js_ws(p, end);
        if (p >= end || *p != ',')
            return NULL;
        p++;
    }
}

int adapter_json_text(const char *raw, size_t len, const struct cJSON *root, char *out,
                      size_t outlen, ...)
{
    va_list ap;
    const char *keys[16];
    size_t nk = 0;
    va_start(ap, outlen);
    for (const char *k; (k = va_arg(ap, const char *)) != NULL && nk < 16;)
        keys[nk++] = k;
    va_end(ap);
    if (!root || !out || outlen == 0 || nk == 0)
        return -1;
    out[0] = '\0';
    const cJSON *it = root;
    for (size_t i = 0; i < nk && it; i++)
        it = cJSON_IsObject(it) ? cJSON_GetObjectItemCaseSensitive(it, keys[i]) : NULL;
    if (!it)
        return -1;
    if (cJSON_IsString(it) && it->valuestring) {
        if (strlen(it->valuestring) >= outlen)
            return -1;
        strcpy(out, it->valuestring);
        return 0;
    }
    if (!cJSON_IsNumber(it) || !raw)
        return -1;
    const char *p = raw, *end = raw + len;
    for (size_t i = 0; i < nk && p; i++)
        p = js_member(p, end, keys[i]);
    if (!p)
        return -1;
    const char *e = js_skip(p, end);
    if (!e || (size_t)(e - p) >= outlen || e == p)
        return -1;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
    return 0;
}
