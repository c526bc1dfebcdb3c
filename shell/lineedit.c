/* Line editor; see lineedit.h.  The terminal's cursor is kept at le->cur; an edit rewrites
 * only the text from the first changed character to the end of the line, so a serial line at
 * 115200 baud stays responsive on long lines.  Ctrl-L and the completion listing redraw the
 * whole line from the prompt. */
#include <string.h>
#include "shell/lineedit.h"

enum { ESC_NONE, ESC_START, ESC_CSI, ESC_SS3 };

static void out(struct lineedit *le, const char *s, size_t n) { le->out(le->ctx, s, n); }
static void outs(struct lineedit *le, const char *s) { out(le, s, strlen(s)); }

static int is_cont(char c) { return ((unsigned char)c & 0xc0) == 0x80; }

static size_t columns(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += !is_cont(s[i]);
    return c;
}

/* Move the terminal cursor N columns left (dir < 0) or right. */
static void move_cols(struct lineedit *le, size_t n, int dir)
{
    if (!n)
        return;
    char seq[16], digits[8];
    int k = 0, nd = 0;
    for (size_t v = n; v; v /= 10)
        digits[nd++] = (char)('0' + v % 10);
    seq[k++] = '\x1b';
    seq[k++] = '[';
    while (nd)
        seq[k++] = digits[--nd];
    seq[k++] = dir < 0 ? 'D' : 'C';
    out(le, seq, (size_t)k);
}

/* The terminal cursor is at byte FROM of the line: rewrite from there to the end, erase
 * what was beyond (only needed when the line got shorter), and put the cursor back at
 * le->cur. */
static void refresh(struct lineedit *le, size_t from, int shorter)
{
    out(le, le->buf + from, le->len - from);
    if (shorter)
        outs(le, "\x1b[K");
    move_cols(le, columns(le->buf + le->cur, le->len - le->cur), -1);
}
static void refresh_from(struct lineedit *le, size_t from) { refresh(le, from, 1); }

/* Move the cursor to byte TO (updating le->cur). */
static void move_to(struct lineedit *le, size_t to)
{
    if (to < le->cur)
        move_cols(le, columns(le->buf + to, le->cur - to), -1);
    else
        move_cols(le, columns(le->buf + le->cur, to - le->cur), +1);
    le->cur = to;
}

static void redraw(struct lineedit *le)
{
    outs(le, "\r");
    outs(le, le->prompt);
    size_t cur = le->cur;
    le->cur = 0;
    refresh_from(le, 0);
    move_to(le, cur);
}

void le_init(struct lineedit *le, le_out_fn o, le_complete_fn complete, void *ctx)
{
    memset(le, 0, sizeof *le);
    le->out = o;
    le->complete = complete;
    le->ctx = ctx;
    le->hist_pos = -1;
}

void le_start(struct lineedit *le, const char *prompt)
{
    le->prompt = prompt;
    le->len = le->cur = 0;
    le->buf[0] = 0;
    le->esc = ESC_NONE;
    le->hist_pos = -1;
    outs(le, prompt);
}

static void set_line(struct lineedit *le, const char *s)
{
    move_to(le, 0);
    size_t n = strlen(s);
    memcpy(le->buf, s, n + 1);
    le->len = le->cur = n;
    refresh_from(le, 0);
}

static void insert(struct lineedit *le, const char *s, size_t n)
{
    if (le->len + n > LE_MAX_LINE) {
        outs(le, "\a");
        return;
    }
    memmove(le->buf + le->cur + n, le->buf + le->cur, le->len - le->cur);
    memcpy(le->buf + le->cur, s, n);
    size_t from = le->cur;
    le->len += n;
    le->cur += n;
    le->buf[le->len] = 0;
    refresh(le, from, 0); /* typing at the end: exactly the echo of the typed bytes */
}

static void delete_range(struct lineedit *le, size_t from, size_t to)
{
    if (from >= to)
        return;
    size_t cur = le->cur > to ? le->cur - (to - from) : le->cur > from ? from : le->cur;
    move_to(le, from);
    memmove(le->buf + from, le->buf + to, le->len - to);
    le->len -= to - from;
    le->buf[le->len] = 0;
    le->cur = cur;
    refresh_from(le, from);
}

static size_t prev_char(struct lineedit *le, size_t i)
{
    if (i == 0) return 0;
    do i--; while (i > 0 && is_cont(le->buf[i]));
    return i;
}

static size_t next_char(struct lineedit *le, size_t i)
{
    if (i >= le->len) return le->len;
    do i++; while (i < le->len && is_cont(le->buf[i]));
    return i;
}

static const char *hist_entry(struct lineedit *le, unsigned back)
{
    /* back = 0 is the newest */
    return le->hist[(le->hist_next + LE_HISTORY - 1 - back) % LE_HISTORY];
}

static void history_move(struct lineedit *le, int dir)
{
    int pos = le->hist_pos + dir;
    if (pos >= (int)le->hist_count || pos < -1) {
        outs(le, "\a");
        return;
    }
    if (le->hist_pos == -1)
        memcpy(le->saved, le->buf, le->len + 1);
    le->hist_pos = pos;
    set_line(le, pos == -1 ? le->saved : hist_entry(le, (unsigned)pos));
}

static void history_add(struct lineedit *le)
{
    if (le->len == 0)
        return;
    if (le->hist_count && strcmp(hist_entry(le, 0), le->buf) == 0)
        return; /* no duplicates of the previous line */
    memcpy(le->hist[le->hist_next], le->buf, le->len + 1);
    le->hist_next = (le->hist_next + 1) % LE_HISTORY;
    if (le->hist_count < LE_HISTORY)
        le->hist_count++;
}

static void complete(struct lineedit *le)
{
    if (!le->complete) {
        outs(le, "\a");
        return;
    }
    /* The word under the cursor begins after the last blank or ';' that is neither quoted
     * nor escaped (the shell's syntax), so a name with blanks completes as one word. */
    size_t start = 0;
    char quote = 0;
    for (size_t i = 0; i < le->cur; i++) {
        char ch = le->buf[i];
        if (ch == '\\' && quote != '\'' && i + 1 < le->cur)
            i++;
        else if (quote)
            quote = ch == quote ? 0 : quote;
        else if (ch == '"' || ch == '\'')
            quote = ch;
        else if (ch == ' ' || ch == ';')
            start = i + 1;
    }
    le->cands.count = 0;
    le->complete(le->ctx, le->buf, start, le->cur - start, &le->cands);
    struct le_candidates *c = &le->cands;
    if (c->count == 0) {
        outs(le, "\a");
        return;
    }
    /* Longest common prefix of all candidates. */
    size_t common = strlen(c->word[0]);
    for (unsigned i = 1; i < c->count; i++) {
        size_t k = 0;
        while (k < common && c->word[i][k] == c->word[0][k])
            k++;
        common = k;
    }
    size_t have = le->cur - start;
    if (common > have) {
        insert(le, c->word[0] + have, common - have);
        if (c->count == 1 && c->word[0][common - 1] != '/')
            insert(le, " ", 1);
        return;
    }
    if (c->count == 1) {
        if (c->word[0][common - 1] != '/' && (le->cur == le->len || le->buf[le->cur] != ' '))
            insert(le, " ", 1);
        return;
    }
    if (!le->last_was_tab) {
        outs(le, "\a");
        return;
    }
    outs(le, "\r\n");
    for (unsigned i = 0; i < c->count; i++) {
        outs(le, c->word[i]);
        outs(le, i + 1 < c->count ? "  " : "\r\n");
    }
    redraw(le);
}

static void escape_done(struct lineedit *le, char final)
{
    const char *p = le->esc_buf;
    if (le->esc == ESC_SS3) {
        if (final == 'H') move_to(le, 0);
        else if (final == 'F') move_to(le, le->len);
        return;
    }
    switch (final) {
    case 'A': history_move(le, +1); break;
    case 'B': history_move(le, -1); break;
    case 'C': move_to(le, next_char(le, le->cur)); break;
    case 'D': move_to(le, prev_char(le, le->cur)); break;
    case 'H': move_to(le, 0); break;
    case 'F': move_to(le, le->len); break;
    case '~':
        if (!strcmp(p, "1") || !strcmp(p, "7")) move_to(le, 0);
        else if (!strcmp(p, "4") || !strcmp(p, "8")) move_to(le, le->len);
        else if (!strcmp(p, "3") && le->cur < le->len) delete_range(le, le->cur, next_char(le, le->cur));
        break;
    default:
        break; /* unknown sequence: ignore */
    }
}

enum le_result le_feed(struct lineedit *le, int byte)
{
    char c = (char)byte;
    int was_tab = le->last_was_tab;
    le->last_was_tab = 0;
    if (le->esc == ESC_START) {
        le->esc_len = 0;
        le->esc_buf[0] = 0;
        le->esc = c == '[' ? ESC_CSI : c == 'O' ? ESC_SS3 : ESC_NONE;
        if (le->esc != ESC_NONE || ((unsigned char)c >= 0x20 && c != 0x7f))
            return LE_MORE;
        /* A control byte right after ESC: the sequence is abandoned, the byte counts. */
    } else if (le->esc == ESC_CSI || le->esc == ESC_SS3) {
        unsigned char u = (unsigned char)c;
        if (le->esc == ESC_CSI && u >= 0x20 && u <= 0x3f) { /* parameter/intermediate */
            if (le->esc_len + 1 < sizeof le->esc_buf) {
                le->esc_buf[le->esc_len++] = c;
                le->esc_buf[le->esc_len] = 0;
            }
            return LE_MORE;
        }
        if (u >= 0x40 && u <= 0x7e) { /* final byte */
            escape_done(le, c);
            le->esc = ESC_NONE;
            return LE_MORE;
        }
        le->esc = ESC_NONE; /* malformed: drop the sequence, handle the byte itself */
    }
    int was_cr = le->last_was_cr;
    le->last_was_cr = 0;
    switch (c) {
    case '\r':
        le->last_was_cr = 1;
        /* fall through */
    case '\n':
        if (c == '\n' && was_cr)
            return LE_MORE; /* the LF of a CR LF pair */
        outs(le, "\r\n");
        history_add(le);
        return LE_LINE;
    case 3: /* Ctrl-C */
        outs(le, "^C\r\n");
        le->len = le->cur = 0;
        le->buf[0] = 0;
        return LE_CANCEL;
    case 0x1b: le->esc = ESC_START; break;
    case 0x7f:
    case 8: if (le->cur > 0) delete_range(le, prev_char(le, le->cur), le->cur); break;
    case 4: if (le->cur < le->len) delete_range(le, le->cur, next_char(le, le->cur)); break;
    case 1: move_to(le, 0); break;
    case 5: move_to(le, le->len); break;
    case 2: move_to(le, prev_char(le, le->cur)); break;
    case 6: move_to(le, next_char(le, le->cur)); break;
    case 11: delete_range(le, le->cur, le->len); break;
    case 21: delete_range(le, 0, le->cur); break;
    case 23: {
        size_t i = le->cur;
        while (i > 0 && le->buf[i - 1] == ' ') i--;
        while (i > 0 && le->buf[i - 1] != ' ') i--;
        delete_range(le, i, le->cur);
        break;
    }
    case 12: outs(le, "\x1b[H\x1b[2J"); redraw(le); break;
    case 16: history_move(le, +1); break;
    case 14: history_move(le, -1); break;
    case '\t':
        le->last_was_tab = was_tab; /* complete() wants to know about a double tab */
        complete(le);
        le->last_was_tab = 1;
        break;
    default:
        if ((unsigned char)c >= 0x20 && c != 0x7f)
            insert(le, &c, 1);
        break; /* other control bytes: ignored */
    }
    return LE_MORE;
}
