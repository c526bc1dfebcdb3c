/* shell/shell.h: the serial-console shell and its command table.
 *
 * Any file adds commands without editing the shell:
 *     static int cmd_uptime(int argc, char **argv) { ... }
 *     SHELL_COMMAND("uptime", cmd_uptime, "", "time since power-on");
 * The linker gathers the entries into one table (section .shell_cmds, mk/kernel.lds).
 * A command prints through printf (which the shell may redirect into a file), reports
 * bad arguments with one line (shell_usage), and returns 0 on success.  A CPU exception
 * inside a command is reported and ends only that command. */
#ifndef SHELL_SHELL_H
#define SHELL_SHELL_H
#include <stddef.h>

struct shell_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *args;   /* usage synopsis, e.g. "[-v|-t]" */
    const char *help;   /* one line */
};

#define SHELL_COMMAND(name_, fn_, args_, help_)                                         \
    static const struct shell_cmd shell_cmd_##fn_                                       \
        __attribute__((used, section(".shell_cmds"), aligned(8))) = { name_, fn_, args_, help_ }

#define SHELL_MAX_ARGS 32

/* The shell's main loop; never returns. */
__attribute__((noreturn)) void shell_run(void);
/* Run one command line as if typed (no prompt, no echo); returns its status. */
int shell_exec_line(char *line);
const struct shell_cmd *shell_find(const char *name);
/* Print "usage: NAME ARGS" for the command and return 2. */
int shell_usage(const char *name);
/* Iterate over the table: returns NULL past the end. */
const struct shell_cmd *shell_cmd_at(size_t i);

/* Hooks a filesystem layer provides (weak defaults say "no filesystem"). */
struct le_candidates;
void shell_complete_path(const char *prefix, size_t len, struct le_candidates *out);
/* Open PATH for output redirection; on success set the console sink and return 0. */
int shell_redirect_begin(const char *path, int append);
void shell_redirect_end(void);
/* After a command was stopped by a CPU exception: drop what it left open. */
void shell_after_fault(void);
const char *shell_cwd(void);

#endif
