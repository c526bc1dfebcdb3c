/* The shell: read a line with the line editor, split it into words, run the command
 * through trap_guard_run so a fault ends only the command.  Syntax: words separated by
 * blanks; "double" and 'single' quotes; backslash escapes; `;` separates commands;
 * `> FILE` / `>> FILE` at the end redirect a command's output (alone, they create FILE). */
#include <stdbool.h>
#include <string.h>
#include "kernel/console.h"
#include "kernel/trap_report.h"
#include "shell/lineedit.h"
#include "shell/shell.h"

extern const struct shell_cmd __shell_cmds_start[], __shell_cmds_end[];
static struct lineedit le;
static bool interrupted;   /* the last command was stopped by Ctrl-C */

const struct shell_cmd *shell_cmd_at(size_t i)
{
    const struct shell_cmd *c = __shell_cmds_start + i;
    return c < __shell_cmds_end ? c : NULL;
}

const struct shell_cmd *shell_find(const char *name)
{
    for (const struct shell_cmd *c = __shell_cmds_start; c < __shell_cmds_end; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

int shell_usage(const char *name)
{
    const struct shell_cmd *c = shell_find(name);
    eprintf("usage: %s %s\n", name, c ? c->args : "");
    return 2;
}

__attribute__((weak)) void shell_complete_path(const char *prefix, size_t len, struct le_candidates *out)
{
    (void)prefix;
    (void)len;
    (void)out;
}

__attribute__((weak)) int shell_redirect_begin(const char *path, int append)
{
    (void)path;
    (void)append;
    eprintf("redirection needs a mounted filesystem\n");
    return -1;
}

__attribute__((weak)) void shell_redirect_end(void) {}
__attribute__((weak)) void shell_after_fault(void) {}

__attribute__((weak)) const char *shell_cwd(void) { return "/"; }

/* The redirection operators as split() hands them on: only an unquoted `>` or `>>` word is
 * one, so `echo '>'` prints the character.  run_words compares pointers. */
static char op_trunc[] = ">", op_append[] = ">>";

static bool is_op(const char *w) { return w == op_trunc || w == op_append; }

/* Split LINE in place into words.  Returns the word count, or -1 with a message. Stops at
 * an unquoted ';' and stores the rest of the line in *rest. */
static int split(char *line, char **argv, char **rest)
{
    int argc = 0;
    char *r = line, *w = line;
    *rest = NULL;
    for (;;) {
        while (*r == ' ' || *r == '\t')
            r++;
        if (!*r)
            break;
        if (*r == ';') {
            *rest = r + 1;
            break;
        }
        if (argc == SHELL_MAX_ARGS) {
            eprintf("too many arguments (at most %d)\n", SHELL_MAX_ARGS);
            return -1;
        }
        argv[argc++] = w;
        char quote = 0;
        bool literal = false;   /* a quote or backslash was seen: not an operator */
        while (*r) {
            literal |= *r == '"' || *r == '\'' || *r == '\\';
            if (quote) {
                if (*r == quote) { quote = 0; r++; continue; }
                if (*r == '\\' && quote == '"' && r[1]) r++;
                *w++ = *r++;
                continue;
            }
            if (*r == ' ' || *r == '\t' || *r == ';')
                break;
            if (*r == '"' || *r == '\'') { quote = *r++; continue; }
            if (*r == '\\' && r[1]) r++;
            *w++ = *r++;
        }
        if (quote) {
            eprintf("unterminated %c quote\n", quote);
            return -1;
        }
        /* w trails r (quotes and escapes only remove bytes), so ending the word at w
         * never clobbers input not yet read once r has moved past the separator. */
        char stop = *r;
        if (stop)
            r++;
        *w++ = 0;
        char *word = argv[argc - 1];
        if (!literal && word[0] == '>' && (!word[1] || (word[1] == '>' && !word[2])))
            argv[argc - 1] = word[1] ? op_append : op_trunc;
        if (stop == ';') {
            *rest = r;
            break;
        }
    }
    argv[argc] = NULL;
    return argc;
}

struct call {
    const struct shell_cmd *cmd;
    int argc;
    char **argv;
};

static int call_cmd(void *p)
{
    struct call *c = p;
    return c->cmd->fn(c->argc, c->argv);
}

static int run_words(int argc, char **argv)
{
    /* Redirection: "> FILE" or ">> FILE" must be the last two words. */
    int redirect = 0;
    if (argc && is_op(argv[argc - 1])) {
        eprintf("missing file name after %s\n", argv[argc - 1]);
        return 2;
    }
    for (int i = 0; i < argc; i++)
        if (is_op(argv[i]) && i != argc - 2) {
            eprintf("%s FILE must end the command\n", argv[i]);
            return 2;
        }
    if (argc >= 2 && is_op(argv[argc - 2])) {
        redirect = argv[argc - 2] == op_append ? 2 : 1;
        argc -= 2;
    }
    if (argc == 0) {
        /* `> FILE` alone creates FILE empty or truncates it; `>> FILE` creates it if missing. */
        if (redirect && shell_redirect_begin(argv[1], redirect == 2) != 0)
            return 1;
        if (redirect)
            shell_redirect_end();
        return 0;
    }
    const struct shell_cmd *cmd = shell_find(argv[0]);
    if (!cmd) {
        eprintf("%s: unknown command (type 'help' for the list)\n", argv[0]);
        return 127;
    }
    if (redirect && shell_redirect_begin(argv[argc + 1], redirect == 2) != 0)
        return 1;
    argv[argc] = NULL;
    struct call c = { cmd, argc, argv };
    cons_interrupt = 0;
    int r = trap_guard_run(call_cmd, &c);
    if (redirect)
        shell_redirect_end();
    if (r == TRAP_FAULTED) {
        shell_after_fault();
        printf("%s: stopped by a CPU exception\n", argv[0]);
    }
    if (cons_interrupt) {
        /* Ctrl-C: like a terminal, drop the type-ahead (the ^C byte too, or the next
         * prompt would read it and cancel itself) and the rest of the line. */
        while (cons_trygetc() >= 0)
            ;
        cons_interrupt = 0;
        interrupted = true;
        return r ? r : 130;
    }
    return r;
}

int shell_exec_line(char *line)
{
    int status = 0;
    interrupted = false;
    while (line) {
        char *argv[SHELL_MAX_ARGS + 1], *rest;
        int argc = split(line, argv, &rest);
        status = argc < 0 ? 2 : run_words(argc, argv);
        line = interrupted ? NULL : rest;
    }
    return status;
}

static void le_output(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    cons_write(s, n);
}

static void complete(void *ctx, const char *line, size_t start, size_t len, struct le_candidates *out)
{
    (void)ctx;
    /* First word (of the line or after a ';'): command names; later words: paths. */
    size_t i = start;
    while (i > 0 && line[i - 1] == ' ')
        i--;
    if (i == 0 || line[i - 1] == ';') {
        for (const struct shell_cmd *c = __shell_cmds_start; c < __shell_cmds_end; c++)
            if (strncmp(c->name, line + start, len) == 0 && out->count < LE_MAX_CANDIDATES) {
                strncpy(out->word[out->count], c->name, sizeof out->word[0] - 1);
                out->word[out->count++][sizeof out->word[0] - 1] = 0;
            }
        return;
    }
    shell_complete_path(line + start, len, out);
}

void shell_run(void)
{
    static char prompt[80], line[LE_MAX_LINE + 1];
    le_init(&le, le_output, complete, NULL);
    for (;;) {
        snprintf(prompt, sizeof prompt, "velocity:%s$ ", shell_cwd());
        if (!cons_at_line_start())
            cons_write("\n", 1);
        le_start(&le, prompt);
        enum le_result r;
        do
            r = le_feed(&le, cons_getc());
        while (r == LE_MORE);
        if (r != LE_LINE)
            continue;
        memcpy(line, le.buf, le.len + 1);
        shell_exec_line(line);
    }
}
