/* config.c - the daemon's configuration: one table drives defaults, parsing,
 * validation and the documentation.
 *
 * Every key lives in conf_table below, once: its dotted path, its type, its
 * default, the hl_config field it fills, its bounds or allowed values and a
 * one-line description.  config_defaults() walks the table to fill the
 * defaults, config_load*() walks the JSON tree and looks each key up in the
 * table, and config_describe() prints the table as Markdown for the README.
 * Adding a key is one line here (plus its field in config.h). */
#include "bot/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "bot/log.h"

#define CONF_MAX_FILE (1024 * 1024) /* a config file is a few KiB */
#define CONF_MAX_PATH 256

typedef enum { CT_STRING, CT_INT, CT_NUMBER, CT_BOOL } conf_type;

#define CF_SECRET  (1u << 0)    /* never printed; documented as "$ENV_VAR" */
#define CF_NEG_ONE (1u << 1)    /* numbers: -1 is also accepted (engine default) */

/* Extra validation for a string value (never NULL here).  Returns NULL when
 * the value is fine, else the reason, written after "path: ". */
typedef const char *(*conf_check)(const char *value);

typedef struct conf_opt {
    const char *path;           /* "channels.zalo.app_id" */
    conf_type type;
    unsigned flags;
    size_t off;                 /* offsetof(hl_config, field) */
    const char *def_str;        /* strings: NULL = unset */
    double def_num;             /* integers, numbers, booleans */
    double min, max;            /* integers and numbers, inclusive */
    size_t max_len;             /* strings: bytes, 0 = no limit */
    const char *allowed;        /* strings: "a|b|c", matched ignoring case */
    conf_check check;
    const char *doc;
} conf_opt;

static const char *check_nonempty(const char *v)
{
    return *v ? NULL : "must not be empty";
}

static const char *check_hostport(const char *v)
{
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v)
        return "expected \"host:port\", e.g. \"127.0.0.1:8080\"";
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (!isdigit((unsigned char)colon[1]) || *end || errno || port < 1 || port > 65535)
        return "expected \"host:port\" with a port between 1 and 65535";
    return NULL;
}

static const char *check_url(const char *v)
{
    if ((strncmp(v, "http://", 7) == 0 && v[7]) || (strncmp(v, "https://", 8) == 0 && v[8]))
        return NULL;
    return "expected an http:// or https:// URL";
}

/* public_url: "" means "derive it from listen". */
static const char *check_url_or_empty(const char *v)
{
    return *v ? check_url(v) : NULL;
}

#define F(field) offsetof(hl_config, field)
#define STR(p, field, def, chk, d) \
    {.path = p, .type = CT_STRING, .off = F(field), .def_str = def, .check = chk, .doc = d}
#define ENUM(p, field, def, values, d) \
    {.path = p, .type = CT_STRING, .off = F(field), .def_str = def, .allowed = values, .doc = d}
#define TEXT(p, field, def, maxlen, d)                                                       \
    {.path = p, .type = CT_STRING, .off = F(field), .def_str = def, .max_len = maxlen,        \
     .check = check_nonempty, .doc = d}
#define SECRET(p, field, d) \
    {.path = p, .type = CT_STRING, .flags = CF_SECRET, .off = F(field), .doc = d}
#define INT(p, field, def, lo, hi, d) \
    {.path = p, .type = CT_INT, .off = F(field), .def_num = def, .min = lo, .max = hi, .doc = d}
#define NUM(p, field, def, lo, hi, fl, d)                                                    \
    {.path = p, .type = CT_NUMBER, .flags = fl, .off = F(field), .def_num = def, .min = lo,   \
     .max = hi, .doc = d}
#define BOOL(p, field, def, d) \
    {.path = p, .type = CT_BOOL, .off = F(field), .def_num = def, .doc = d}

/* The texts fit hl_settings' buffers (app.h), NUL included, and the defaults
 * fit three Unicode SMS segments. */
static const conf_opt conf_table[] = {
    STR("listen", listen, "127.0.0.1:8080", check_hostport,
        "Address the HTTP server listens on, \"host:port\"."),
    STR("database", database, "var/hotline.db", check_nonempty,
        "SQLite database file; its folder is created if missing."),
    ENUM("database_synchronous", database_synchronous, "FULL", "FULL|NORMAL|EXTRA|OFF",
         "SQLite synchronous level. FULL makes every acknowledged message survive a crash or power loss."),
    STR("public_url", public_url, "", check_url_or_empty,
        "URL at which providers and browsers reach the daemon (callbacks, delivery reports); "
        "empty means `http://<listen>`."),
    ENUM("log_level", log_level, "info", "debug|info|warn|error", "Lowest level written to the log."),
    STR("hotline_number", hotline_number, "1022", check_nonempty,
        "Hotline number shown to citizens."),

    INT("http.max_body", http_max_body, 65536, 1024, 16777216,
        "Largest request body in bytes; larger requests get 413."),
    INT("http.max_headers", http_max_headers, 8192, 1024, 1048576,
        "Largest request header block in bytes."),
    INT("http.timeout", http_timeout, 30, 1, 3600,
        "Seconds a client connection may stay idle or slow before it is closed."),
    INT("http.max_connections", http_max_connections, 1024, 1, 1000000,
        "Open client connections at most."),
    STR("http.trusted_proxies", http_trusted_proxies, NULL, NULL,
        "Comma-separated addresses of reverse proxies (e.g. 127.0.0.1 for nginx on the same host) "
        "whose X-Forwarded-For gives the client address for logs and login limits."),

    STR("knowledge.corpus", kb_corpus, "knowledge/data/faq.json", check_nonempty,
        "Q&A corpus imported when the knowledge base is empty."),
    STR("knowledge.lexicon", kb_lexicon, "knowledge/data/lexicon.json", check_nonempty,
        "Lexicon (synonyms, abbreviations, stop words) used by the matcher."),
    NUM("knowledge.threshold", kb_threshold, -1, 0, 1, CF_NEG_ONE,
        "Score an answer needs to be sent automatically; -1 keeps the engine's default."),
    NUM("knowledge.gap", kb_gap, -1, 0, 1, CF_NEG_ONE,
        "Lead the best answer needs over the second best; -1 keeps the engine's default."),

    TEXT("queue.holding_text", holding_text,
         "Tổng đài đã nhận được câu hỏi của Quý vị. Cán bộ tổng đài sẽ trả lời trong thời gian sớm nhất. Xin cảm ơn!",
         1023, "Reply sent when a question is handed to staff."),
    TEXT("queue.optout_text", optout_text,
         "Tổng đài sẽ ngừng gửi tin nhắn tự động cho Quý vị. Khi cần hỗ trợ, Quý vị chỉ cần gửi câu hỏi, tin nhắn tự động sẽ được bật lại.",
         511, "Confirmation sent when a citizen opts out of automatic messages."),
    TEXT("queue.non_text_reply", non_text_reply,
         "Tổng đài hiện chỉ tiếp nhận câu hỏi bằng chữ. Quý vị vui lòng gửi lại nội dung câu hỏi dưới dạng tin nhắn văn bản. Xin cảm ơn!",
         511, "Reply to a message that carries no text (image, sticker, voice)."),

    INT("limits.auto_replies", limit_auto_replies, 5, 0, 1000,
        "Automatic replies per contact per window; further messages go to staff."),
    INT("limits.window", limit_window, 600, 1, 604800, "Length of that window in seconds."),

    ENUM("sms.unaccent", sms_unaccent, "auto", "auto|always|never",
         "Strip Vietnamese diacritics from SMS replies: auto does it when it saves segments."),
    INT("sms.max_segments", sms_max_segments, 3, 1, 10,
        "SMS segments per reply at most; longer answers are shortened."),
    ENUM("sms.send_via", sms_send_via, "same", "same|esms",
         "Route for SMS replies: same = the channel the SMS came in on; esms = eSMS.vn brandname."),

    INT("outbox.max_attempts", outbox_max_attempts, 10, 1, 1000,
        "Sending attempts per message before it is marked failed."),
    INT("outbox.backoff_base_ms", outbox_backoff_base, 1000, 1, 3600000,
        "Delay before the first retry in milliseconds; it doubles on each attempt."),
    INT("outbox.backoff_max_ms", outbox_backoff_max, 300000, 1, 86400000,
        "Longest delay between retries in milliseconds."),
    INT("outbox.timeout_ms", outbox_timeout, 10000, 100, 600000,
        "Time limit of one provider request in milliseconds."),
    INT("outbox.concurrency", outbox_concurrency, 32, 1, 10000,
        "Provider requests in flight at most."),

    STR("console.dir", console_dir, "bot/console", check_nonempty,
        "Folder of the staff console's static files."),
    INT("console.session_ttl", session_ttl, 43200, 60, 2592000,
        "Seconds a console login stays valid."),
    INT("console.login_max_attempts", login_max_attempts, 5, 1, 1000,
        "Failed logins allowed per 15 minutes, per address and per user."),

    BOOL("channels.web.enabled", web_enabled, 1, "Serve the public web chat page and its API."),
    STR("channels.web.dir", web_dir, "bot/chat", check_nonempty,
        "Folder of the web chat's static files."),

    STR("channels.zalo.app_id", zalo.app_id, NULL, NULL, "Zalo application id."),
    SECRET("channels.zalo.oa_secret", zalo.oa_secret,
           "Official Account secret key, used to verify webhook signatures."),
    SECRET("channels.zalo.app_secret", zalo.app_secret,
           "Application secret key, used to refresh the access token."),
    SECRET("channels.zalo.refresh_token", zalo.refresh_token,
           "Initial OAuth refresh token; later tokens are kept in the database."),
    STR("channels.zalo.api_base", zalo.api_base, "https://openapi.zalo.me", check_url,
        "Zalo OA API base URL."),
    STR("channels.zalo.oauth_base", zalo.oauth_base, "https://oauth.zaloapp.com", check_url,
        "Zalo OAuth base URL."),

    STR("channels.kannel.sendsms_url", kannel.sendsms_url, NULL, check_url,
        "Kannel smsbox sendsms URL, e.g. http://127.0.0.1:13013/cgi-bin/sendsms."),
    STR("channels.kannel.username", kannel.username, NULL, NULL, "Kannel sendsms user."),
    SECRET("channels.kannel.password", kannel.password, "Kannel sendsms password."),
    STR("channels.kannel.from", kannel.from, NULL, NULL, "Sender number or short code."),
    SECRET("channels.kannel.webhook_token", kannel.webhook_token,
           "Token Kannel must send with inbound messages and delivery reports."),

    STR("channels.twilio.account_sid", twilio.account_sid, NULL, NULL, "Twilio account SID."),
    SECRET("channels.twilio.auth_token", twilio.auth_token,
           "Twilio auth token (API calls and webhook signatures)."),
    STR("channels.twilio.from", twilio.from, NULL, NULL, "Sender number, E.164."),
    STR("channels.twilio.public_url", twilio.public_url, NULL, check_url,
        "Public URL Twilio calls, as it signs it; unset means public_url."),
    STR("channels.twilio.api_base", twilio.api_base, "https://api.twilio.com", check_url,
        "Twilio API base URL."),

    SECRET("channels.esms.api_key", esms.api_key, "eSMS.vn API key."),
    SECRET("channels.esms.secret_key", esms.secret_key, "eSMS.vn secret key."),
    STR("channels.esms.brandname", esms.brandname, NULL, NULL, "Registered brandname (sender name)."),
    STR("channels.esms.api_base", esms.api_base, "https://rest.esms.vn", check_url,
        "eSMS.vn API base URL."),
};

#define CONF_COUNT (sizeof conf_table / sizeof conf_table[0])

static char **str_field(hl_config *cfg, const conf_opt *o) { return (char **)((char *)cfg + o->off); }
static int *int_field(hl_config *cfg, const conf_opt *o) { return (int *)((char *)cfg + o->off); }
static double *num_field(hl_config *cfg, const conf_opt *o) { return (double *)((char *)cfg + o->off); }

/* ---------------------------------------------------------------- defaults */

int config_defaults(hl_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < CONF_COUNT; i++) {
        const conf_opt *o = &conf_table[i];
        switch (o->type) {
        case CT_STRING:
            if (o->def_str && !(*str_field(cfg, o) = strdup(o->def_str))) {
                config_free(cfg);
                return -1;
            }
            break;
        case CT_INT:
        case CT_BOOL:
            *int_field(cfg, o) = (int)o->def_num;
            break;
        case CT_NUMBER:
            *num_field(cfg, o) = o->def_num;
            break;
        }
    }
    return 0;
}

void config_free(hl_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < CONF_COUNT; i++) {
        if (conf_table[i].type == CT_STRING) {
            char **s = str_field(cfg, &conf_table[i]);
            free(*s);
            *s = NULL;
        }
    }
}

/* ----------------------------------------------------------------- parsing */

typedef struct conf_err {
    char *buf;
    size_t len;
    const char *file;           /* prefixed to messages when loading a file */
} conf_err;

/* Writes "[file: ]path: message".  Callers never pass a secret's value. */
static int conf_fail(conf_err *e, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int conf_fail(conf_err *e, const char *path, const char *fmt, ...)
{
    if (!e->buf || !e->len)
        return -1;
    int n = snprintf(e->buf, e->len, "%s%s%s: ", e->file ? e->file : "", e->file ? ": " : "", path);
    if (n >= 0 && (size_t)n < e->len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->buf + n, e->len - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const conf_opt *opt_find(const char *path)
{
    for (size_t i = 0; i < CONF_COUNT; i++)
        if (strcmp(conf_table[i].path, path) == 0)
            return &conf_table[i];
    return NULL;
}

/* 1 when path is a section ("channels", "channels.zalo"): a prefix of some key. */
static int is_section(const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < CONF_COUNT; i++)
        if (strncmp(conf_table[i].path, path, n) == 0 && conf_table[i].path[n] == '.')
            return 1;
    return 0;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The known key or section closest to an unknown path, for a typo hint. */
static const char *suggest(const char *path, char *buf, size_t len)
{
    size_t depth = 0, best = 3;
    for (const char *p = path; *p; p++)
        depth += *p == '.';
    const char *found = NULL;
    for (size_t i = 0; i < CONF_COUNT; i++) {
        /* the candidate: this key cut to the unknown path's depth */
        const char *k = conf_table[i].path, *cut = k;
        size_t d = 0;
        while (*cut && !(*cut == '.' && d == depth))
            d += *cut++ == '.';
        if (d < depth || (size_t)(cut - k) >= len)
            continue;
        char cand[CONF_MAX_PATH];
        memcpy(cand, k, (size_t)(cut - k));
        cand[cut - k] = '\0';
        size_t dist = edit_distance(path, cand);
        if (dist < best) {
            best = dist;
            memcpy(buf, cand, (size_t)(cut - k) + 1);
            found = buf;
        }
    }
    return found;
}

/* The commands that never talk to a provider (backup, user, import, export,
 * ask, eval) run from an operator's shell, which usually lacks the
 * service's secret environment (systemd's EnvironmentFile): for them an
 * unset secret reads as empty instead of stopping the command.  Other keys
 * (the database path above all) stay strict. */
static int unset_secrets_ok;

void config_allow_unset_secrets(int on) { unset_secrets_ok = on; }

/* "$NAME" with NAME = [A-Za-z_][A-Za-z0-9_]* */
static int is_env_ref(const char *s)
{
    if (s[0] != '$' || !(isalpha((unsigned char)s[1]) || s[1] == '_'))
        return 0;
    for (s += 2; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return 0;
    return 1;
}

/* The allowed value matching v ignoring case, copied into out; -1 if none. */
static int match_allowed(const char *allowed, const char *v, char *out, size_t outlen)
{
    size_t vl = strlen(v);
    for (const char *p = allowed; *p;) {
        size_t n = strcspn(p, "|");
        if (n == vl && n < outlen && strncasecmp(p, v, n) == 0) {
            memcpy(out, p, n);
            out[n] = '\0';
            return 0;
        }
        p += n + (p[n] == '|');
    }
    return -1;
}

static int set_string(hl_config *cfg, const conf_opt *o, const cJSON *item, conf_err *e)
{
    int secret = o->flags & CF_SECRET;
    if (cJSON_IsNull(item) && !o->def_str) {    /* null unsets an optional key */
        free(*str_field(cfg, o));
        *str_field(cfg, o) = NULL;
        return 0;
    }
    if (!cJSON_IsString(item) || !item->valuestring)
        return conf_fail(e, o->path, "expected a string");
    const char *v = item->valuestring;
    int from_env = is_env_ref(v);
    if (from_env) {
        const char *name = v + 1;
        v = getenv(name);
        if (!v && secret && unset_secrets_ok)
            v = "";
        if (!v)
            return conf_fail(e, o->path, "environment variable %s is not set", name);
    } else if (secret && *v) {
        log_warn("config", "key=%s msg=\"secret written in the file; prefer \\\"$ENV_VAR\\\"\"",
                 o->path);
    }
    if (o->max_len && strlen(v) > o->max_len)
        return conf_fail(e, o->path, "longer than %zu bytes", o->max_len);
    char canon[32];
    if (o->allowed) {
        if (match_allowed(o->allowed, v, canon, sizeof canon) < 0) {
            char list[128];
            snprintf(list, sizeof list, "%s", o->allowed);
            for (char *p = list; *p; p++)
                if (*p == '|')
                    *p = '/';
            if (secret)
                return conf_fail(e, o->path, "must be one of %s", list);
            return conf_fail(e, o->path, "must be one of %s, not \"%.40s\"", list, v);
        }
        v = canon;
    }
    if (!*v && !o->def_str)
        v = NULL;                               /* "" unsets an optional key */
    const char *why = v && o->check ? o->check(v) : NULL;
    if (why)
        return conf_fail(e, o->path, "%s", why);
    char *copy = NULL;
    if (v && !(copy = strdup(v)))
        return conf_fail(e, o->path, "out of memory");
    free(*str_field(cfg, o));
    *str_field(cfg, o) = copy;
    return 0;
}

static int set_value(hl_config *cfg, const conf_opt *o, const cJSON *item, conf_err *e)
{
    double v;
    switch (o->type) {
    case CT_STRING:
        return set_string(cfg, o, item, e);
    case CT_BOOL:
        if (!cJSON_IsBool(item))
            return conf_fail(e, o->path, "expected true or false");
        *int_field(cfg, o) = cJSON_IsTrue(item);
        return 0;
    case CT_INT:
        v = item->valuedouble;
        if (!cJSON_IsNumber(item) || !isfinite(v) || floor(v) != v)
            return conf_fail(e, o->path, "expected an integer");
        if (v < o->min || v > o->max)
            return conf_fail(e, o->path, "must be between %.0f and %.0f", o->min, o->max);
        *int_field(cfg, o) = (int)v;
        return 0;
    case CT_NUMBER:
        v = item->valuedouble;
        if (!cJSON_IsNumber(item) || !isfinite(v))
            return conf_fail(e, o->path, "expected a number");
        if ((v < o->min || v > o->max) && !((o->flags & CF_NEG_ONE) && v == -1))
            return conf_fail(e, o->path, "must be between %g and %g%s", o->min, o->max,
                             o->flags & CF_NEG_ONE ? " (or -1 for the default)" : "");
        *num_field(cfg, o) = v;
        return 0;
    }
    return -1;
}

/* Copies a key name for messages: bounded, control characters replaced. */
static void key_for_message(const char *prefix, const char *key, char *out, size_t len)
{
    snprintf(out, len, "%s%s%s", prefix, *prefix ? "." : "", key);
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

static int parse_object(hl_config *cfg, const cJSON *obj, const char *prefix, conf_err *e)
{
    for (const cJSON *it = obj->child; it; it = it->next) {
        char path[CONF_MAX_PATH];
        const char *key = it->string ? it->string : "";
        key_for_message(prefix, key, path, sizeof path);
        /* a dot inside a name would let {"http.max_body": 1} pose as a path */
        int plain = *key && !strchr(key, '.') &&
                    strlen(prefix) + strlen(key) + 2 <= sizeof path;
        const conf_opt *o = plain ? opt_find(path) : NULL;
        if (!o && !(plain && is_section(path))) {
            char hint[CONF_MAX_PATH];
            if (plain && suggest(path, hint, sizeof hint))
                return conf_fail(e, path, "unknown key (did you mean %s?)", hint);
            return conf_fail(e, path, "unknown key");
        }
        for (const cJSON *p = obj->child; p != it; p = p->next)
            if (p->string && strcmp(p->string, key) == 0)
                return conf_fail(e, path, "duplicate key");
        if (o) {
            if (set_value(cfg, o, it, e) < 0)
                return -1;
        } else if (!cJSON_IsObject(it)) {
            return conf_fail(e, path, "expected an object");
        } else if (parse_object(cfg, it, path, e) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Rules that tie two keys together, checked once everything is read. */
static int check_cross(const hl_config *cfg, conf_err *e)
{
    if (cfg->outbox_backoff_max < cfg->outbox_backoff_base)
        return conf_fail(e, "outbox.backoff_max_ms", "must be at least outbox.backoff_base_ms (%d)",
                         cfg->outbox_backoff_base);
    return 0;
}

static int load_text(hl_config *cfg, const char *text, size_t len, conf_err *e)
{
    memset(cfg, 0, sizeof *cfg);
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {   /* editors' UTF-8 BOM */
        text += 3;
        len -= 3;
    }
    /* Trailing text is checked here: cJSON's own check wants a NUL inside len. */
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (root && end) {
        while (end < text + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
            end++;
        if (end < text + len) {
            cJSON_Delete(root);
            root = NULL;
        }
    }
    if (!root) {
        /* end points at the error; count lines and characters up to it */
        if (!end || end < text || end > text + len)
            end = text;
        int line = 1, col = 1;
        for (const char *p = text; p < end; p++) {
            if (*p == '\n') {
                line++;
                col = 1;
            } else if (((unsigned char)*p & 0xC0) != 0x80) {
                col++;
            }
        }
        if (e->buf && e->len)
            snprintf(e->buf, e->len, "%s%sinvalid JSON at line %d, column %d", e->file ? e->file : "",
                     e->file ? ": " : "", line, col);
        return -1;
    }
    hl_config tmp;
    int rc = -1;
    if (config_defaults(&tmp) < 0) {
        conf_fail(e, "(configuration)", "out of memory");
    } else if (!cJSON_IsObject(root)) {
        conf_fail(e, "(top level)", "expected an object");
    } else if (parse_object(&tmp, root, "", e) == 0 && check_cross(&tmp, e) == 0) {
        *cfg = tmp;
        rc = 0;
    }
    if (rc < 0)
        config_free(&tmp);
    cJSON_Delete(root);
    return rc;
}

/* cfg need not be initialised: it is overwritten with the defaults and then
 * the text's values; free it with config_free().  On error cfg holds no
 * allocation (all NULL) and err says which key is wrong. */
int config_load_text(hl_config *cfg, const char *text, size_t len, char *err, size_t errlen)
{
    conf_err e = {err, errlen, NULL};
    return load_text(cfg, text, len, &e);
}

int config_load(hl_config *cfg, const char *path, char *err, size_t errlen)
{
    if (!err)
        errlen = 0;
    conf_err e = {err, errlen, path};
    memset(cfg, 0, sizeof *cfg);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(CONF_MAX_FILE + 1);
    size_t n = buf ? fread(buf, 1, CONF_MAX_FILE + 1, f) : 0;
    int rc = -1;
    if (!buf)
        snprintf(err, errlen, "%s: out of memory", path);
    else if (ferror(f))
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    else if (n > CONF_MAX_FILE)
        snprintf(err, errlen, "%s: larger than %d bytes", path, CONF_MAX_FILE);
    else
        rc = load_text(cfg, buf, n, &e);
    free(buf);
    fclose(f);
    return rc;
}

/* ---------------------------------------------------------- documentation */

/* Table cells: a '|' would end the cell, a newline the row. */
static void md_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
}

void config_describe(FILE *out)
{
    fputs("| Key | Type | Default | Meaning |\n|---|---|---|---|\n", out);
    for (size_t i = 0; i < CONF_COUNT; i++) {
        const conf_opt *o = &conf_table[i];
        fprintf(out, "| `%s` | ", o->path);
        switch (o->type) {
        case CT_STRING:
            if (o->allowed) {
                fputs("one of ", out);
                for (const char *p = o->allowed; *p;) {
                    size_t n = strcspn(p, "|");
                    fprintf(out, "%s`%.*s`", p == o->allowed ? "" : ", ", (int)n, p);
                    p += n + (p[n] == '|');
                }
            } else {
                fputs("string", out);
            }
            fputs(" | ", out);
            if (!o->def_str)
                fputs("(unset)", out);
            else if (!*o->def_str)
                fputs("`\"\"`", out);
            else {
                fputc('`', out);
                md_cell(out, o->def_str);
                fputc('`', out);
            }
            break;
        case CT_INT:
            fprintf(out, "integer, %.0f to %.0f | `%.0f`", o->min, o->max, o->def_num);
            break;
        case CT_NUMBER:
            fprintf(out, "number, %g to %g%s | `%g`", o->min, o->max,
                    o->flags & CF_NEG_ONE ? " or -1" : "", o->def_num);
            break;
        case CT_BOOL:
            fprintf(out, "boolean | `%s`", o->def_num ? "true" : "false");
            break;
        }
        fputs(" | ", out);
        md_cell(out, o->doc);
        if (o->flags & CF_SECRET)
            fputs(" Secret: use `\"$ENV_VAR\"`.", out);
        fputs(" |\n", out);
    }
    fputs("\nAny string value written `\"$NAME\"` is read from the environment variable NAME. An unset variable is\n"
          "an error, except that a secret reads as empty in the commands that send nothing (`backup`, `user`,\n"
          "`import`, `export`, `ask`, `eval`), which an operator runs without the service's environment.\n", out);
}
