/* adapter.h - one channel (Zalo OA, Kannel, Twilio, eSMS) behind one struct.
 *
 * An adapter is pure translation between a vendor's wire format and ours: it
 * parses and verifies an inbound HTTP request, builds the HTTP request that
 * sends a reply, interprets the provider's answer and delivery reports.  It
 * does no I/O and keeps no state: the daemon (bot/) owns the sockets, the
 * database and the retry policy, and nothing outside adapters/ knows a
 * vendor's field names.  Adapters know nothing of matching. */
#ifndef HOTLINE_ADAPTER_H
#define HOTLINE_ADAPTER_H

#include <stddef.h>
#include "bot/config.h"

/* ---- inbound ---------------------------------------------------------- */

typedef struct adapter_http_in {
    const char *method;         /* "GET", "POST" */
    const char *path;           /* decoded path, e.g. "/webhook/zalo" */
    const char *query;          /* raw query string (after '?'), or NULL */
    const char *body;           /* raw bytes exactly as received (may hold NULs) */
    size_t body_len;
    const char *remote_addr;
    /* Case-insensitive header lookup; NULL when absent. */
    const char *(*header)(const struct adapter_http_in *in, const char *name);
    void *ctx;                  /* for header() */
} adapter_http_in;

enum adapter_event {
    AD_TEXT = 0,    /* a text message from a citizen */
    AD_MEDIA,       /* image, sticker, file, audio, location, ...: not text */
    AD_FOLLOW,      /* the user followed the OA */
    AD_UNFOLLOW,
    AD_IGNORE,      /* echoes of our own messages, seen/received receipts, unknown events */
};

typedef struct adapter_inbound {
    enum adapter_event kind;
    char provider_id[128];      /* provider's message id; "" when it has none */
    char address[128];          /* the citizen: phone number or Zalo user id (as a string) */
    char *text;                 /* malloc'd UTF-8, or NULL; freed by adapter_parse_clear */
    char media_type[24];        /* for AD_MEDIA: "image", "sticker", ...;
                                   for AD_IGNORE: the provider's event name (to log) */
    long long ts_ms;            /* provider's timestamp, 0 if none */
} adapter_inbound;

#define ADAPTER_MAX_EVENTS 8

/* What parse_inbound / parse_dlr produce, and how the daemon must answer. */
typedef struct adapter_parse {
    adapter_inbound ev[ADAPTER_MAX_EVENTS];
    size_t n;
    int status;                 /* HTTP status: the 2xx to send once stored, or the 4xx */
    const char *content_type;   /* of body; NULL means text/plain */
    char body[128];             /* response body for the 2xx (e.g. Twilio "<Response/>") */
    char error[160];            /* reason for the 4xx, safe to send and log (no secrets) */
} adapter_parse;

void adapter_parse_clear(adapter_parse *p);

/* ---- delivery reports -------------------------------------------------- */

enum adapter_dlr_state { AD_DLR_ACCEPTED = 0, AD_DLR_DELIVERED, AD_DLR_FAILED };

typedef struct adapter_dlr {
    long long outbox_id;        /* ours, when the provider echoes it (dlr-url, RequestId); 0 otherwise */
    char provider_id[128];      /* the provider's id for the sent message, "" if none */
    enum adapter_dlr_state state;
    char code[32];              /* provider's status/error code, "" if none */
    char message[160];
    int opted_out;              /* the provider says the recipient opted out */
} adapter_dlr;

/* ---- outbound ---------------------------------------------------------- */

typedef struct adapter_out {
    long long outbox_id;
    const char *address;        /* the citizen */
    const char *text;           /* already rendered for the channel (sms_render for SMS) */
    int coding;                 /* SMS: 0 GSM 7-bit, 2 UCS-2 */
    const char *access_token;   /* Zalo: the current OA access token */
    const char *public_url;     /* our public base URL, for callbacks */
} adapter_out;

#define ADAPTER_MAX_HEADERS 8

typedef struct adapter_request {
    char method[8];             /* "GET" | "POST" */
    char *url;                  /* malloc'd */
    char *headers[ADAPTER_MAX_HEADERS];   /* "Name: value", malloc'd */
    size_t n_headers;
    char *body;                 /* malloc'd or NULL */
    size_t body_len;
    char *userpwd;              /* HTTP Basic "user:password", malloc'd or NULL */
} adapter_request;

void adapter_request_free(adapter_request *r);
int adapter_request_header(adapter_request *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

enum adapter_send_status {
    AD_SENT = 0,        /* accepted by the provider */
    AD_RETRY,           /* transient: timeout, connection error, 429, 5xx, rate limit */
    AD_FAILED,          /* permanent: record code and message, show to staff */
    AD_TOKEN_EXPIRED,   /* refresh the access token and retry once */
};

typedef struct adapter_result {
    enum adapter_send_status status;
    char provider_id[128];
    char code[32];
    char message[160];
    int opted_out;              /* e.g. Twilio 21610: mark the contact */
} adapter_result;

typedef struct adapter_token {
    char access_token[1024];
    char refresh_token[1024];
    long long expires_in;       /* seconds */
} adapter_token;

typedef struct adapter {
    const char *name;           /* "zalo", "kannel", "twilio", "esms" */
    int is_sms;                 /* replies are rendered with sms_render */
    size_t max_chars;           /* split longer replies (Zalo: 2000); 0 = no split */
    const char *inbound_path;   /* e.g. "/webhook/zalo"; NULL when outbound-only */
    const char *dlr_path;       /* delivery reports; NULL when none */

    /* 1 when cfg holds what this channel needs (its routes answer 404 otherwise). */
    int (*configured)(const hl_config *cfg);
    /* 1 when the channel can send (some are receive-only until configured). */
    int (*can_send)(const hl_config *cfg);

    /* Verify and parse an inbound request.  0: out->ev[0..n) are ready to be
     * stored, then answer out->status/out->body.  -1: answer out->status
     * (4xx) with out->error, and store nothing. */
    int (*parse_inbound)(const hl_config *cfg, const adapter_http_in *in, adapter_parse *out);
    /* Same contract for delivery reports. */
    int (*parse_dlr)(const hl_config *cfg, const adapter_http_in *in, adapter_dlr *dlr,
                     adapter_parse *out);

    /* Build the request that sends one message.  0 or -1 (then err says why). */
    int (*build_send)(const hl_config *cfg, const adapter_out *msg, adapter_request *req,
                      char *err, size_t errlen);
    /* Classify the provider's answer.  transport_error is non-zero when no
     * HTTP answer came (timeout, refused): then http_status is 0. */
    void (*interpret)(const hl_config *cfg, long http_status, const char *body, size_t len,
                      int transport_error, adapter_result *res);

    /* Token lifecycle, NULL for channels without one (Zalo OAuth v4). */
    int (*build_refresh)(const hl_config *cfg, const char *refresh_token, adapter_request *req,
                         char *err, size_t errlen);
    int (*parse_refresh)(const hl_config *cfg, long http_status, const char *body, size_t len,
                         adapter_token *tok, char *err, size_t errlen);
} adapter;

extern const adapter adapter_zalo, adapter_kannel, adapter_twilio, adapter_esms;

/* NULL-terminated list of every adapter. */
const adapter *const *adapter_all(void);
const adapter *adapter_by_name(const char *name);

/* ---- SMS rendering (sms.c), shared by every SMS channel ----------------- */

/* 1 when every character is in the GSM 03.38 default alphabet or its extension table. */
int sms_is_gsm7(const char *utf8);
/* Number of parts: GSM-7 160/153 (extension characters count two), UCS-2
 * 70/67 (UTF-16 code units).  *coding gets 0 or 2. */
int sms_segments(const char *utf8, int *coding);
/* Vietnamese without marks: NFD, drop combining marks, đ->d, Đ->D; case kept. malloc'd. */
char *sms_unaccent(const char *utf8);
/* The text to send: policy "auto" (unaccent when that saves parts), "always"
 * or "never"; at most max_segments parts, cut cleanly at a word boundary and
 * ending with a pointer to the hotline number when cut.  malloc'd. */
char *sms_render(const char *text, const char *policy, int max_segments, const char *hotline,
                 int *coding, int *segments);

/* Split text for channels with a per-message limit (Zalo 2000 characters),
 * at paragraph, sentence or word boundaries.  Returns the number of parts
 * written into parts[] (malloc'd strings), at most max_parts; -1 on error. */
int adapter_split(const char *text, size_t max_chars, char **parts, int max_parts);

/* ---- helpers shared by the adapter implementations (adapter.c) ---------- */

/* 1 when s is a non-empty string (config strings may be NULL or ""). */
int adapter_isset(const char *s);
/* Refuses a request: out->status = status, out->error = msg.  Returns -1,
 * so a parser can end with `return adapter_fail(out, 400, "...")`. */
int adapter_fail(adapter_parse *out, int status, const char *msg);
/* Constant-time equality of two NUL-terminated secrets (compares their
 * SHA-256 digests, so neither the content nor the length leaks).  1 equal. */
int adapter_secret_eq(const char *a, const char *b);

/* A decoded application/x-www-form-urlencoded (or query) field.  value may
 * hold NULs (e.g. UTF-16BE text), hence value_len. */
typedef struct adapter_field {
    char *name;
    char *value;
    size_t value_len;
} adapter_field;

typedef struct adapter_form {
    adapter_field *f;
    size_t n;
} adapter_form;

/* Parses "a=1&b=x+y%2B" ('+' is a space); tolerant of keys without '='.
 * Appends to form.  0 / -1 (out of memory). */
int adapter_form_parse(adapter_form *form, const char *s, size_t len);
/* First value for name (case-sensitive), or NULL. */
const adapter_field *adapter_form_get(const adapter_form *form, const char *name);
const char *adapter_form_str(const adapter_form *form, const char *name);
void adapter_form_free(adapter_form *form);
/* The verdict when no HTTP answer came (timeout, refused): AD_RETRY, code
 * "transport", message "no answer from <provider>". */
void adapter_no_answer(adapter_result *res, const char *provider);
/* Percent-encodes every byte but RFC 3986 unreserved ones.  malloc'd. */
char *adapter_urlencode(const char *s);
/* Appends "name=<urlencoded value>" to the query *q (malloc'd or NULL),
 * with a '&' when *q is not empty.  0 / -1 (ENOMEM; *q is left as it was). */
int adapter_query_add(char **q, const char *name, const char *value);
/* base + suffix with a single '/' between them (base's trailing '/' dropped). malloc'd. */
char *adapter_join_url(const char *base, const char *suffix);

/* A JSON value as text, whatever its JSON type: a string's content, or the
 * raw text of a number exactly as sent (19-digit ids must never go through
 * a double).  The value is found by following the NULL-terminated keys from
 * root, which was parsed from raw[0..len).  0, or -1 when absent, not a
 * string/number, or longer than outlen - 1. */
struct cJSON;
int adapter_json_text(const char *raw, size_t len, const struct cJSON *root, char *out,
                      size_t outlen, ...) __attribute__((sentinel));

#endif
