/* shell/lineedit.h: a terminal line editor, portable (host-tested in tests/shell).
 *
 * Feed it the bytes a VT100-style terminal sends; it edits a line, echoes through the
 * caller's output function, and says when the line is complete.  Keys: printable text
 * (UTF-8 too), Backspace/Ctrl-H, Delete (ESC[3~)/Ctrl-D, Left/Right (ESC[D/C, Ctrl-B/F),
 * Home/End (ESC[H/F, ESC[1~/4~, ESC[7~/8~, ESCOH/OF, Ctrl-A/E), Up/Down for history
 * (Ctrl-P/N), Ctrl-K/Ctrl-U kill to end/start, Ctrl-W kill word, Ctrl-C abandon the line,
 * Ctrl-L redraw, Tab completion through a callback.  Unknown control bytes and escape
 * sequences are ignored; input beyond LE_MAX_LINE is refused with a bell.
 * All state lives in the caller's struct lineedit; nothing is allocated. */
#ifndef SHELL_LINEEDIT_H
#define SHELL_LINEEDIT_H
#include <stddef.h>

#define LE_MAX_LINE 1024
#define LE_HISTORY 32
#define LE_MAX_CANDIDATES 64

typedef void (*le_out_fn)(void *ctx, const char *s, size_t n);

/* Completion: given the line and the start of the word under the cursor, fill up to
 * LE_MAX_CANDIDATES full replacement words (each < LE_MAX_LINE); return how many.
 * A candidate ending in '/' is a directory: no space is added after it. */
struct le_candidates {
    unsigned count;
    char word[LE_MAX_CANDIDATES][128];
};
typedef void (*le_complete_fn)(void *ctx, const char *line, size_t word_start, size_t word_len,
                               struct le_candidates *out);

enum le_result { LE_MORE, LE_LINE, LE_CANCEL };

struct lineedit {
    char buf[LE_MAX_LINE + 1];
    size_t len, cur;              /* bytes; cur is always at a UTF-8 character start */
    const char *prompt;
    le_out_fn out;
    le_complete_fn complete;
    void *ctx;
    int esc;                      /* escape-sequence parser state */
    char esc_buf[8];
    size_t esc_len;
    int last_was_cr, last_was_tab;
    char hist[LE_HISTORY][LE_MAX_LINE + 1];
    unsigned hist_count, hist_next;   /* ring of lines, hist_next = slot to write */
    int hist_pos;                     /* -1 = editing a new line */
    char saved[LE_MAX_LINE + 1];      /* the new line while browsing history */
    struct le_candidates cands;
};

void le_init(struct lineedit *le, le_out_fn out, le_complete_fn complete, void *ctx);
/* Begin a new line: print the prompt. */
void le_start(struct lineedit *le, const char *prompt);
/* Feed one input byte.  On LE_LINE the line is in le->buf (NUL-terminated) and has been
 * added to the history if non-empty; on LE_CANCEL the line was abandoned. */
enum le_result le_feed(struct lineedit *le, int byte);

#endif
