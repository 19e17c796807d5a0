/* main.c - the hotline command: the daemon (serve) and its admin commands.
 *
 * Every subcommand takes --config FILE; with none, the embedded default
 * configuration is used (database var/hotline.db, the sample corpus). */
#include "adapters/adapter.h"
#include "bot/api.h"
#include "bot/app.h"
#include "bot/auth.h"
#include "bot/cli_config.h"
#include "bot/cli_kb.h"
#include "bot/events.h"
#include "bot/http.h"
#include "bot/kbstore.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/outbox.h"
#include "bot/pipeline.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int webhooks_register(hl_app *app);
int webchat_register(hl_app *app);

#define SHUTDOWN_GRACE_MS 10000

static void usage(FILE *out)
{
    fputs("usage: hotline COMMAND [--config FILE] ...\n"
          "  serve                      run the daemon\n"
          "  check-config FILE          validate a configuration file\n"
          "  config-doc                 print every configuration key\n"
          "  import FILE                load a corpus (faq.json format or CSV) into the database\n"
          "  export [-o FILE]           write the knowledge base as faq.json\n"
          "  ask [--json] TEXT          show the decision for one message\n"
          "  eval [--json] EVAL.jsonl   measure the matcher on an evaluation set\n"
          "  user add NAME --role staff|admin | user list | user passwd NAME\n"
          "  backup FILE                consistent online copy of the database\n"
          "  version\n", out);
}

/* Finds --config FILE / --config=FILE anywhere in argv. */
static const char *config_arg(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], "--config=", 9) == 0)
            return argv[i] + 9;
    }
    return NULL;
}

static int load_config(hl_config *cfg, const char *path)
{
    char err[512];
    if (path ? config_load(cfg, path, err, sizeof err) != 0 : config_defaults(cfg) != 0) {
        fprintf(stderr, "hotline: %s\n", path ? err : "out of memory");
        return -1;
    }
    enum log_level lvl;
    if (cfg->log_level && log_level_parse(cfg->log_level, &lvl) == 0)
        log_set_level(lvl);
    return 0;
}

/* ---- serve ---------------------------------------------------------------- */

static struct event *shutdown_timer;
static long long shutdown_deadline;

static void on_shutdown_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    hl_app *app = arg;
    if ((pipeline_idle(app->pipeline) && http_in_flight(app->server) == 0) ||
        store_now_ms() > shutdown_deadline) {
        event_base_loopexit(app->base, NULL);
        return;
    }
    struct timeval tv = {0, 20000};
    evtimer_add(shutdown_timer, &tv);
}

/* Stop accepting, let what is in flight finish (its commit and its reply),
 * then leave the loop. */
static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    hl_app *app = arg;
    if (app->stopping)
        return;
    log_info("stopping", "signal=%d", (int)sig);
    app->stopping = 1;
    http_stop_accepting(app->server);
    events_shutdown(app->events);
    shutdown_deadline = store_now_ms() + SHUTDOWN_GRACE_MS;
    shutdown_timer = evtimer_new(app->base, on_shutdown_tick, app);
    if (!shutdown_timer) {
        event_base_loopexit(app->base, NULL);
        return;
    }
    on_shutdown_tick(-1, 0, app);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    hl_app *app = arg;
    log_info("reload", "what=knowledge,settings");
    settings_load(app);
    app_reload_kb(app);
}

static int cmd_serve(int argc, char **argv)
{
    hl_app app;
    memset(&app, 0, sizeof app);
    if (load_config(&app.cfg, config_arg(argc, argv)) != 0)
        return 1;
    int rc = 1;
    char err[512];
    struct event *sigs[4] = {0};
    /* An empty public_url means the daemon is reached where it listens;
     * adapters build callback URLs and check signatures against it. */
    if (!app.cfg.public_url || !*app.cfg.public_url) {
        char url[300];
        snprintf(url, sizeof url, "http://%s", app.cfg.listen);
        free(app.cfg.public_url);
        if (!(app.cfg.public_url = strdup(url))) {
            config_free(&app.cfg);
            return 1;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());

    /* The epoll changelist folds the add/delete pairs a connection makes in
     * one loop turn (read, then write the answer, then read again) into one
     * epoll_ctl: under load that call was ~3% of the CPU per message. */
    struct event_config *ecfg = event_config_new();
    if (ecfg)
        event_config_set_flag(ecfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    app.base = ecfg ? event_base_new_with_config(ecfg) : NULL;
    if (ecfg)
        event_config_free(ecfg);
    if (!app.base || event_base_priority_init(app.base, 3) != 0) {
        fprintf(stderr, "hotline: cannot create the event loop\n");
        goto out;
    }
    app.db = store_open(app.cfg.database, app.cfg.database_synchronous, err, sizeof err);
    if (!app.db) {
        fprintf(stderr, "hotline: database: %s\n", err);
        goto out;
    }
    if (kbstore_seed(app.db, app.cfg.kb_corpus, app.cfg.kb_lexicon, err, sizeof err) != 0) {
        fprintf(stderr, "hotline: knowledge: %s\n", err);
        goto out;
    }
    settings_load(&app);
    app.kb = kbstore_build(app.db, err, sizeof err);
    if (!app.kb) {
        fprintf(stderr, "hotline: knowledge: %s\n", err);
        goto out;
    }
    app.metrics = metrics_new();
    app.events = events_new(&app);
    app.pipeline = pipeline_new(&app);
    if (!app.metrics || !app.events || !app.pipeline) {
        fprintf(stderr, "hotline: out of memory\n");
        goto out;
    }
    if (metrics_register(&app) != 0 || webhooks_register(&app) != 0 ||
        webchat_register(&app) != 0 || api_register(&app) != 0) {
        fprintf(stderr, "hotline: cannot register routes\n");
        goto out;
    }
    app.server = http_start(&app, err, sizeof err);
    if (!app.server) {
        fprintf(stderr, "hotline: %s\n", err);
        goto out;
    }
    app.outbox = outbox_new(&app);
    if (!app.outbox) {
        fprintf(stderr, "hotline: cannot start the outbox\n");
        goto out;
    }
    if (auth_bootstrap(&app) != 0)
        goto out;
    if (pipeline_recover(&app) < 0)
        log_error("recover_failed", "%s", "");
    outbox_kick(app.outbox);

    int sig_list[] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++) {
        sigs[i] = evsignal_new(app.base, sig_list[i], sig_list[i] == SIGHUP ? on_hup : on_stop_signal, &app);
        if (!sigs[i] || event_add(sigs[i], NULL) != 0) {
            fprintf(stderr, "hotline: cannot install signal handlers\n");
            goto out;
        }
    }
    char channels[128] = "web";
    if (!app.cfg.web_enabled)
        channels[0] = '\0';
    for (const adapter *const *a = adapter_all(); *a; a++)
        if ((*a)->configured(&app.cfg)) {
            strncat(channels, channels[0] ? "," : "", sizeof channels - strlen(channels) - 1);
            strncat(channels, (*a)->name, sizeof channels - strlen(channels) - 1);
        }
    log_info("started", "listen=%s database=%s entries=%zu channels=%s version=%s",
             app.cfg.listen, app.cfg.database, kb_size(app.kb), channels, HOTLINE_VERSION);
    printf("hotline %s listening on http://%s/\n", HOTLINE_VERSION, app.cfg.listen);
    if (app.cfg.web_enabled)
        printf("  web chat (try it as a citizen): http://%s/\n", app.cfg.listen);
    printf("  staff console:                  http://%s/console/\n", app.cfg.listen);
    printf("  health / metrics:               http://%s/healthz  http://%s/metrics\n",
           app.cfg.listen, app.cfg.listen);
    fflush(stdout);

    event_base_dispatch(app.base);
    log_info("stopped", "%s", "");
    rc = 0;
out:
    for (int i = 0; i < 4; i++)
        if (sigs[i])
            event_free(sigs[i]);
    if (shutdown_timer)
        event_free(shutdown_timer);
    outbox_free(app.outbox);
    events_free(app.events);
    http_stop(app.server);
    pipeline_free(app.pipeline);
    metrics_free(app.metrics);
    kb_free(app.kb);
    store_close(app.db);
    if (app.base)
        event_base_free(app.base);
    config_free(&app.cfg);
    curl_global_cleanup();
    return rc;
}

/* ---- commands on the configured database ----------------------------------- */

/* The first argument that is not an option (nor --config's value). */
static const char *positional(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-o") == 0 ||
            strcmp(argv[i], "--output") == 0)
            i++;
        else if (argv[i][0] != '-')
            return argv[i];
    }
    return NULL;
}

/* Loads the configuration named in argv and opens its database; NULL (with
 * the reason printed) on failure, and then cfg holds nothing. */
static store *open_configured(hl_config *cfg, int argc, char **argv)
{
    char err[512];
    if (load_config(cfg, config_arg(argc, argv)) != 0)
        return NULL;
    store *db = store_open(cfg->database, cfg->database_synchronous, err, sizeof err);
    if (!db) {
        fprintf(stderr, "hotline: database: %s\n", err);
        config_free(cfg);
    }
    return db;
}

static int cmd_import(int argc, char **argv)
{
    const char *file = positional(argc, argv);
    if (!file) {
        fputs("usage: hotline import [--config FILE] CORPUS.json|CORPUS.csv\n", stderr);
        return 2;
    }
    char err[512];
    kb_corpus *c = kb_corpus_new();
    if (!c || kb_corpus_load_file(c, file, err, sizeof err) != 0) {
        fprintf(stderr, "hotline: %s\n", c ? err : "out of memory");
        kb_corpus_free(c);
        return 1;
    }
    hl_config cfg;
    store *db = open_configured(&cfg, argc, argv);
    if (!db) {
        kb_corpus_free(c);
        return 1;
    }
    int rc = 1;
    /* Seed the lexicon first so an imported database is complete. */
    if (kbstore_seed(db, NULL, cfg.kb_lexicon, err, sizeof err) != 0 ||
        kbstore_import(db, c, err, sizeof err) != 0) {
        fprintf(stderr, "hotline: %s: %s\n", file, err);
    } else {
        store_audit(db, "cli", "kb.import", file, NULL);
        printf("imported %zu entries from %s into %s\n", c->n, file, cfg.database);
        printf("a running daemon picks them up on SIGHUP (systemctl reload hotline)\n");
        rc = 0;
    }
    store_close(db);
    kb_corpus_free(c);
    config_free(&cfg);
    return rc;
}

static int cmd_export(int argc, char **argv)
{
    const char *outpath = NULL;
    for (int i = 1; i < argc; i++)
        if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) && i + 1 < argc)
            outpath = argv[++i];
    hl_config cfg;
    store *db = open_configured(&cfg, argc, argv);
    if (!db)
        return 1;
    char err[512] = "";
    int rc = 1;
    char *json = NULL;
    kb_corpus *c = NULL;
    FILE *f = NULL;
    if (kbstore_seed(db, cfg.kb_corpus, cfg.kb_lexicon, err, sizeof err) != 0 ||
        !(c = kbstore_load_corpus(db)) || !(json = kb_corpus_to_json(c)))
        fprintf(stderr, "hotline: cannot export: %s\n", err[0] ? err : "database error");
    else if (!(f = outpath ? fopen(outpath, "w") : stdout))
        perror(outpath);
    else if (fputs(json, f) < 0 || fputc('\n', f) == EOF || (outpath && fclose(f) != 0))
        perror(outpath ? outpath : "stdout");
    else
        rc = 0;
    free(json);
    kb_corpus_free(c);
    store_close(db);
    config_free(&cfg);
    return rc;
}

static int cmd_backup(int argc, char **argv)
{
    const char *dest = positional(argc, argv);
    if (!dest) {
        fputs("usage: hotline backup [--config FILE] DEST.db\n", stderr);
        return 2;
    }
    hl_config cfg;
    store *db = open_configured(&cfg, argc, argv);
    if (!db)
        return 1;
    char err[512];
    int rc = 1;
    if (store_backup(db, dest, err, sizeof err) != 0) {
        fprintf(stderr, "hotline: %s\n", err);
    } else {
        printf("backup of %s written to %s\n", cfg.database, dest);
        rc = 0;
    }
    store_close(db);
    config_free(&cfg);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    int sub_argc = argc - 1;
    char **sub_argv = argv + 1;
    /* strict: every secret the configuration names must be set, as serve
     * (which sends) needs and check-config (which checks for serve) reports.
     * The other commands send nothing and run from an operator's shell,
     * which lacks the service's environment: an unset secret reads as empty. */
    static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
        int strict;
    } commands[] = {
        {"serve", cmd_serve, 1},
        {"check-config", cli_check_config, 1},
        {"config-doc", cli_config_doc, 1},
        {"import", cmd_import, 0},
        {"export", cmd_export, 0},
        {"ask", cli_ask, 0},
        {"eval", cli_eval, 0},
        {"user", cli_user, 0},
        {"backup", cmd_backup, 0},
    };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(cmd, commands[i].name) != 0)
            continue;
        config_allow_unset_secrets(!commands[i].strict);
        return commands[i].run(sub_argc, sub_argv);
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("hotline %s\n", HOTLINE_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "hotline: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return 2;
}
