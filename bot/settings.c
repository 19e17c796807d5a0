/* settings.c - what admins may change at run time without a restart.
 *
 * Each setting starts from the configuration file and is overridden by the
 * value saved in the settings table (the console's PUT /api/settings).  One
 * table below lists them with their bounds, so loading, validating and
 * serialising cannot drift apart. */
#include "bot/app.h"
#include "bot/log.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_DOUBLE, K_INT, K_TEXT };

struct setting {
    const char *key;
    enum kind kind;
    size_t offset;
    size_t size;            /* K_TEXT: buffer size */
    double min, max;
    const char *const *allowed;   /* K_TEXT: allowed values, or NULL */
};

static const char *const unaccent_values[] = {"auto", "always", "never", NULL};

#define OFF(f) offsetof(hl_settings, f)
static const struct setting table[] = {
    {"threshold", K_DOUBLE, OFF(kb.threshold), 0, 0, 1, NULL},
    {"gap", K_DOUBLE, OFF(kb.gap), 0, 0, 1, NULL},
    {"holding_text", K_TEXT, OFF(holding_text), sizeof(((hl_settings *)0)->holding_text), 1, 0, NULL},
    {"optout_text", K_TEXT, OFF(optout_text), sizeof(((hl_settings *)0)->optout_text), 1, 0, NULL},
    {"non_text_reply", K_TEXT, OFF(non_text_reply), sizeof(((hl_settings *)0)->non_text_reply), 1, 0, NULL},
    {"limit_auto_replies", K_INT, OFF(limit_auto_replies), 0, 1, 10000, NULL},
    {"limit_window", K_INT, OFF(limit_window), 0, 1, 86400 * 7, NULL},
    {"sms_unaccent", K_TEXT, OFF(sms_unaccent), sizeof(((hl_settings *)0)->sms_unaccent), 1, 0, unaccent_values},
    {"sms_max_segments", K_INT, OFF(sms_max_segments), 0, 1, 10, NULL},
};
#define N_SETTINGS (sizeof table / sizeof table[0])

/* Checks one JSON value against its row; writes it into *st when valid. */
static int apply_one(hl_settings *st, const struct setting *s, const cJSON *v, char *err,
                     size_t errlen)
{
    char *base = (char *)st + s->offset;
    switch (s->kind) {
    case K_DOUBLE:
        if (!cJSON_IsNumber(v) || v->valuedouble < s->min || v->valuedouble > s->max) {
            snprintf(err, errlen, "%s: expected a number between %g and %g", s->key, s->min, s->max);
            return -1;
        }
        *(double *)base = v->valuedouble;
        return 0;
    case K_INT:
        if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long long)v->valuedouble ||
            v->valuedouble < s->min || v->valuedouble > s->max) {
            snprintf(err, errlen, "%s: expected an integer between %g and %g", s->key, s->min,
                     s->max);
            return -1;
        }
        *(int *)base = (int)v->valuedouble;
        return 0;
    case K_TEXT:
        if (!cJSON_IsString(v) || strlen(v->valuestring) < (size_t)s->min ||
            strlen(v->valuestring) >= s->size) {
            snprintf(err, errlen, "%s: expected a text of 1 to %zu bytes", s->key, s->size - 1);
            return -1;
        }
        if (s->allowed) {
            int ok = 0;
            for (const char *const *a = s->allowed; *a; a++)
                ok |= strcmp(*a, v->valuestring) == 0;
            if (!ok) {
                snprintf(err, errlen, "%s: \"%s\" is not an allowed value", s->key, v->valuestring);
                return -1;
            }
        }
        snprintf(base, s->size, "%s", v->valuestring);
        return 0;
    }
    return -1;
}

int settings_load(hl_app *app)
{
    hl_settings *st = &app->settings;
    const hl_config *c = &app->cfg;
    memset(st, 0, sizeof *st);
    st->kb = kb_params_default();
    if (c->kb_threshold >= 0)
        st->kb.threshold = c->kb_threshold;
    if (c->kb_gap >= 0)
        st->kb.gap = c->kb_gap;
    snprintf(st->holding_text, sizeof st->holding_text, "%s", c->holding_text ? c->holding_text : "");
    snprintf(st->optout_text, sizeof st->optout_text, "%s", c->optout_text ? c->optout_text : "");
    snprintf(st->non_text_reply, sizeof st->non_text_reply, "%s",
             c->non_text_reply ? c->non_text_reply : "");
    st->limit_auto_replies = c->limit_auto_replies;
    st->limit_window = c->limit_window;
    snprintf(st->sms_unaccent, sizeof st->sms_unaccent, "%s", c->sms_unaccent ? c->sms_unaccent : "auto");
    st->sms_max_segments = c->sms_max_segments;
    if (!app->db)
        return 0;
    for (size_t i = 0; i < N_SETTINGS; i++) {
        char *raw = store_setting_get(app->db, table[i].key);
        if (!raw)
            continue;
        cJSON *v = cJSON_Parse(raw);
        char err[160];
        if (!v || apply_one(st, &table[i], v, err, sizeof err) != 0)
            log_warn("setting_ignored", "key=%s reason=\"stored value is invalid\"", table[i].key);
        cJSON_Delete(v);
        free(raw);
    }
    return 0;
}

cJSON *settings_to_json(const hl_app *app)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const char *base = (const char *)&app->settings + table[i].offset;
        cJSON *v = table[i].kind == K_DOUBLE ? cJSON_CreateNumber(*(const double *)base)
                   : table[i].kind == K_INT  ? cJSON_CreateNumber(*(const int *)base)
                                             : cJSON_CreateString(base);
        if (!v || !cJSON_AddItemToObject(j, table[i].key, v)) {
            cJSON_Delete(v);
            cJSON_Delete(j);
            return NULL;
        }
    }
    return j;
}

int settings_update(hl_app *app, const cJSON *in, const char *user, char *err, size_t errlen)
{
    if (!cJSON_IsObject(in)) {
        snprintf(err, errlen, "expected a JSON object");
        return -1;
    }
    hl_settings next = app->settings;
    for (const cJSON *v = in->child; v; v = v->next) {
        const struct setting *s = NULL;
        for (size_t i = 0; i < N_SETTINGS; i++)
            if (v->string && strcmp(v->string, table[i].key) == 0)
                s = &table[i];
        if (!s) {
            snprintf(err, errlen, "%s: unknown setting", v->string ? v->string : "?");
            return -1;
        }
        if (apply_one(&next, s, v, err, errlen) != 0)
            return -1;
    }
    if (store_begin(app->db) != 0) {
        snprintf(err, errlen, "database busy");
        return -1;
    }
    for (const cJSON *v = in->child; v; v = v->next) {
        char *txt = cJSON_PrintUnformatted(v);
        if (!txt || store_setting_set(app->db, v->string, txt) != 0 ||
            store_audit(app->db, user, "settings.update", v->string, txt) != 0) {
            cJSON_free(txt);
            store_rollback(app->db);
            snprintf(err, errlen, "cannot save settings");
            return -1;
        }
        cJSON_free(txt);
    }
    if (store_commit(app->db) != 0) {
        store_rollback(app->db);
        snprintf(err, errlen, "cannot save settings");
        return -1;
    }
    app->settings = next;
    return 0;
}
