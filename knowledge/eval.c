/* eval.c - measuring the matcher on a labelled set of messages.
 *
 * An eval set is JSON lines {"text": ..., "expect": entry id or null}; null
 * means the right outcome is to hand the message to staff.  Over the
 * answerable lines we count how often the expected entry ranks first and in
 * the top three (threshold ignored), and with the decision rules how many
 * messages were answered automatically, how many of those were right
 * (precision = auto_correct / auto_answered, coverage = auto_correct /
 * answerable) and how many out-of-scope lines were escalated.  A sweep over
 * thresholds at the same gap shows the precision / coverage trade-off an
 * admin chooses from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "knowledge/kb_internal.h"

void kb_eval_free(kb_eval_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_misses; i++) {
        free(r->misses[i].text);
        free(r->misses[i].expect);
        free(r->misses[i].got);
    }
    free(r->misses);
    memset(r, 0, sizeof *r);
}

typedef struct eval_line {
    char *text;
    char *expect;
    size_t line;
} eval_line;

static void lines_free(eval_line *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].text);
        free(v[i].expect);
    }
    free(v);
}

/* Parses the JSON lines; errors name the line. */
static int parse_lines(const char *s, size_t len, int unaccent, eval_line **out, size_t *nout, char *err,
                       size_t errlen)
{
    eval_line *v = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    const char *end = s + len;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        lineno++;
        const char *p = s;
        while (p < le && (*p == ' ' || *p == '\t' || *p == '\r'))
            p++;
        s = nl ? nl + 1 : end;
        if (p == le)
            continue;
        cJSON *o = cJSON_ParseWithLength(p, (size_t)(le - p));
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "text");
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "expect");
        if (!o || !cJSON_IsString(t) || (x && !cJSON_IsString(x) && !cJSON_IsNull(x))) {
            snprintf(err, errlen, "line %zu: expected {\"text\": string, \"expect\": id or null}", lineno);
            cJSON_Delete(o);
            lines_free(v, n);
            return -1;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            eval_line *nv = realloc(v, nc * sizeof *nv);
            if (!nv)
                goto oom;
            v = nv;
            cap = nc;
        }
        eval_line *l = &v[n];
        l->line = lineno;
        l->text = unaccent ? kb_unaccent(t->valuestring) : strdup(t->valuestring);
        l->expect = cJSON_IsString(x) ? strdup(x->valuestring) : NULL;
        if (!l->text && unaccent) {
            snprintf(err, errlen, "line %zu: text is not valid UTF-8", lineno);
            free(l->expect);
            cJSON_Delete(o);
            lines_free(v, n);
            return -1;
        }
        if (!l->text || (cJSON_IsString(x) && !l->expect)) {
            free(l->text);
            free(l->expect);
            goto oom;
        }
        n++;
        cJSON_Delete(o);
        continue;
oom:
        cJSON_Delete(o);
        lines_free(v, n);
        snprintf(err, errlen, "line %zu: out of memory", lineno);
        return -1;
    }
    *out = v;
    *nout = n;
    return 0;
}

static int add_miss(kb_eval_report *r, const eval_line *l, const kb_result *res, int top3)
{
    kb_eval_miss *m = realloc(r->misses, (r->n_misses + 1) * sizeof *m);
    if (!m)
        return -1;
    r->misses = m;
    m = &r->misses[r->n_misses];
    memset(m, 0, sizeof *m);
    m->line = l->line;
    m->text = strdup(l->text);
    m->expect = l->expect ? strdup(l->expect) : NULL;
    m->got = res->n_cand ? strdup(res->cand[0].entry->id) : NULL;
    m->action = res->action;
    m->reason = res->reason;
    m->confidence = res->confidence;
    m->top3 = top3;
    r->n_misses++;
    if (!m->text || (l->expect && !m->expect) || (res->n_cand && !m->got))
        return -1;
    return 0;
}

static double ratio(size_t a, size_t b)
{
    return b ? (double)a / (double)b : 0.0;
}

int kb_eval_run(const kb *k, const char *jsonl, size_t len, const kb_params *p, int unaccent,
                kb_eval_report *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    kb_params par = p ? *p : kb_params_default();
    eval_line *lines;
    size_t n;
    if (parse_lines(jsonl, len, unaccent, &lines, &n, err, errlen) < 0)
        return -1;
    r->threshold = par.threshold;
    r->gap = par.gap;
    r->n_sweep = KB_SWEEP_MAX;
    size_t sw_auto[KB_SWEEP_MAX] = {0}, sw_ok[KB_SWEEP_MAX] = {0}, sw_rej[KB_SWEEP_MAX] = {0};
    int rc = -1;
    for (size_t i = 0; i < n; i++) {
        const eval_line *l = &lines[i];
        kb_result res;
#ifdef KB_TUNING
        int debug = KB_TUNABLE(KB_DEBUG, 0) > 0;
        if (debug)
            fprintf(stderr, "LINE\t%s\t%s\n", l->expect ? l->expect : "null", l->text);
#endif
        kb_match(k, l->text, &par, &res);   /* -1 still leaves an escalation */
#ifdef KB_TUNING
        if (debug)
            fprintf(stderr, "END\n");
#endif
        int answerable = l->expect != NULL;
        int top1 = 0, top3 = 0;
        if (answerable) {
            r->answerable++;
            for (size_t c = 0; c < res.n_cand; c++)
                if (strcmp(res.cand[c].entry->id, l->expect) == 0) {
                    top3 = 1;
                    top1 |= c == 0;
                }
            r->top1_n += (size_t)top1;
            r->top3_n += (size_t)top3;
        } else {
            r->oos++;
        }
        int answered = res.action == KB_ANSWER;
        int correct = answered && answerable && top1;
        r->auto_answered += (size_t)answered;
        r->auto_correct += (size_t)correct;
        r->oos_rejected += (size_t)(!answerable && !answered);
        if ((answerable && !correct) || (!answerable && answered)) {
            if (add_miss(r, l, &res, top3) < 0) {
                snprintf(err, errlen, "out of memory");
                goto out;
            }
        }
        for (size_t s = 0; s < KB_SWEEP_MAX && !(KB_TUNABLE(KB_DEBUG, 0) > 0); s++) {
            kb_params sp = {(double)s / (KB_SWEEP_MAX - 1), par.gap};
            kb_result sr;
            kb_match(k, l->text, &sp, &sr);
            int a = sr.action == KB_ANSWER;
            sw_auto[s] += (size_t)a;
            sw_ok[s] += (size_t)(a && answerable && strcmp(sr.cand[0].entry->id, l->expect) == 0);
            sw_rej[s] += (size_t)(!answerable && !a);
        }
    }
    r->top1 = ratio(r->top1_n, r->answerable);
    r->top3 = ratio(r->top3_n, r->answerable);
    r->precision = ratio(r->auto_correct, r->auto_answered);
    r->coverage = ratio(r->auto_correct, r->answerable);
    r->oos_rejection = ratio(r->oos_rejected, r->oos);
    for (size_t s = 0; s < KB_SWEEP_MAX; s++) {
        r->sweep[s].threshold = (double)s / (KB_SWEEP_MAX - 1);
        r->sweep[s].precision = sw_auto[s] ? ratio(sw_ok[s], sw_auto[s]) : 1.0;
        r->sweep[s].coverage = ratio(sw_ok[s], r->answerable);
        r->sweep[s].oos_rejection = ratio(sw_rej[s], r->oos);
    }
    rc = 0;
out:
    lines_free(lines, n);
    if (rc < 0)
        kb_eval_free(r);
    return rc;
}

/* Rounds to 4 decimals so the JSON reads cleanly. */
static double r4(double x)
{
    return (double)(long long)(x * 10000.0 + 0.5) / 10000.0;
}

char *kb_eval_to_json(const kb_eval_report *r)
{
    cJSON *o = cJSON_CreateObject(), *sw;
    char *s = NULL;
    if (!o)
        return NULL;
    if (!cJSON_AddNumberToObject(o, "answerable", (double)r->answerable) ||
        !cJSON_AddNumberToObject(o, "oos", (double)r->oos) || !cJSON_AddNumberToObject(o, "top1", r4(r->top1)) ||
        !cJSON_AddNumberToObject(o, "top3", r4(r->top3)) ||
        !cJSON_AddNumberToObject(o, "auto_answered", (double)r->auto_answered) ||
        !cJSON_AddNumberToObject(o, "auto_correct", (double)r->auto_correct) ||
        !cJSON_AddNumberToObject(o, "precision", r4(r->precision)) ||
        !cJSON_AddNumberToObject(o, "coverage", r4(r->coverage)) ||
        !cJSON_AddNumberToObject(o, "oos_rejection", r4(r->oos_rejection)) ||
        !cJSON_AddNumberToObject(o, "threshold", r4(r->threshold)) || !(sw = cJSON_AddArrayToObject(o, "sweep")))
        goto out;
    for (size_t i = 0; i < r->n_sweep; i++) {
        cJSON *p = cJSON_CreateObject();
        if (!p)
            goto out;
        cJSON_AddItemToArray(sw, p);
        if (!cJSON_AddNumberToObject(p, "threshold", r4(r->sweep[i].threshold)) ||
            !cJSON_AddNumberToObject(p, "precision", r4(r->sweep[i].precision)) ||
            !cJSON_AddNumberToObject(p, "coverage", r4(r->sweep[i].coverage)) ||
            !cJSON_AddNumberToObject(p, "oos_rejection", r4(r->sweep[i].oos_rejection)))
            goto out;
    }
    s = cJSON_PrintUnformatted(o);
out:
    cJSON_Delete(o);
    return s;
}

void kb_eval_print(const kb_eval_report *r, FILE *f)
{
    fprintf(f, "lines         %zu (answerable %zu, out of scope %zu)\n", r->answerable + r->oos, r->answerable,
            r->oos);
    fprintf(f, "top1          %.3f  (%zu/%zu)\n", r->top1, r->top1_n, r->answerable);
    fprintf(f, "top3          %.3f  (%zu/%zu)\n", r->top3, r->top3_n, r->answerable);
    fprintf(f, "auto answered %zu, correct %zu\n", r->auto_answered, r->auto_correct);
    fprintf(f, "precision     %.3f\n", r->precision);
    fprintf(f, "coverage      %.3f\n", r->coverage);
    fprintf(f, "oos rejection %.3f  (%zu/%zu)\n", r->oos_rejection, r->oos_rejected, r->oos);
    fprintf(f, "threshold     %.2f, gap %.2f\n\n", r->threshold, r->gap);
    fprintf(f, "sweep (gap %.2f)\n  threshold  precision  coverage  oos_rejection\n", r->gap);
    for (size_t i = 0; i < r->n_sweep; i++)
        fprintf(f, "  %9.2f  %9.3f  %8.3f  %13.3f\n", r->sweep[i].threshold, r->sweep[i].precision,
                r->sweep[i].coverage, r->sweep[i].oos_rejection);
    if (r->n_misses)
        fprintf(f, "\nmisses (%zu)\n", r->n_misses);
    for (size_t i = 0; i < r->n_misses; i++) {
        const kb_eval_miss *m = &r->misses[i];
        const char *kind = !m->expect ? "answered out-of-scope"
                           : m->action == KB_ANSWER ? "WRONG ANSWER"
                           : "escalated";
        fprintf(f, "  line %zu: %s: expected %s, got %s (%s, confidence %.2f%s)\n    %s\n", m->line, kind,
                m->expect ? m->expect : "escalation", m->got ? m->got : "nothing",
                m->action == KB_ANSWER ? "answer" : kb_reason_name(m->reason), m->confidence,
                m->expect && !m->top3 ? ", not in top 3" : "", m->text);
    }
}
