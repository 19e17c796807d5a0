/* auth.h - console users, passwords, sessions, CSRF and login rate limits.
 *
 * Passwords: scrypt (libcrypto EVP_PBE_scrypt, N=16384 r=8 p=1) with a 16-byte
 * random salt, stored as "scrypt$N$r$p$salt_b64$hash_b64".
 * Sessions: a random 32-byte token (hex) in cookie hl_session, stored only as
 * its SHA-256 in the sessions table, with an expiry (cfg.session_ttl) and a
 * per-session CSRF token that every POST/PUT/DELETE must echo in
 * X-CSRF-Token. */
#ifndef HOTLINE_AUTH_H
#define HOTLINE_AUTH_H

#include <stddef.h>
#include <event2/http.h>
#include <cjson/cJSON.h>

#include "bot/app.h"

#define AUTH_COOKIE "hl_session"
#define AUTH_CSRF_HEADER "X-CSRF-Token"

typedef struct auth_user {
    long long id;
    char username[65];
    char role[8];               /* "staff" | "admin" */
    char csrf[65];              /* the session's CSRF token (hex) */
} auth_user;

/* ---- passwords ---- */
/* Writes the encoded hash into out.  0 / -1. */
int auth_hash_password(const char *password, char *out, size_t outlen);
/* 1 when password matches the stored encoding, 0 when not (or malformed). */
int auth_verify_password(const char *password, const char *stored);

/* ---- users ---- */
/* Checks a username (1-64 of a-z 0-9 . _ -) / a password (8-1024 bytes) /
 * a role; 0 or -1 with err. */
int auth_check_username(const char *name, char *err, size_t errlen);
int auth_check_password(const char *pw, char *err, size_t errlen);
int auth_check_role(const char *role, char *err, size_t errlen);
/* Creates a user.  0, -1 (err), or 1 when the name is taken. *id may be NULL. */
int auth_user_create(store *db, const char *name, const char *password, const char *role,
                     long long *id, char *err, size_t errlen);
/* Sets a new password and ends the user's sessions.  0, -1, 1 no such user. */
int auth_user_passwd(store *db, const char *name, const char *password, char *err,
                     size_t errlen);
/* {id, username, role, disabled, created_at} or NULL. */
cJSON *auth_user_json(const auth_user *u);

/* ---- login ---- */
/* 1 when addr or username has used up cfg.login_max_attempts failures in
 * the last 15 minutes. */
int auth_rate_limited(hl_app *app, const char *addr, const char *username);
/* Verifies the credentials (constant work whether or not the user exists).
 * On success fills u, creates a session and writes its cookie token (64 hex
 * + NUL) into token; returns 0.  1 wrong credentials (failure counted),
 * -1 internal error. */
int auth_login(hl_app *app, const char *addr, const char *username, const char *password,
               auth_user *u, char token[65]);
/* Deletes the session of this request, if any. */
void auth_logout(hl_app *app, struct evhttp_request *req);
/* Adds Set-Cookie for token (NULL clears the cookie). */
void auth_set_cookie(hl_app *app, struct evhttp_request *req, const char *token);

/* ---- per request ---- */
/* The key of the request's session (SHA-256 of its cookie token, 64 hex),
 * for long-lived requests that must stop when the session ends.  0 / -1. */
int auth_session_key(struct evhttp_request *req, char key[65]);
/* 1 while the session with this key exists, has not expired and its user is
 * not disabled; 0 otherwise; -1 on a database error. */
int auth_session_alive(hl_app *app, const char *key);
/* Looks up the request's session; 0 and u filled, or -1 (no reply sent). */
int auth_session(hl_app *app, struct evhttp_request *req, auth_user *u);
/* The gate in front of every /api handler but login: 0 with u filled, or
 * -1 after replying 401 (no or expired session), 403 (missing or wrong CSRF
 * token on POST/PUT/DELETE) or 403 (need_admin and the user is staff). */
int auth_require(struct evhttp_request *req, hl_app *app, int need_admin, auth_user *u);

/* ---- startup and CLI ---- */
/* First start with no users: creates "admin" with a random password and
 * prints it once on stdout.  0 / -1. */
int auth_bootstrap(hl_app *app);
/* `hotline user add NAME --role staff|admin | list | passwd NAME [--config FILE]`.
 * argv[0] is "user" (a leading program name is skipped too).  Exit status. */
int cli_user(int argc, char **argv);

#endif
