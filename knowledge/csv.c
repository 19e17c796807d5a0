/* csv.c - importing a city's existing FAQ from a spreadsheet.
 *
 * Format: question,answer[,keywords] per record, RFC 4180 quoting (fields
 * in double quotes may hold commas, newlines and "" for a quote), an
 * optional header line (first field "question" or "câu hỏi"), a UTF-8 BOM
 * tolerated, CRLF or LF.  Keywords are separated by ';', each optionally
 * followed by ":weight" ("sổ đỏ:2.5; sang tên").  Ids are derived from the
 * question.  Errors name the line where the record starts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "knowledge/kb_internal.h"

#define CSV_MAXFIELDS 3

typedef struct csv_field {
    char *s;
    size_t n, cap;
} csv_field;

static int field_putc(csv_field *f, char ch)
{
    if (f->n + 1 >= f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 128;
        char *s = realloc(f->s, nc);
        if (!s)
            return -1;
        f->s = s;
        f->cap = nc;
    }
    f->s[f->n++] = ch;
    f->s[f->n] = '\0';
    return 0;
}

/* Trims ASCII blanks at both ends, in place. */
static char *trim(char *s)
{
    if (!s)
        return s;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int valid_utf8(const char *s)
{
    utf8proc_ssize_t n = (utf8proc_ssize_t)strlen(s), r = 0;
    while (r < n) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + r, n - r, &cp);
        if (k <= 0)
            return 0;
        r += k;
    }
    return 1;
}

/* Splits "a:2; b" into keywords of e. */
static int parse_keywords(kb_entry *e, char *s, size_t line, char *err, size_t errlen)
{
    size_t count = 1;
    for (char *p = s; *p; p++)
        count += *p == ';';
    e->keywords = calloc(count, sizeof *e->keywords);
    if (!e->keywords)
        goto oom;
    char *save = NULL;
    for (char *tok = strtok_r(s, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        double w = 1.0;
        char *colon = strrchr(tok, ':');
        if (colon) {
            char *end;
            *colon = '\0';
            w = strtod(colon + 1, &end);
            if (end == colon + 1 || *trim(end) != '\0' || !(w >= 0 && w <= 10)) {
                snprintf(err, errlen, "line %zu: keyword \"%.60s\": weight must be a number from 0 to 10", line,
                         trim(tok));
                return -1;
            }
        }
        tok = trim(tok);
        if (!*tok)
            continue;
        if (!(e->keywords[e->n_keywords].term = strdup(tok)))
            goto oom;
        e->keywords[e->n_keywords++].weight = w;
    }
    return 0;
oom:
    snprintf(err, errlen, "line %zu: out of memory", line);
    return -1;
}

/* Turns one record into an entry and upserts it. */
static int add_record(kb_corpus *c, csv_field *f, size_t nf, size_t line, int *first, char *err, size_t errlen)
{
    char *q = trim(f[0].s), *a = nf > 1 ? trim(f[1].s) : NULL;
    if (nf == 1 && (!q || !*q))
        return 0;   /* blank line */
    if (*first) {
        *first = 0;
        char *h = q ? kb_fold(q) : NULL;
        int header = h && (strcmp(h, "question") == 0 || strcmp(h, "cau hoi") == 0);
        free(h);
        if (header)
            return 0;
    }
    if (nf < 2) {
        snprintf(err, errlen, "line %zu: expected question,answer[,keywords]; found 1 field", line);
        return -1;
    }
    for (size_t i = 0; i < nf; i++)
        if (f[i].s && !valid_utf8(f[i].s)) {
            snprintf(err, errlen, "line %zu: field %zu is not valid UTF-8 (save the file as UTF-8)", line, i + 1);
            return -1;
        }
    if (!q || !*q) {
        snprintf(err, errlen, "line %zu: empty question", line);
        return -1;
    }
    if (!a || !*a) {
        snprintf(err, errlen, "line %zu: empty answer", line);
        return -1;
    }
    kb_entry e;
    memset(&e, 0, sizeof e);
    e.enabled = 1;
    int rc = -1;
    e.id = kb_slug(q);
    if (!e.id) {
        snprintf(err, errlen, "line %zu: the question has no letters or digits", line);
        goto out;
    }
    e.question = strdup(q);
    e.answer = strdup(a);
    if (!e.question || !e.answer) {
        snprintf(err, errlen, "line %zu: out of memory", line);
        goto out;
    }
    if (nf > 2 && f[2].s && parse_keywords(&e, f[2].s, line, err, errlen) < 0)
        goto out;
    if (kb_corpus_add(c, &e) < 0) {
        snprintf(err, errlen, "line %zu: out of memory", line);
        goto out;
    }
    rc = 0;
out:
    kb_entry_clear(&e);
    return rc;
}

int kb_corpus_from_csv(kb_corpus *c, const char *text, size_t len, char *err, size_t errlen)
{
    csv_field f[CSV_MAXFIELDS];
    memset(f, 0, sizeof f);
    size_t nf = 0, line = 1, rec_line = 1;
    int quoted = 0, was_quoted = 0, first = 1, rc = -1;
    size_t i = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    for (size_t k = 0; k < CSV_MAXFIELDS; k++)
        if (field_putc(&f[k], 'x') < 0)
            goto oom;
    for (size_t k = 0; k < CSV_MAXFIELDS; k++)
        f[k].n = 0, f[k].s[0] = '\0';
    for (; i <= len; i++) {
        int end = i == len;
        char ch = end ? '\n' : text[i];
        if (quoted) {
            if (end) {
                snprintf(err, errlen, "line %zu: unterminated quoted field", rec_line);
                goto out;
            }
            if (ch == '"') {
                if (i + 1 < len && text[i + 1] == '"') {
                    if (field_putc(&f[nf], '"') < 0)
                        goto oom;
                    i++;
                } else {
                    quoted = 0;
                }
            } else {
                line += ch == '\n';
                if (field_putc(&f[nf], ch) < 0)
                    goto oom;
            }
            continue;
        }
        if (ch == '"' && f[nf].n == 0 && !was_quoted) {
            quoted = was_quoted = 1;
        } else if (ch == ',') {
            if (++nf >= CSV_MAXFIELDS) {
                snprintf(err, errlen, "line %zu: more than %d fields (quote fields that contain commas)",
                         rec_line, CSV_MAXFIELDS);
                goto out;
            }
            was_quoted = 0;
        } else if (ch == '\n') {
            if (!(end && nf == 0 && f[0].n == 0) &&
                add_record(c, f, nf + 1, rec_line, &first, err, errlen) < 0)
                goto out;
            for (size_t k = 0; k < CSV_MAXFIELDS; k++)
                f[k].n = 0, f[k].s[0] = '\0';
            nf = 0;
            was_quoted = 0;
            rec_line = ++line;
        } else if (ch == '\r' && i + 1 < len && text[i + 1] == '\n') {
            continue;
        } else if (was_quoted && ch != ' ' && ch != '\t') {
            snprintf(err, errlen, "line %zu: text after a closing quote", line);
            goto out;
        } else if (field_putc(&f[nf], ch) < 0) {
            goto oom;
        }
    }
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "line %zu: out of memory", rec_line);
out:
    for (size_t k = 0; k < CSV_MAXFIELDS; k++)
        free(f[k].s);
    return rc;
}
