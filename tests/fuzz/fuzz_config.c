/* fuzz_config.c - the configuration loader (JSON, defaults, validation,
 * "$ENV" secrets). */
#include "bot/config.h"
#include "bot/log.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(LOG_ERROR);   /* the loader's warnings would drown the fuzzer's output */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hl_config cfg;
    char err[512];
    setenv("HOTLINE_FUZZ_SECRET", "s3cret", 0);
    if (config_load_text(&cfg, (const char *)data, size, err, sizeof err) == 0)
        config_free(&cfg);
    return 0;
}
