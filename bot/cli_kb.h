/* cli_kb.h - the knowledge subcommands: ask and eval.
 *
 * argv starts at the subcommand's own arguments (after "ask" / "eval"; a
 * leading "ask" / "eval" is skipped if main() passes it along).  They return
 * the process's exit code: 0 ok, 1 error (message on stderr naming the file
 * and line), 2 usage. */
#ifndef HOTLINE_CLI_KB_H
#define HOTLINE_CLI_KB_H

/* hotline ask [--config FILE] [--corpus FILE] [--lexicon FILE] [--json] TEXT
 * The decision for TEXT, the top three candidates with their confidence and
 * the terms that contributed (what admins tune keywords with). */
int cli_ask(int argc, char **argv);

/* hotline eval [--config FILE] [--corpus FILE] [--lexicon FILE] [--json]
 *              [--unaccent] EVAL.jsonl
 * Measures top1/top3, precision, coverage and out-of-scope rejection over a
 * labelled set, with a threshold sweep and the list of misses. */
int cli_eval(int argc, char **argv);

#endif
