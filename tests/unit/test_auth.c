/* test_auth.c - scrypt password encoding, users, login sessions, rate limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/auth.h"

static hl_app app;

static int setup(void **state)
{
    (void)state;
    char err[256];
    memset(&app, 0, sizeof app);
    app.cfg.session_ttl = 3600;
    app.cfg.login_max_attempts = 3;
    app.db = store_open(":memory:", "OFF", err, sizeof err);
    return app.db ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    store_close(app.db);
    app.db = NULL;
    return 0;
}

static void hash_has_the_documented_format(void **state)
{
    (void)state;
    char h[256], h2[256];
    assert_int_equal(auth_hash_password("correct horse", h, sizeof h), 0);
    assert_true(strncmp(h, "scrypt$16384$8$1$", 17) == 0);
    /* salt (16 bytes -> 24 base64) and hash (32 bytes -> 44 base64) */
    const char *salt = h + 17, *dollar = strchr(salt, '$');
    assert_non_null(dollar);
    assert_int_equal((int)(dollar - salt), 24);
    assert_int_equal((int)strlen(dollar + 1), 44);
    /* a fresh salt every time */
    assert_int_equal(auth_hash_password("correct horse", h2, sizeof h2), 0);
    assert_string_not_equal(h, h2);
    assert_int_equal(auth_hash_password("x", h, 10), -1);   /* buffer too small */
}

static void verify_accepts_only_the_password(void **state)
{
    (void)state;
    char h[256];
    assert_int_equal(auth_hash_password("mật khẩu dài", h, sizeof h), 0);
    assert_int_equal(auth_verify_password("mật khẩu dài", h), 1);
    assert_int_equal(auth_verify_password("mật khẩu dai", h), 0);
    assert_int_equal(auth_verify_password("", h), 0);
    char bad[256];
    snprintf(bad, sizeof bad, "%s", h);
    bad[strlen(bad) - 3] ^= 1;          /* tampered hash */
    assert_int_equal(auth_verify_password("mật khẩu dài", bad), 0);
    assert_int_equal(auth_verify_password("x", "plain"), 0);
    assert_int_equal(auth_verify_password("x", "scrypt$16384$8$1$$"), 0);
    assert_int_equal(auth_verify_password("x", NULL), 0);
    /* parameters out of bounds are refused rather than computed */
    assert_int_equal(auth_verify_password("x", "scrypt$1073741824$8$1$c2FsdHNhbHRzYWx0c2FsdA==$"
                                               "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g="), 0);
    assert_int_equal(auth_verify_password("x", "scrypt$16383$8$1$c2FsdHNhbHRzYWx0c2FsdA==$"
                                               "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g="), 0);
}

static void user_rules(void **state)
{
    (void)state;
    char err[200];
    long long id = 0;
    assert_int_equal(auth_user_create(app.db, "lan.nguyen", "password1", "staff", &id, err, sizeof err), 0);
    assert_true(id > 0);
    assert_int_equal(auth_user_create(app.db, "lan.nguyen", "password2", "admin", NULL, err, sizeof err), 1);
    assert_int_equal(auth_user_create(app.db, "Lan", "password1", "staff", NULL, err, sizeof err), -1);
    assert_int_equal(auth_user_create(app.db, "", "password1", "staff", NULL, err, sizeof err), -1);
    assert_int_equal(auth_user_create(app.db, "minh", "short", "staff", NULL, err, sizeof err), -1);
    assert_int_equal(auth_user_create(app.db, "minh", "password1", "root", NULL, err, sizeof err), -1);
    assert_int_equal(auth_user_passwd(app.db, "nobody", "password9", err, sizeof err), 1);
    assert_int_equal(auth_user_passwd(app.db, "lan.nguyen", "new-password", err, sizeof err), 0);
}

static void login_sessions_and_limits(void **state)
{
    (void)state;
    char err[200], token[65];
    auth_user u;
    assert_int_equal(auth_user_create(app.db, "an", "password-an", "admin", NULL, err, sizeof err), 0);
    assert_int_equal(auth_login(&app, "10.0.0.1", "AN", "password-an", &u, token), 0);
    assert_string_equal(u.username, "an");
    assert_string_equal(u.role, "admin");
    assert_int_equal((int)strlen(token), 64);
    assert_int_equal((int)strlen(u.csrf), 64);
    /* only the token's digest is stored */
    sqlite3_stmt *st = store_stmt(app.db, "SELECT COUNT(*) FROM sessions WHERE token_hash = ?1");
    sqlite3_bind_text(st, 1, token, -1, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_reset(st);

    /* failures count per address and per user */
    assert_int_equal(auth_rate_limited(&app, "10.0.0.2", "an"), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(auth_login(&app, "10.0.0.2", "an", "wrong", &u, token), 1);
    assert_int_equal(auth_rate_limited(&app, "10.0.0.2", "someone"), 1);   /* address */
    assert_int_equal(auth_rate_limited(&app, "10.0.0.3", "an"), 1);        /* user */
    assert_int_equal(auth_rate_limited(&app, "10.0.0.3", "other"), 0);
    /* an unknown user costs a failure too */
    assert_int_equal(auth_login(&app, "10.0.0.4", "ghost", "whatever", &u, token), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_has_the_documented_format),
        cmocka_unit_test(verify_accepts_only_the_password),
        cmocka_unit_test_setup_teardown(user_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(login_sessions_and_limits, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
