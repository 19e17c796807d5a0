/* cli_config.c - `hotline check-config` and `hotline config-doc`.
 *
 * check-config lets an admin test a file before a restart, the way
 * `smtpd -n` does: it runs the daemon's own loader, so what it accepts is
 * exactly what `serve` accepts. */
#include "bot/cli_config.h"

#include <stdio.h>
#include <string.h>

#include "bot/config.h"

int cli_check_config(int argc, char **argv)
{
    const char *path = NULL;
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (path)
            bad = 1;                    /* one file only */
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
        else if (argv[i][0] != '-')
            path = argv[i];
        else
            bad = 1;
    }
    if (bad || !path || !*path) {
        fputs("usage: hotline check-config FILE\n", stderr);
        return 2;
    }
    hl_config cfg;
    char err[512];
    if (config_load(&cfg, path, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    config_free(&cfg);
    puts("configuration OK");
    return 0;
}

int cli_config_doc(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fputs("usage: hotline config-doc\n", stderr);
        return 2;
    }
    config_describe(stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}
