/* test_config.c - the configuration loader: defaults, the example file,
 * environment substitution, and every kind of error naming its key.
 *
 * Run from the repository root (it reads deploy/hotline.json and README.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "bot/cli_config.h"
#include "bot/config.h"
#include "knowledge/kb.h"

/* Every key the contract names (issue 2 and config.h), written out here
 * rather than taken from config.c, so the table cannot drift unnoticed. */
static const char *const all_keys[] = {
    "listen", "database", "database_synchronous", "public_url", "log_level", "hotline_number",
    "http.max_body", "http.max_headers", "http.timeout", "http.max_connections", "http.trusted_proxies",
    "knowledge.corpus", "knowledge.lexicon", "knowledge.threshold", "knowledge.gap",
    "queue.holding_text", "queue.optout_text", "queue.non_text_reply",
    "limits.auto_replies", "limits.window", "sms.unaccent", "sms.max_segments", "sms.send_via",
    "outbox.max_attempts", "outbox.backoff_base_ms", "outbox.backoff_max_ms", "outbox.timeout_ms",
    "outbox.concurrency", "console.dir", "console.session_ttl", "console.login_max_attempts",
    "channels.web.enabled", "channels.web.dir",
    "channels.zalo.app_id", "channels.zalo.oa_secret", "channels.zalo.app_secret",
    "channels.zalo.refresh_token", "channels.zalo.api_base", "channels.zalo.oauth_base",
    "channels.kannel.sendsms_url", "channels.kannel.username", "channels.kannel.password",
    "channels.kannel.from", "channels.kannel.webhook_token",
    "channels.twilio.account_sid", "channels.twilio.auth_token", "channels.twilio.from",
    "channels.twilio.public_url", "channels.twilio.api_base",
    "channels.esms.api_key", "channels.esms.secret_key", "channels.esms.brandname",
    "channels.esms.api_base",
};
#define N_KEYS (sizeof all_keys / sizeof all_keys[0])

static const char *const secret_keys[] = {
    "channels.zalo.oa_secret", "channels.zalo.app_secret", "channels.zalo.refresh_token",
    "channels.kannel.password", "channels.kannel.webhook_token", "channels.twilio.auth_token",
    "channels.esms.api_key", "channels.esms.secret_key",
};

/* The environment deploy/hotline.json refers to. */
static const char *const deploy_env[][2] = {
    {"HOTLINE_ZALO_OA_SECRET", "zalo-oa-secret"},
    {"HOTLINE_ZALO_APP_SECRET", "zalo-app-secret"},
    {"HOTLINE_ZALO_REFRESH_TOKEN", "zalo-refresh"},
    {"HOTLINE_KANNEL_PASSWORD", "kannel-pass"},
    {"HOTLINE_KANNEL_WEBHOOK_TOKEN", "kannel-token"},
    {"HOTLINE_TWILIO_AUTH_TOKEN", "twilio-token"},
    {"HOTLINE_ESMS_API_KEY", "esms-key"},
    {"HOTLINE_ESMS_SECRET_KEY", "esms-secret"},
};

/* A repository file, read with the library's reader (NULL if missing). */
static char *read_all(const char *path)
{
    size_t len;
    char err[256];
    return kb_read_file(path, &len, err, sizeof err);
}

static char *describe_text(void)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    config_describe(f);
    long len = ftell(f);
    assert_true(len > 0);
    rewind(f);
    char *text = malloc((size_t)len + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    text[len] = '\0';
    fclose(f);
    return text;
}

/* Loads text; expects an error containing every given fragment. */
static void expect_error(const char *json, ...)
{
    hl_config cfg;
    char err[512] = "";
    int rc = config_load_text(&cfg, json, strlen(json), err, sizeof err);
    if (rc == 0)
        fail_msg("accepted: %s", json);
    va_list ap;
    va_start(ap, json);
    for (const char *frag; (frag = va_arg(ap, const char *));)
        if (!strstr(err, frag))
            fail_msg("for %s: error \"%s\" lacks \"%s\"", json, err, frag);
    va_end(ap);
    /* on error the struct holds nothing */
    assert_null(cfg.listen);
    assert_null(cfg.holding_text);
    config_free(&cfg);
}

static void load_ok(hl_config *cfg, const char *json)
{
    char err[512] = "";
    if (config_load_text(cfg, json, strlen(json), err, sizeof err) != 0)
        fail_msg("rejected %s: %s", json, err);
}

static void test_defaults(void **state)
{
    (void)state;
    hl_config c;
    assert_int_equal(config_defaults(&c), 0);
    assert_string_equal(c.listen, "127.0.0.1:8080");
    assert_string_equal(c.database, "var/hotline.db");
    assert_string_equal(c.database_synchronous, "FULL");
    assert_string_equal(c.public_url, "");
    assert_string_equal(c.log_level, "info");
    assert_string_equal(c.hotline_number, "1022");
    assert_int_equal(c.http_max_body, 65536);
    assert_int_equal(c.http_max_headers, 8192);
    assert_int_equal(c.http_timeout, 30);
    assert_int_equal(c.http_max_connections, 1024);
    assert_string_equal(c.kb_corpus, "knowledge/data/faq.json");
    assert_string_equal(c.kb_lexicon, "knowledge/data/lexicon.json");
    assert_true(c.kb_threshold == -1);
    assert_true(c.kb_gap == -1);
    assert_non_null(strstr(c.holding_text, "Tổng đài"));
    assert_non_null(strstr(c.optout_text, "tự động"));
    assert_non_null(strstr(c.non_text_reply, "văn bản"));
    /* they fit hl_settings' buffers (1024, 512, 512 bytes) */
    assert_true(strlen(c.holding_text) < 1024);
    assert_true(strlen(c.optout_text) < 512);
    assert_true(strlen(c.non_text_reply) < 512);
    assert_int_equal(c.limit_auto_replies, 5);
    assert_int_equal(c.limit_window, 600);
    assert_string_equal(c.sms_unaccent, "auto");
    assert_int_equal(c.sms_max_segments, 3);
    assert_int_equal(c.outbox_max_attempts, 10);
    assert_int_equal(c.outbox_backoff_base, 1000);
    assert_int_equal(c.outbox_backoff_max, 300000);
    assert_int_equal(c.outbox_timeout, 10000);
    assert_int_equal(c.outbox_concurrency, 32);
    assert_string_equal(c.console_dir, "bot/console");
    assert_int_equal(c.session_ttl, 43200);
    assert_int_equal(c.login_max_attempts, 5);
    assert_int_equal(c.web_enabled, 1);
    assert_string_equal(c.web_dir, "bot/chat");
    assert_null(c.zalo.app_id);
    assert_null(c.zalo.oa_secret);
    assert_null(c.zalo.app_secret);
    assert_null(c.zalo.refresh_token);
    assert_string_equal(c.zalo.api_base, "https://openapi.zalo.me");
    assert_string_equal(c.zalo.oauth_base, "https://oauth.zaloapp.com");
    assert_null(c.kannel.sendsms_url);
    assert_null(c.kannel.username);
    assert_null(c.kannel.password);
    assert_null(c.kannel.from);
    assert_null(c.kannel.webhook_token);
    assert_null(c.twilio.account_sid);
    assert_null(c.twilio.auth_token);
    assert_null(c.twilio.from);
    assert_null(c.twilio.public_url);
    assert_string_equal(c.twilio.api_base, "https://api.twilio.com");
    assert_null(c.esms.api_key);
    assert_null(c.esms.secret_key);
    assert_null(c.esms.brandname);
    assert_string_equal(c.esms.api_base, "https://rest.esms.vn");
    config_free(&c);
    assert_null(c.listen);
    assert_null(c.zalo.api_base);
    config_free(&c);    /* twice is harmless */
}

/* An empty file, and one with only empty sections, is the default. */
static void test_empty_object_is_default(void **state)
{
    (void)state;
    hl_config c;
    load_ok(&c, "{}");
    assert_string_equal(c.listen, "127.0.0.1:8080");
    assert_int_equal(c.http_max_body, 65536);
    config_free(&c);
    load_ok(&c, " {\"http\": {}, \"channels\": {\"zalo\": {}}}\n");
    assert_int_equal(c.http_timeout, 30);
    assert_null(c.zalo.app_id);
    config_free(&c);
}

static void test_overrides(void **state)
{
    (void)state;
    hl_config c;
    load_ok(&c, "{\"listen\": \"[::1]:9090\", \"database_synchronous\": \"normal\","
                " \"log_level\": \"DEBUG\", \"http\": {\"max_body\": 1024, \"timeout\": 5},"
                " \"knowledge\": {\"threshold\": 0.55, \"gap\": 0},"
                " \"sms\": {\"unaccent\": \"never\", \"max_segments\": 10},"
                " \"channels\": {\"web\": {\"enabled\": false}, \"zalo\": {\"app_id\": \"42\"}}}");
    assert_string_equal(c.listen, "[::1]:9090");
    assert_string_equal(c.database_synchronous, "NORMAL");     /* canonical spelling */
    assert_string_equal(c.log_level, "debug");
    assert_int_equal(c.http_max_body, 1024);
    assert_int_equal(c.http_timeout, 5);
    assert_int_equal(c.http_max_headers, 8192);                 /* untouched: default */
    assert_true(c.kb_threshold == 0.55);
    assert_true(c.kb_gap == 0);
    assert_string_equal(c.sms_unaccent, "never");
    assert_int_equal(c.sms_max_segments, 10);
    assert_int_equal(c.web_enabled, 0);
    assert_string_equal(c.zalo.app_id, "42");
    config_free(&c);

    /* "" and null unset an optional string; 1e3 is an integer */
    load_ok(&c, "{\"channels\": {\"zalo\": {\"app_id\": \"\"}, \"kannel\": {\"username\": null}},"
                " \"http\": {\"max_body\": 2e3, \"max_headers\": 2048.0}}");
    assert_null(c.zalo.app_id);
    assert_null(c.kannel.username);
    assert_int_equal(c.http_max_body, 2000);
    assert_int_equal(c.http_max_headers, 2048);
    config_free(&c);
}

static void set_deploy_env(void)
{
    for (size_t i = 0; i < sizeof deploy_env / sizeof deploy_env[0]; i++)
        setenv(deploy_env[i][0], deploy_env[i][1], 1);
}

static void test_deploy_example(void **state)
{
    (void)state;
    set_deploy_env();
    hl_config c;
    char err[512] = "";
    if (config_load(&c, "deploy/hotline.json", err, sizeof err) != 0)
        fail_msg("deploy/hotline.json: %s", err);
    assert_string_equal(c.listen, "0.0.0.0:8080");
    assert_string_equal(c.public_url, "https://hotline.example.gov.vn");
    assert_string_equal(c.zalo.oa_secret, "zalo-oa-secret");
    assert_string_equal(c.zalo.app_secret, "zalo-app-secret");
    assert_string_equal(c.zalo.refresh_token, "zalo-refresh");
    assert_string_equal(c.kannel.password, "kannel-pass");
    assert_string_equal(c.kannel.webhook_token, "kannel-token");
    assert_string_equal(c.twilio.auth_token, "twilio-token");
    assert_string_equal(c.esms.api_key, "esms-key");
    assert_string_equal(c.esms.secret_key, "esms-secret");
    assert_string_equal(c.kannel.sendsms_url, "http://127.0.0.1:13013/cgi-bin/sendsms");
    assert_string_equal(c.esms.brandname, "TONGDAI1022");
    config_free(&c);

    /* "a full example with every key": each one is present in the file */
    char *text = read_all("deploy/hotline.json");
    assert_non_null(text);
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    for (size_t i = 0; i < N_KEYS; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s", all_keys[i]);
        const cJSON *node = root;
        for (char *save, *part = strtok_r(path, ".", &save); part && node;
             part = strtok_r(NULL, ".", &save))
            node = cJSON_GetObjectItemCaseSensitive(node, part);
        if (!node)
            fail_msg("deploy/hotline.json lacks %s", all_keys[i]);
    }
    /* and no secret is written there in clear */
    for (size_t i = 0; i < sizeof secret_keys / sizeof secret_keys[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s", secret_keys[i]);
        const cJSON *node = root;
        for (char *save, *part = strtok_r(path, ".", &save); part && node;
             part = strtok_r(NULL, ".", &save))
            node = cJSON_GetObjectItemCaseSensitive(node, part);
        assert_true(cJSON_IsString(node));
        if (strncmp(node->valuestring, "$HOTLINE_", 9) != 0)
            fail_msg("%s is not an environment reference", secret_keys[i]);
    }
    cJSON_Delete(root);
    free(text);
}

static void test_env_substitution(void **state)
{
    (void)state;
    setenv("HL_TEST_SECRET", "s3cr3t value", 1);
    setenv("HL_TEST_LISTEN", "0.0.0.0:9000", 1);
    setenv("HL_TEST_SYNC", "off", 1);
    setenv("_HL", "underscore", 1);
    hl_config c;
    load_ok(&c, "{\"listen\": \"$HL_TEST_LISTEN\", \"database_synchronous\": \"$HL_TEST_SYNC\","
                " \"channels\": {\"zalo\": {\"oa_secret\": \"$HL_TEST_SECRET\"},"
                " \"kannel\": {\"username\": \"$_HL\", \"from\": \"$1abc\", \"password\": \"a$HL_TEST_SECRET\"},"
                " \"esms\": {\"brandname\": \"$\"}}}");
    assert_string_equal(c.listen, "0.0.0.0:9000");
    assert_string_equal(c.database_synchronous, "OFF");     /* checked after substitution */
    assert_string_equal(c.zalo.oa_secret, "s3cr3t value");
    assert_string_equal(c.kannel.username, "underscore");
    /* not of the exact form "$NAME": taken literally */
    assert_string_equal(c.kannel.from, "$1abc");
    assert_string_equal(c.kannel.password, "a$HL_TEST_SECRET");
    assert_string_equal(c.esms.brandname, "$");
    config_free(&c);
    unsetenv("HL_TEST_LISTEN");
    unsetenv("HL_TEST_SYNC");
    unsetenv("_HL");
}

static void test_env_unset(void **state)
{
    (void)state;
    unsetenv("HL_TEST_MISSING");
    expect_error("{\"channels\": {\"twilio\": {\"auth_token\": \"$HL_TEST_MISSING\"}}}",
                 "channels.twilio.auth_token", "HL_TEST_MISSING", "not set", NULL);
    expect_error("{\"listen\": \"$HL_TEST_MISSING\"}", "listen: ", "HL_TEST_MISSING", NULL);
    /* a variable set to a bad value is checked like a literal */
    setenv("HL_TEST_BAD", "nowhere", 1);
    expect_error("{\"listen\": \"$HL_TEST_BAD\"}", "listen: ", "host:port", NULL);
    unsetenv("HL_TEST_BAD");
}

static void test_unknown_keys(void **state)
{
    (void)state;
    expect_error("{\"listn\": \"x\"}", "listn: unknown key", "did you mean listen", NULL);
    expect_error("{\"channels\": {\"zalo\": {\"app_idd\": \"1\"}}}",
                 "channels.zalo.app_idd: unknown key", NULL);
    expect_error("{\"channels\": {\"viber\": {}}}", "channels.viber: unknown key", NULL);
    expect_error("{\"http\": {\"max_body\": 2048, \"keepalive\": true}}",
                 "http.keepalive: unknown key", NULL);
    expect_error("{\"zzzzzzzzzz\": 1}", "zzzzzzzzzz: unknown key", NULL);
    /* a dotted name is not a path */
    expect_error("{\"http.max_body\": 2048}", "http.max_body: unknown key", NULL);
    expect_error("{\"\": 1}", ": unknown key", NULL);
    expect_error("{\"listen\": \"a:1\", \"listen\": \"b:2\"}", "listen: duplicate key", NULL);
}

static void test_wrong_types(void **state)
{
    (void)state;
    expect_error("{\"listen\": 8080}", "listen: expected a string", NULL);
    expect_error("{\"channels\": {\"esms\": {\"brandname\": [\"x\"]}}}",
                 "channels.esms.brandname: expected a string", NULL);
    expect_error("{\"database\": null}", "database: expected a string", NULL);
    expect_error("{\"http\": {\"max_body\": \"65536\"}}", "http.max_body: expected an integer", NULL);
    expect_error("{\"http\": {\"max_body\": 2048.5}}", "http.max_body: expected an integer", NULL);
    expect_error("{\"limits\": {\"window\": true}}", "limits.window: expected an integer", NULL);
    expect_error("{\"knowledge\": {\"threshold\": \"0.5\"}}",
                 "knowledge.threshold: expected a number", NULL);
    expect_error("{\"channels\": {\"web\": {\"enabled\": 1}}}",
                 "channels.web.enabled: expected true or false", NULL);
    expect_error("{\"channels\": {\"web\": {\"enabled\": \"yes\"}}}",
                 "channels.web.enabled: expected true or false", NULL);
    expect_error("{\"http\": 5}", "http: expected an object", NULL);
    expect_error("{\"channels\": {\"zalo\": \"on\"}}", "channels.zalo: expected an object", NULL);
    expect_error("{\"listen\": {\"host\": \"x\"}}", "listen: expected a string", NULL);
    expect_error("[1, 2]", "expected an object", NULL);
    expect_error("\"listen\"", "expected an object", NULL);
}

static void test_out_of_range(void **state)
{
    (void)state;
    expect_error("{\"http\": {\"max_body\": 1023}}", "http.max_body: must be between 1024 and 16777216", NULL);
    expect_error("{\"http\": {\"max_body\": 16777217}}", "http.max_body: must be between", NULL);
    expect_error("{\"http\": {\"max_body\": 1e300}}", "http.max_body: must be between", NULL);
    expect_error("{\"sms\": {\"max_segments\": 0}}", "sms.max_segments: must be between 1 and 10", NULL);
    expect_error("{\"sms\": {\"max_segments\": 11}}", "sms.max_segments: must be between 1 and 10", NULL);
    expect_error("{\"knowledge\": {\"threshold\": 1.5}}", "knowledge.threshold: must be between 0 and 1", NULL);
    expect_error("{\"knowledge\": {\"gap\": -0.5}}", "knowledge.gap: must be between 0 and 1", NULL);
    expect_error("{\"outbox\": {\"concurrency\": -1}}", "outbox.concurrency: must be between", NULL);
    expect_error("{\"outbox\": {\"backoff_base_ms\": 5000, \"backoff_max_ms\": 4000}}",
                 "outbox.backoff_max_ms: must be at least outbox.backoff_base_ms", NULL);
    expect_error("{\"database_synchronous\": \"FAST\"}", "database_synchronous: must be one of",
                 "FULL", "\"FAST\"", NULL);
    expect_error("{\"log_level\": \"verbose\"}", "log_level: must be one of", NULL);
    expect_error("{\"sms\": {\"unaccent\": \"yes\"}}", "sms.unaccent: must be one of", NULL);
    expect_error("{\"listen\": \"localhost\"}", "listen: expected \"host:port\"", NULL);
    expect_error("{\"listen\": \"127.0.0.1:70000\"}", "listen: ", NULL);
    expect_error("{\"listen\": \":8080\"}", "listen: ", NULL);
    expect_error("{\"database\": \"\"}", "database: must not be empty", NULL);
    expect_error("{\"public_url\": \"hotline.example.vn\"}", "public_url: expected an http", NULL);
    expect_error("{\"channels\": {\"zalo\": {\"api_base\": \"\"}}}", "channels.zalo.api_base: expected an http", NULL);

    char json[2200];
    char big[1100];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    snprintf(json, sizeof json, "{\"queue\": {\"holding_text\": \"%s\"}}", big);
    expect_error(json, "queue.holding_text: longer than 1023 bytes", NULL);

    /* the bounds themselves and -1 are accepted */
    hl_config c;
    load_ok(&c, "{\"http\": {\"max_body\": 16777216}, \"knowledge\": {\"threshold\": 1, \"gap\": -1},"
                " \"sms\": {\"max_segments\": 1}, \"limits\": {\"auto_replies\": 0}}");
    assert_int_equal(c.http_max_body, 16777216);
    assert_true(c.kb_threshold == 1);
    assert_true(c.kb_gap == -1);
    assert_int_equal(c.sms_max_segments, 1);
    assert_int_equal(c.limit_auto_replies, 0);
    config_free(&c);
}

/* No error message carries a secret's value. */
static void test_secrets_not_printed(void **state)
{
    (void)state;
    setenv("HL_TEST_SECRET", "hunter2-value", 1);
    const char *cases[] = {
        "{\"channels\": {\"kannel\": {\"password\": \"$HL_TEST_SECRET\"}}, \"listen\": 1}",
        "{\"channels\": {\"esms\": {\"api_key\": \"$HL_TEST_SECRET\", \"api_kee\": \"hunter2-value\"}}}",
        "{\"channels\": {\"zalo\": {\"oa_secret\": [\"hunter2-value\"]}}}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hl_config c;
        char err[512] = "";
        assert_int_equal(config_load_text(&c, cases[i], strlen(cases[i]), err, sizeof err), -1);
        assert_true(err[0] != '\0');
        if (strstr(err, "hunter2"))
            fail_msg("secret in error: %s", err);
    }
}

static void test_invalid_json(void **state)
{
    (void)state;
    expect_error("{\n  \"listen\": \"a:1\",\n  \"database\" \"x\"\n}\n", "invalid JSON", "line 3", NULL);
    expect_error("{\n\"http\": {\"max_body\": 1024,}\n}", "line 2", NULL);
    expect_error("{} trailing", "invalid JSON", "line 1", NULL);
    expect_error("{}\n\n}", "invalid JSON", "line 3", NULL);
    expect_error("", "invalid JSON", "line 1", NULL);

    char path[] = "/tmp/hl_test_config_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *bad = "{\n  \"listen\": \"127.0.0.1:8080\",\n\n  \"http\": {\"max_body\": 1024\n}\n";
    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    close(fd);
    hl_config c;
    char err[512] = "";
    assert_int_equal(config_load(&c, path, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "invalid JSON at line 5"));

    /* a file's key errors name the file as well */
    const char *unknown = "{\"channels\": {\"zalo\": {\"app_idd\": \"1\"}}}";
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(unknown, f);
    fclose(f);
    assert_int_equal(config_load(&c, path, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "channels.zalo.app_idd: unknown key"));

    /* a byte order mark is accepted */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("\xEF\xBB\xBF{\"hotline_number\": \"1900\"}\n", f);
    fclose(f);
    assert_int_equal(config_load(&c, path, err, sizeof err), 0);
    assert_string_equal(c.hotline_number, "1900");
    config_free(&c);
    unlink(path);
}

static void test_unreadable_file(void **state)
{
    (void)state;
    hl_config c;
    char err[512] = "";
    assert_int_equal(config_load(&c, "/nonexistent/hotline.json", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/hotline.json"));
    assert_non_null(strstr(err, "No such file"));
    assert_null(c.listen);
    assert_int_equal(config_load(&c, "/tmp", err, sizeof err), -1);
    assert_non_null(strstr(err, "/tmp: cannot read"));
    /* a tiny error buffer truncates, never overflows */
    char tiny[8];
    assert_int_equal(config_load(&c, "/nonexistent/hotline.json", tiny, sizeof tiny), -1);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
    assert_int_equal(config_load(&c, "/nonexistent/hotline.json", NULL, 0), -1);
}

/* The table documents exactly the contract's keys, secrets marked. */
static void test_describe(void **state)
{
    (void)state;
    char *doc = describe_text();
    size_t rows = 0;
    for (const char *p = doc; (p = strstr(p, "\n| `")); p++)
        rows++;
    assert_int_equal(rows, N_KEYS);
    for (size_t i = 0; i < N_KEYS; i++) {
        char cell[160];
        snprintf(cell, sizeof cell, "| `%s` |", all_keys[i]);
        if (!strstr(doc, cell))
            fail_msg("config_describe lacks %s", all_keys[i]);
    }
    for (size_t i = 0; i < sizeof secret_keys / sizeof secret_keys[0]; i++) {
        char cell[160];
        snprintf(cell, sizeof cell, "| `%s` |", secret_keys[i]);
        const char *row = strstr(doc, cell);
        assert_non_null(row);
        const char *eol = strchr(row, '\n');
        const char *note = strstr(row, "Secret: use `\"$ENV_VAR\"`");
        if (!note || note > eol)
            fail_msg("%s is not marked secret", secret_keys[i]);
    }
    assert_non_null(strstr(doc, "| `http.max_body` | integer, 1024 to 16777216 | `65536` |"));
    assert_non_null(strstr(doc, "| `channels.web.enabled` | boolean | `true` |"));
    free(doc);
}

/* An unset secret stops the daemon, and reads as empty only where the
 * command allows it (backup, user ...); other keys stay strict there too. */
static void test_unset_secrets(void **state)
{
    (void)state;
    unsetenv("HOTLINE_UNIT_UNSET");
    const char *secret = "{\"channels\": {\"zalo\": {\"oa_secret\": \"$HOTLINE_UNIT_UNSET\"}}}";
    const char *path = "{\"database\": \"$HOTLINE_UNIT_UNSET\"}";
    expect_error(secret, "channels.zalo.oa_secret", "HOTLINE_UNIT_UNSET", NULL);
    config_allow_unset_secrets(1);
    hl_config cfg;
    load_ok(&cfg, secret);
    assert_true(!cfg.zalo.oa_secret || !*cfg.zalo.oa_secret);   /* empty: unset */
    config_free(&cfg);
    expect_error(path, "database", "HOTLINE_UNIT_UNSET", NULL);
    config_allow_unset_secrets(0);
    expect_error(secret, "HOTLINE_UNIT_UNSET", NULL);
}

/* README's configuration section is config_describe()'s output; regenerate
 * it with `build/hotline config-doc` when a key changes. */
static void test_readme(void **state)
{
    (void)state;
    char *readme = read_all("README.md");
    if (!readme)
        fail_msg("README.md not found: run the tests from the repository root");
    char *begin = strstr(readme, "<!-- config:begin -->");
    char *end = strstr(readme, "<!-- config:end -->");
    assert_non_null(begin);
    assert_non_null(end);
    assert_true(begin < end);
    *end = '\0';
    for (size_t i = 0; i < N_KEYS; i++) {
        char cell[160];
        snprintf(cell, sizeof cell, "| `%s` |", all_keys[i]);
        if (!strstr(begin, cell))
            fail_msg("README.md does not document %s", all_keys[i]);
    }
    char *doc = describe_text();
    if (!strstr(begin, doc))
        fail_msg("README.md's configuration table differs from `hotline config-doc`");
    free(doc);
    free(readme);
}

static void test_cli(void **state)
{
    (void)state;
    set_deploy_env();
    char *ok[] = {"check-config", "deploy/hotline.json", NULL};
    assert_int_equal(cli_check_config(2, ok), 0);
    char *ok2[] = {"check-config", "--config", "deploy/hotline.json", NULL};
    assert_int_equal(cli_check_config(3, ok2), 0);
    char *missing[] = {"check-config", "/nonexistent/hotline.json", NULL};
    assert_int_equal(cli_check_config(2, missing), 1);
    unsetenv("HOTLINE_ESMS_API_KEY");
    assert_int_equal(cli_check_config(2, ok), 1);
    set_deploy_env();
    char *usage[] = {"check-config", NULL};
    assert_int_equal(cli_check_config(1, usage), 2);
    char *two[] = {"check-config", "a.json", "b.json", NULL};
    assert_int_equal(cli_check_config(3, two), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_empty_object_is_default),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_deploy_example),
        cmocka_unit_test(test_env_substitution),
        cmocka_unit_test(test_env_unset),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_secrets_not_printed),
        cmocka_unit_test(test_invalid_json),
        cmocka_unit_test(test_unreadable_file),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_unset_secrets),
        cmocka_unit_test(test_readme),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
