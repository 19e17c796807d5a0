/* cli_config.h - the configuration subcommands: check-config and config-doc.
 *
 * Both take argv as main() hands it over after the binary's name, so
 * argv[0] is the subcommand itself.  They return the process's exit code. */
#ifndef HOTLINE_CLI_CONFIG_H
#define HOTLINE_CLI_CONFIG_H

/* hotline check-config FILE   (or: check-config --config FILE)
 * Prints "configuration OK" and returns 0, or prints the error on stderr and
 * returns 1; 2 on a usage error. */
int cli_check_config(int argc, char **argv);

/* hotline config-doc: prints the Markdown table of every key (README). */
int cli_config_doc(int argc, char **argv);

#endif
