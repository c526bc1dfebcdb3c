/* shell/run.h: what the `run` command (shell/cmds_run.c) lets other subsystems decide.
 *
 * run_check_program() is called with every program file before it is loaded.  Returning 0
 * lets it run; anything else refuses it, and `run` prints WHY.  The default (weak) allows
 * everything; the sitemap (issue 7's self-healing check) provides the real one. */
#ifndef SHELL_RUN_H
#define SHELL_RUN_H
#include <stddef.h>

int run_check_program(const char *abs_path, const void *image, size_t len, char *why,
                      size_t why_len);

#endif
