/* webchat.c - the built-in web chat channel and the static pages.
 *
 * A visitor is one contact of channel "web", known by a random token in an
 * HttpOnly cookie; the database stores only a hash of it, so a copy of the
 * database cannot be used to read someone's conversation.  A message goes
 * through the same pipeline as SMS and Zalo (limits, queue, opt-out); the
 * reply comes back in the same HTTP answer, and staff replies later through
 * polling. */
#include "adapters/adapter.h"
#include "bot/http.h"
#include "bot/log.h"
#include "bot/pipeline.h"

#include <errno.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define CHAT_COOKIE "hl_chat"
#define CHAT_MAX_TEXT 2000   /* characters, like Zalo's limit */

struct chat_wait {
    struct evhttp_request *req;
    hl_app *app;
    char cookie[128];        /* Set-Cookie value when the visitor is new */
};

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The contact address for a visitor token: a hash, never the token itself. */
static int visitor_address(const char *token, char *out, size_t outlen)
{
    size_t n = strlen(token);
    if (n != 64 || strspn(token, "0123456789abcdef") != n || outlen < 33)
        return -1;
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, n, md);
    hex(md, 16, out);
    return 0;
}

static int valid_utf8_chars(const char *s, size_t len, size_t *chars)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    size_t n = 0;
    while (len > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)len, &cp);
        if (k <= 0 || cp == 0)
            return -1;
        p += k;
        len -= (size_t)k;
        n++;
    }
    *chars = n;
    return 0;
}

static cJSON *out_message_json(sqlite3_stmt *st)
{
    cJSON *m = cJSON_CreateObject();
    if (!m)
        return NULL;
    cJSON_AddNumberToObject(m, "id", (double)sqlite3_column_int64(st, 0));
    cJSON_AddStringToObject(m, "direction", "out");
    const unsigned char *t = sqlite3_column_text(st, 1);
    cJSON_AddStringToObject(m, "text", t ? (const char *)t : "");
    cJSON_AddNumberToObject(m, "created_at", (double)sqlite3_column_int64(st, 2));
    const unsigned char *a = sqlite3_column_text(st, 3);
    cJSON_AddStringToObject(m, "from", a && strcmp((const char *)a, "bot") == 0 ? "bot" : "staff");
    return m;
}

static void on_processed(void *arg, int rc, long long message_id, int duplicate)
{
    (void)duplicate;
    struct chat_wait *w = arg;
    struct evhttp_request *req = w->req;
    hl_app *app = w->app;
    if (rc != 0) {
        http_reply_error(req, 503, "the hotline is busy, please retry");
        goto out;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON *arr = j ? cJSON_AddArrayToObject(j, "messages") : NULL;
    if (!arr) {
        cJSON_Delete(j);
        http_reply_error(req, 500, "out of memory");
        goto out;
    }
    cJSON_AddNumberToObject(j, "id", (double)message_id);
    sqlite3_stmt *st = store_stmt(app->db, "SELECT id, text, created_at, author FROM messages "
                                           "WHERE in_reply_to = ?1 AND direction = 'out' ORDER BY id");
    if (st) {
        sqlite3_bind_int64(st, 1, message_id);
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *m = out_message_json(st);
            if (m)
                cJSON_AddItemToArray(arr, m);
        }
        sqlite3_reset(st);
    }
    if (w->cookie[0])
        evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", w->cookie);
    http_reply_json(req, 200, j);
out:
    http_request_end(app->server);
    free(w);
}

static void handle_send(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    if (!app->cfg.web_enabled) {
        http_reply_error(req, 404, "web chat is disabled");
        return;
    }
    cJSON *body = http_json_body(req);
    if (!body)
        return;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(body, "text");
    size_t chars = 0;
    if (!cJSON_IsString(t)) {
        cJSON_Delete(body);
        http_reply_error(req, 400, "text: expected a string");
        return;
    }
    if (valid_utf8_chars(t->valuestring, strlen(t->valuestring), &chars) != 0) {
        cJSON_Delete(body);
        http_reply_error(req, 400, "text: invalid UTF-8");
        return;
    }
    if (chars == 0 || strspn(t->valuestring, " \t\r\n") == strlen(t->valuestring)) {
        cJSON_Delete(body);
        http_reply_error(req, 400, "text: empty");
        return;
    }
    if (chars > CHAT_MAX_TEXT) {
        cJSON_Delete(body);
        http_reply_error(req, 413, "text: longer than 2000 characters");
        return;
    }
    struct chat_wait *w = calloc(1, sizeof *w);
    if (!w) {
        cJSON_Delete(body);
        http_reply_error(req, 503, "out of memory");
        return;
    }
    char token[65] = "";
    char *cookie = http_cookie(req, CHAT_COOKIE);
    adapter_inbound ev = {.kind = AD_TEXT};
    if (!cookie || visitor_address(cookie, ev.address, sizeof ev.address) != 0) {
        unsigned char rnd[32];
        if (RAND_bytes(rnd, sizeof rnd) != 1) {
            free(cookie);
            free(w);
            cJSON_Delete(body);
            http_reply_error(req, 503, "no randomness available");
            return;
        }
        hex(rnd, sizeof rnd, token);
        visitor_address(token, ev.address, sizeof ev.address);
        snprintf(w->cookie, sizeof w->cookie,
                 "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000", CHAT_COOKIE, token);
    }
    free(cookie);
    ev.text = t->valuestring;
    w->req = req;
    w->app = app;
    http_request_begin(app->server);
    int rc = pipeline_submit(app, "web", &ev, on_processed, w);
    cJSON_Delete(body);
    if (rc != 0) {
        http_request_end(app->server);
        free(w);
        http_reply_error(req, 503, "out of memory");
    }
}

static void handle_poll(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    if (!app->cfg.web_enabled) {
        http_reply_error(req, 404, "web chat is disabled");
        return;
    }
    char *after_s = http_query(req, "after");
    char *end = NULL;
    errno = 0;
    long long after = after_s ? strtoll(after_s, &end, 10) : 0;
    int bad = after_s && (!*after_s || *end || after < 0 || errno == ERANGE);
    free(after_s);
    if (bad) {
        http_reply_error(req, 400, "after: expected a non-negative integer");
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON *arr = j ? cJSON_AddArrayToObject(j, "messages") : NULL;
    if (!arr) {
        cJSON_Delete(j);
        http_reply_error(req, 500, "out of memory");
        return;
    }
    char addr[40];
    char *cookie = http_cookie(req, CHAT_COOKIE);
    if (cookie && visitor_address(cookie, addr, sizeof addr) == 0) {
        sqlite3_stmt *st = store_stmt(
            app->db, "SELECT m.id, m.text, m.created_at, m.author FROM messages m JOIN contacts c "
                     "ON c.id = m.contact_id WHERE c.channel = 'web' AND c.address = ?1 AND "
                     "m.direction = 'out' AND m.id > ?2 ORDER BY m.id LIMIT 100");
        if (st) {
            store_bind_text(st, 1, addr);
            sqlite3_bind_int64(st, 2, after);
            while (sqlite3_step(st) == SQLITE_ROW) {
                cJSON *m = out_message_json(st);
                if (m)
                    cJSON_AddItemToArray(arr, m);
            }
            sqlite3_reset(st);
        }
    }
    free(cookie);
    http_reply_json(req, 200, j);
}

static void handle_chat_page(struct evhttp_request *req, hl_app *app, const char *tail)
{
    if (!app->cfg.web_enabled) {
        if (strcmp(http_path(req), "/") == 0) {
            evhttp_add_header(evhttp_request_get_output_headers(req), "Location", "/console/");
            http_reply_text(req, 302, NULL, "", 0);
        } else {
            http_reply_error(req, 404, "web chat is disabled");
        }
        return;
    }
    http_reply_file(req, app->cfg.web_dir, tail);
}

static void handle_console(struct evhttp_request *req, hl_app *app, const char *tail)
{
    http_reply_file(req, app->cfg.console_dir, tail);
}

static void handle_redirect_console(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)app;
    (void)tail;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Location", "/console/");
    http_reply_text(req, 301, NULL, "", 0);
}

int webchat_register(hl_app *app)
{
    return http_route(app, HTTP_GET | HTTP_HEAD, "/", handle_chat_page) |
           http_route(app, HTTP_GET | HTTP_HEAD, "/chat/", handle_chat_page) |
           http_route(app, HTTP_POST, "/chat/send", handle_send) |
           http_route(app, HTTP_GET, "/chat/poll", handle_poll) |
           http_route(app, HTTP_GET | HTTP_HEAD, "/console", handle_redirect_console) |
           http_route(app, HTTP_GET | HTTP_HEAD, "/console/", handle_console);
}
