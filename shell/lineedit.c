/* Line editor; see lineedit.h.  After any change the editor redraws the line from the
 * prompt (CR, prompt, text, erase to end, cursor back): simple, and always right, whatever
 * the terminal did before. */
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

static void redraw(struct lineedit *le)
{
    outs(le, "\r");
    outs(le, le->prompt);
    out(le, le->buf, le->len);
    outs(le, "\x1b[K");
    size_t back = columns(le->buf + le->cur, le->len - le->cur);
    if (back) {
        char seq[16];
        int k = 0;
        char digits[8];
        int nd = 0;
        for (size_t v = back; v; v /= 10)
            digits[nd++] = (char)('0' + v % 10);
        seq[k++] = '\x1b';
        seq[k++] = '[';
        while (nd)
            seq[k++] = digits[--nd];
        seq[k++] = 'D';
        out(le, seq, (size_t)k);
    }
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
    size_t n = strlen(s);
    memcpy(le->buf, s, n + 1);
    le->len = le->cur = n;
    redraw(le);
}

static void insert(struct lineedit *le, const char *s, size_t n)
{
    if (le->len + n > LE_MAX_LINE) {
        outs(le, "\a");
        return;
    }
    memmove(le->buf + le->cur + n, le->buf + le->cur, le->len - le->cur);
    memcpy(le->buf + le->cur, s, n);
    le->len += n;
    le->cur += n;
    le->buf[le->len] = 0;
    if (le->cur == le->len && !is_cont(s[0]) && n == 1)
        out(le, s, n); /* plain typing at the end: just echo */
    else
        redraw(le);
}

static void delete_range(struct lineedit *le, size_t from, size_t to)
{
    memmove(le->buf + from, le->buf + to, le->len - to);
    le->len -= to - from;
    le->buf[le->len] = 0;
    if (le->cur > to) le->cur -= to - from;
    else if (le->cur > from) le->cur = from;
    redraw(le);
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
    size_t start = le->cur;
    while (start > 0 && le->buf[start - 1] != ' ')
        start--;
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
        if (final == 'H') le->cur = 0, redraw(le);
        else if (final == 'F') le->cur = le->len, redraw(le);
        return;
    }
    switch (final) {
    case 'A': history_move(le, +1); break;
    case 'B': history_move(le, -1); break;
    case 'C': if (le->cur < le->len) { le->cur = next_char(le, le->cur); redraw(le); } break;
    case 'D': if (le->cur > 0) { le->cur = prev_char(le, le->cur); redraw(le); } break;
    case 'H': le->cur = 0; redraw(le); break;
    case 'F': le->cur = le->len; redraw(le); break;
    case '~':
        if (!strcmp(p, "1") || !strcmp(p, "7")) { le->cur = 0; redraw(le); }
        else if (!strcmp(p, "4") || !strcmp(p, "8")) { le->cur = le->len; redraw(le); }
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
        return LE_MORE;
    }
    if (le->esc == ESC_CSI || le->esc == ESC_SS3) {
        if (le->esc == ESC_CSI && ((c >= '0' && c <= '9') || c == ';')) {
            if (le->esc_len + 1 < sizeof le->esc_buf) {
                le->esc_buf[le->esc_len++] = c;
                le->esc_buf[le->esc_len] = 0;
            }
            return LE_MORE;
        }
        escape_done(le, c);
        le->esc = ESC_NONE;
        return LE_MORE;
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
    case 1: le->cur = 0; redraw(le); break;
    case 5: le->cur = le->len; redraw(le); break;
    case 2: if (le->cur > 0) { le->cur = prev_char(le, le->cur); redraw(le); } break;
    case 6: if (le->cur < le->len) { le->cur = next_char(le, le->cur); redraw(le); } break;
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
