/* auth.c - console users, scrypt passwords, sessions, CSRF, login limits.
 *
 * Nothing secret is kept in clear: passwords as scrypt hashes, session tokens
 * as SHA-256 digests (a stolen database does not log anyone in).  The CSRF
 * token is stored as is: it only matters together with the cookie. */
#include "bot/auth.h"
#include "bot/http.h"
#include "bot/log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define SCRYPT_N 16384
#define SCRYPT_R 8
#define SCRYPT_P 1
#define SALT_LEN 16
#define HASH_LEN 32
#define SCRYPT_MAXMEM (64u * 1024 * 1024)
#define RATE_WINDOW_MS (15LL * 60 * 1000)
#define RATE_SLOTS 1024

/* ---- small helpers ---- */

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* 32 random bytes as 64 hex characters. */
static int random_hex(char out[65])
{
    unsigned char b[32];
    if (RAND_bytes(b, sizeof b) != 1) {
        log_error("auth_random", "error=\"RAND_bytes failed\"");
        return -1;
    }
    hex_encode(b, sizeof b, out);
    OPENSSL_cleanse(b, sizeof b);
    return 0;
}

static int sha256_hex(const char *text, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return -1;
    hex_encode(md, mdlen, out);
    return 0;
}

/* Decodes standard base64 (with padding) into out; the decoded length, or
 * -1.  EVP_DecodeBlock counts padding as zero bytes: subtract them. */
static int b64_decode(const char *in, unsigned char *out, size_t outcap)
{
    size_t n = strlen(in);
    if (n == 0 || n % 4 || n / 4 * 3 > outcap)
        return -1;
    int len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
    if (len < 0)
        return -1;
    if (in[n - 1] == '=')
        len--;
    if (in[n - 2] == '=')
        len--;
    return len;
}

/* ---- passwords ---- */

int auth_hash_password(const char *password, char *out, size_t outlen)
{
    unsigned char salt[SALT_LEN], key[HASH_LEN];
    char salt_b64[64], key_b64[64];
    if (RAND_bytes(salt, sizeof salt) != 1) {
        log_error("auth_hash", "error=\"RAND_bytes failed\"");
        return -1;
    }
    if (EVP_PBE_scrypt(password, strlen(password), salt, sizeof salt, SCRYPT_N, SCRYPT_R,
                       SCRYPT_P, SCRYPT_MAXMEM, key, sizeof key) != 1) {
        log_error("auth_hash", "error=\"scrypt failed\"");
        return -1;
    }
    EVP_EncodeBlock((unsigned char *)salt_b64, salt, sizeof salt);
    EVP_EncodeBlock((unsigned char *)key_b64, key, sizeof key);
    OPENSSL_cleanse(key, sizeof key);
    int n = snprintf(out, outlen, "scrypt$%d$%d$%d$%s$%s", SCRYPT_N, SCRYPT_R, SCRYPT_P,
                     salt_b64, key_b64);
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

int auth_verify_password(const char *password, const char *stored)
{
    unsigned long long N;
    unsigned r, p;
    char salt_b64[128], key_b64[128];
    if (!password || !stored ||
        sscanf(stored, "scrypt$%llu$%u$%u$%127[^$]$%127s", &N, &r, &p, salt_b64, key_b64) != 5)
        return 0;
    /* Bounds keep a tampered row from costing gigabytes. */
    if (N < 2 || N > (1u << 20) || (N & (N - 1)) || r < 1 || r > 32 || p < 1 || p > 16)
        return 0;
    unsigned char salt[96], want[96], got[96];
    int slen = b64_decode(salt_b64, salt, sizeof salt);
    int klen = b64_decode(key_b64, want, sizeof want);
    if (slen <= 0 || klen < 16 || klen > (int)sizeof got)
        return 0;
    if (EVP_PBE_scrypt(password, strlen(password), salt, (size_t)slen, N, r, p,
                       256u * 1024 * 1024, got, (size_t)klen) != 1)
        return 0;
    int ok = CRYPTO_memcmp(got, want, (size_t)klen) == 0;
    OPENSSL_cleanse(got, sizeof got);
    return ok;
}

/* ---- users ---- */

int auth_check_username(const char *name, char *err, size_t errlen)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64) {
        snprintf(err, errlen, "username: 1 to 64 characters");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!(islower(c) || isdigit(c) || c == '.' || c == '_' || c == '-')) {
            snprintf(err, errlen, "username: only a-z, 0-9, '.', '_' and '-'");
            return -1;
        }
    }
    return 0;
}

int auth_check_password(const char *pw, char *err, size_t errlen)
{
    size_t n = pw ? strlen(pw) : 0;
    if (n < 8) {
        snprintf(err, errlen, "password: at least 8 characters");
        return -1;
    }
    if (n > 1024) {
        snprintf(err, errlen, "password: at most 1024 characters");
        return -1;
    }
    return 0;
}

int auth_check_role(const char *role, char *err, size_t errlen)
{
    if (!role || (strcmp(role, "staff") && strcmp(role, "admin"))) {
        snprintf(err, errlen, "role: must be \"staff\" or \"admin\"");
        return -1;
    }
    return 0;
}

static int user_exists(store *db, const char *name)
{
    sqlite3_stmt *st = store_stmt(db, "SELECT id FROM users WHERE username = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int auth_user_create(store *db, const char *name, const char *password, const char *role,
                     long long *id, char *err, size_t errlen)
{
    if (auth_check_username(name, err, errlen) || auth_check_password(password, err, errlen) ||
        auth_check_role(role, err, errlen))
        return -1;
    int ex = user_exists(db, name);
    if (ex != 0) {
        snprintf(err, errlen, ex > 0 ? "user \"%s\" already exists" : "database error", name);
        return ex > 0 ? 1 : -1;
    }
    char hash[256];
    if (auth_hash_password(password, hash, sizeof hash) != 0) {
        snprintf(err, errlen, "cannot hash the password");
        return -1;
    }
    sqlite3_stmt *st = store_stmt(
        db, "INSERT INTO users(username, role, pw_hash, created_at) VALUES (?1, ?2, ?3, ?4)");
    if (!st) {
        snprintf(err, errlen, "database error");
        return -1;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, role, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, store_now_ms());
    if (store_step_done(db, st) != 0) {
        snprintf(err, errlen, "database error");
        return -1;
    }
    if (id)
        *id = sqlite3_last_insert_rowid(store_db(db));
    return 0;
}

int auth_user_passwd(store *db, const char *name, const char *password, char *err,
                     size_t errlen)
{
    if (auth_check_password(password, err, errlen))
        return -1;
    char hash[256];
    if (auth_hash_password(password, hash, sizeof hash) != 0) {
        snprintf(err, errlen, "cannot hash the password");
        return -1;
    }
    sqlite3_stmt *st = store_stmt(db, "UPDATE users SET pw_hash = ?1 WHERE username = ?2");
    if (!st) {
        snprintf(err, errlen, "database error");
        return -1;
    }
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
    if (store_step_done(db, st) != 0) {
        snprintf(err, errlen, "database error");
        return -1;
    }
    if (sqlite3_changes(store_db(db)) == 0) {
        snprintf(err, errlen, "no user \"%s\"", name);
        return 1;
    }
    st = store_stmt(db, "DELETE FROM sessions WHERE user_id = "
                        "(SELECT id FROM users WHERE username = ?1)");
    if (st) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        store_step_done(db, st);
    }
    return 0;
}

cJSON *auth_user_json(const auth_user *u)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddNumberToObject(o, "id", (double)u->id) ||
        !cJSON_AddStringToObject(o, "username", u->username) ||
        !cJSON_AddStringToObject(o, "role", u->role)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* ---- login rate limit (in memory, fixed 15-minute windows) ---- */

struct rate_slot {
    char key[160];
    long long start;
    int count;
};
static struct rate_slot rate[RATE_SLOTS];

static struct rate_slot *rate_find(const char *key, int create, long long now)
{
    struct rate_slot *victim = NULL;
    for (size_t i = 0; i < RATE_SLOTS; i++) {
        struct rate_slot *s = &rate[i];
        if (s->key[0] && strcmp(s->key, key) == 0) {
            if (now - s->start >= RATE_WINDOW_MS) {
                s->start = now;
                s->count = 0;
            }
            return s;
        }
        if (!victim || !s->key[0] || (victim->key[0] && s->start < victim->start))
            victim = s;
    }
    if (!create)
        return NULL;
    snprintf(victim->key, sizeof victim->key, "%s", key);
    victim->start = now;
    victim->count = 0;
    return victim;
}

static void rate_keys(const char *addr, const char *user, char *ka, char *ku, size_t n)
{
    snprintf(ka, n, "a:%s", addr ? addr : "");
    snprintf(ku, n, "u:%s", user ? user : "");
}

int auth_rate_limited(hl_app *app, const char *addr, const char *username)
{
    int max = app->cfg.login_max_attempts;
    if (max <= 0)
        return 0;
    char ka[160], ku[160];
    rate_keys(addr, username, ka, ku, sizeof ka);
    long long now = store_now_ms();
    struct rate_slot *a = rate_find(ka, 0, now), *u = rate_find(ku, 0, now);
    return (a && a->count >= max) || (u && u->count >= max);
}

static void rate_fail(const char *addr, const char *username)
{
    char ka[160], ku[160];
    rate_keys(addr, username, ka, ku, sizeof ka);
    long long now = store_now_ms();
    struct rate_slot *s = rate_find(ka, 1, now);
    s->count++;
    s = rate_find(ku, 1, now);
    s->count++;
}

static void rate_clear_user(const char *username)
{
    char ka[160], ku[160];
    rate_keys("", username, ka, ku, sizeof ka);
    struct rate_slot *s = rate_find(ku, 0, store_now_ms());
    if (s)
        s->count = 0;
}

/* ---- sessions ---- */

int auth_login(hl_app *app, const char *addr, const char *username, const char *password,
               auth_user *u, char token[65])
{
    /* A hash to verify against when the user does not exist, so a wrong
     * username costs the same time as a wrong password. */
    static char dummy[256];
    if (!dummy[0] && auth_hash_password("not-a-password", dummy, sizeof dummy) != 0)
        return -1;

    char name[65];
    size_t n = strlen(username);
    if (n >= sizeof name)
        n = sizeof name - 1;
    for (size_t i = 0; i < n; i++)
        name[i] = (char)tolower((unsigned char)username[i]);
    name[n] = '\0';

    sqlite3_stmt *st = store_stmt(
        app->db, "SELECT id, username, role, pw_hash, disabled FROM users WHERE username = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite3_reset(st);
        log_error("auth_login", "error=\"%s\"", sqlite3_errmsg(store_db(app->db)));
        return -1;
    }
    int found = rc == SQLITE_ROW && sqlite3_column_int(st, 4) == 0;
    char hash[256];
    snprintf(hash, sizeof hash, "%s",
             found ? (const char *)sqlite3_column_text(st, 3) : dummy);
    memset(u, 0, sizeof *u);
    if (found) {
        u->id = sqlite3_column_int64(st, 0);
        snprintf(u->username, sizeof u->username, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(u->role, sizeof u->role, "%s", (const char *)sqlite3_column_text(st, 2));
    }
    sqlite3_reset(st);
    int ok = auth_verify_password(password, hash);
    if (!found || !ok) {
        rate_fail(addr, name);
        log_info("login_failed", "user=%s", found ? u->username : "(unknown)");
        return 1;
    }
    rate_clear_user(name);

    char token_hash[65];
    if (random_hex(token) != 0 || random_hex(u->csrf) != 0 || sha256_hex(token, token_hash) != 0)
        return -1;
    long long now = store_now_ms();
    long long ttl = app->cfg.session_ttl > 0 ? app->cfg.session_ttl : 8 * 3600;
    st = store_stmt(app->db, "DELETE FROM sessions WHERE expires_at <= ?1");
    if (st) {
        sqlite3_bind_int64(st, 1, now);
        store_step_done(app->db, st);
    }
    st = store_stmt(app->db, "INSERT INTO sessions(token_hash, user_id, csrf, created_at, "
                             "expires_at) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, u->id);
    sqlite3_bind_text(st, 3, u->csrf, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_int64(st, 5, now + ttl * 1000);
    if (store_step_done(app->db, st) != 0)
        return -1;
    log_info("login", "user=%s role=%s", u->username, u->role);
    return 0;
}

/* The cookie's token if it has the right shape, hashed; -1 otherwise. */
static int request_token_hash(struct evhttp_request *req, char out[65])
{
    char *tok = http_cookie(req, AUTH_COOKIE);
    int rc = -1;
    if (tok && strlen(tok) == 64 && strspn(tok, "0123456789abcdef") == 64)
        rc = sha256_hex(tok, out);
    free(tok);
    return rc;
}

int auth_session_key(struct evhttp_request *req, char key[65])
{
    return request_token_hash(req, key);
}

/* The session whose token hash is key, if it is alive: not expired, and
 * its user not disabled.  1 (and *u filled when u is not NULL), 0 when
 * there is none, -1 on a database error. */
static int session_find(hl_app *app, const char *key, auth_user *u)
{
    sqlite3_stmt *st = store_stmt(
        app->db, "SELECT u.id, u.username, u.role, s.csrf FROM sessions s "
                 "JOIN users u ON u.id = s.user_id "
                 "WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, store_now_ms());
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && u) {
        memset(u, 0, sizeof *u);
        u->id = sqlite3_column_int64(st, 0);
        snprintf(u->username, sizeof u->username, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(u->role, sizeof u->role, "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(u->csrf, sizeof u->csrf, "%s", (const char *)sqlite3_column_text(st, 3));
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int auth_session_alive(hl_app *app, const char *key)
{
    return session_find(app, key, NULL);
}

void auth_logout(hl_app *app, struct evhttp_request *req)
{
    char h[65];
    if (request_token_hash(req, h) != 0)
        return;
    sqlite3_stmt *st = store_stmt(app->db, "DELETE FROM sessions WHERE token_hash = ?1");
    if (!st)
        return;
    sqlite3_bind_text(st, 1, h, -1, SQLITE_TRANSIENT);
    store_step_done(app->db, st);
}

void auth_set_cookie(hl_app *app, struct evhttp_request *req, const char *token)
{
    char buf[256];
    int secure = app->cfg.public_url && strncmp(app->cfg.public_url, "https://", 8) == 0;
    long ttl = app->cfg.session_ttl > 0 ? app->cfg.session_ttl : 8 * 3600;
    snprintf(buf, sizeof buf, "%s=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%ld%s",
             AUTH_COOKIE, token ? token : "", token ? ttl : 0L, secure ? "; Secure" : "");
    evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", buf);
}

int auth_session(hl_app *app, struct evhttp_request *req, auth_user *u)
{
    char h[65];
    if (request_token_hash(req, h) != 0)
        return -1;
    return session_find(app, h, u) == 1 ? 0 : -1;
}

int auth_require(struct evhttp_request *req, hl_app *app, int need_admin, auth_user *u)
{
    if (auth_session(app, req, u) != 0) {
        http_reply_error(req, 401, "not logged in");
        return -1;
    }
    int m = http_method(req);
    if (m & (HTTP_POST | HTTP_PUT | HTTP_DELETE)) {
        const char *t = http_header(req, AUTH_CSRF_HEADER);
        size_t n = strlen(u->csrf);
        if (!t || strlen(t) != n || CRYPTO_memcmp(t, u->csrf, n) != 0) {
            http_reply_error(req, 403, t ? "wrong CSRF token" : "missing CSRF token");
            return -1;
        }
    }
    if (need_admin && strcmp(u->role, "admin") != 0) {
        http_reply_error(req, 403, "admin only");
        return -1;
    }
    return 0;
}

/* ---- first start ---- */

/* A password of n characters from an unambiguous alphabet, without bias. */
static int random_password(char *out, size_t n)
{
    static const char alpha[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    const size_t na = sizeof alpha - 1;
    size_t i = 0;
    while (i < n) {
        unsigned char b[32];
        if (RAND_bytes(b, sizeof b) != 1)
            return -1;
        for (size_t j = 0; j < sizeof b && i < n; j++)
            if (b[j] < 256 - 256 % na)
                out[i++] = alpha[b[j] % na];
    }
    out[n] = '\0';
    return 0;
}

int auth_bootstrap(hl_app *app)
{
    sqlite3_stmt *st = store_stmt(app->db, "SELECT COUNT(*) FROM users");
    if (!st)
        return -1;
    long long n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    if (n != 0)
        return n > 0 ? 0 : -1;
    char pw[17], err[160];
    if (random_password(pw, 16) != 0) {
        log_error("auth_bootstrap", "error=\"no randomness\"");
        return -1;
    }
    if (auth_user_create(app->db, "admin", pw, "admin", NULL, err, sizeof err) != 0) {
        log_error("auth_bootstrap", "error=\"%s\"", err);
        return -1;
    }
    store_audit(app->db, "system", "user.create", "admin", "{\"role\":\"admin\",\"bootstrap\":true}");
    /* stdout only, once: the log must never hold a password. */
    printf("Created the first console user: admin / %s\n"
           "Change it with: hotline user passwd admin\n", pw);
    fflush(stdout);
    OPENSSL_cleanse(pw, sizeof pw);
    log_info("user_bootstrap", "user=admin");
    return 0;
}

/* ---- CLI ---- */

static int usage(void)
{
    fprintf(stderr, "usage: hotline user add NAME [--role staff|admin] [--config FILE]\n"
                    "       hotline user list [--config FILE]\n"
                    "       hotline user passwd NAME [--config FILE]\n"
                    "The password is read from standard input (one line).\n");
    return 2;
}

/* One line from stdin without its newline; no echo on a terminal. */
static int read_password(char *buf, size_t len)
{
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fprintf(stderr, "Password: ");
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *r = fgets(buf, (int)len, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (!r)
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

int cli_user(int argc, char **argv)
{
    int i = 0;
    if (argc > 1 && strcmp(argv[0], "user") != 0 && strcmp(argv[1], "user") == 0)
        i = 2;
    else if (argc > 0 && strcmp(argv[0], "user") == 0)
        i = 1;
    const char *cmd = NULL, *name = NULL, *role = "staff", *config = NULL;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[++i];
        else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
            role = argv[++i];
        else if (argv[i][0] == '-')
            return usage();
        else if (!cmd)
            cmd = argv[i];
        else if (!name)
            name = argv[i];
        else
            return usage();
    }
    if (!cmd || (strcmp(cmd, "list") == 0 ? name != NULL : !name))
        return usage();

    hl_config cfg;
    char err[512];
    /* config_load starts from the defaults itself. */
    if (config ? config_load(&cfg, config, err, sizeof err) != 0 : config_defaults(&cfg) != 0) {
        fprintf(stderr, "hotline: %s\n", config ? err : "out of memory");
        return 1;
    }
    store *db = store_open(cfg.database, cfg.database_synchronous, err, sizeof err);
    if (!db) {
        fprintf(stderr, "hotline: %s\n", err);
        config_free(&cfg);
        return 1;
    }
    int status = 1;
    char pw[1100];
    if (strcmp(cmd, "list") == 0) {
        sqlite3_stmt *st = store_stmt(
            db, "SELECT id, username, role, disabled, created_at FROM users ORDER BY username");
        if (st) {
            while (sqlite3_step(st) == SQLITE_ROW)
                printf("%lld\t%s\t%s%s\n", sqlite3_column_int64(st, 0),
                       (const char *)sqlite3_column_text(st, 1),
                       (const char *)sqlite3_column_text(st, 2),
                       sqlite3_column_int(st, 3) ? "\tdisabled" : "");
            sqlite3_reset(st);
            status = 0;
        }
    } else if (strcmp(cmd, "add") == 0 || strcmp(cmd, "passwd") == 0) {
        int add = cmd[0] == 'a';
        if ((add && (auth_check_username(name, err, sizeof err) ||
                     auth_check_role(role, err, sizeof err)))) {
            fprintf(stderr, "hotline: %s\n", err);
        } else if (read_password(pw, sizeof pw) != 0) {
            fprintf(stderr, "hotline: no password on standard input\n");
        } else {
            int rc = add ? auth_user_create(db, name, pw, role, NULL, err, sizeof err)
                         : auth_user_passwd(db, name, pw, err, sizeof err);
            if (rc != 0) {
                fprintf(stderr, "hotline: %s\n", err);
            } else {
                char detail[64];
                snprintf(detail, sizeof detail, "{\"role\":\"%s\"}", add ? role : "");
                store_audit(db, "cli", add ? "user.create" : "user.passwd", name,
                            add ? detail : NULL);
                printf(add ? "user %s added (%s)\n" : "password of %s changed%s\n", name,
                       add ? role : "");
                status = 0;
            }
        }
        OPENSSL_cleanse(pw, sizeof pw);
    } else {
        status = usage();
    }
    store_close(db);
    config_free(&cfg);
    return status;
}
