/* shell/lineedit on the host: feed the byte sequences a VT100 terminal sends and check
 * the resulting line, history and completion behaviour. */
#include <string.h>
#include "shell/lineedit.h"
#include "tests/check.h"

static char screen[65536];
static size_t screen_len;

static void out(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    if (screen_len + n < sizeof screen) {
        memcpy(screen + screen_len, s, n);
        screen_len += n;
        screen[screen_len] = 0;
    }
}

static void complete(void *ctx, const char *line, size_t start, size_t len, struct le_candidates *c)
{
    (void)ctx;
    static const char *const words[] = { "help", "hexdump", "history", "ls", "lspci", "dir/",
                                         "my\\ file", "\"a b\"" };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strncmp(words[i], line + start, len) == 0)
            strcpy(c->word[c->count++], words[i]);
}

static struct lineedit le;

/* Feed S; return the result of the last byte. */
static enum le_result feed(const char *s, size_t n)
{
    enum le_result r = LE_MORE;
    for (size_t i = 0; i < n; i++)
        r = le_feed(&le, (unsigned char)s[i]);
    return r;
}
#define FEED(lit) feed(lit, sizeof(lit) - 1)

static void line_is(const char *input, size_t n, const char *want, const char *name)
{
    le_start(&le, "> ");
    enum le_result r = feed(input, n);
    if (!check(r == LE_LINE, "%s: line completed", name))
        return;
    CHECK_STR(le.buf, want, "%s", name);
}
#define LINE(in, want, name) line_is(in, sizeof(in) - 1, want, name)

int main(void)
{
    le_init(&le, out, complete, NULL);
    LINE("hello\r", "hello", "plain typing");
    LINE("hello\r", "hello", "CR is Enter");
    le_start(&le, "> ");
    check(FEED("\n") == LE_MORE && le.len == 0, "the LF of CR LF is not a second Enter");
    check(FEED("\n") == LE_LINE, "a lone LF is an Enter");
    LINE("helx\x7flo\r", "hello", "backspace (DEL)");
    LINE("ab\x08\x08xy\r", "xy", "backspace (Ctrl-H)");
    LINE("wrld\x1b[D\x1b[D\x1b[Do\r", "world", "left arrow and insert");
    LINE("ac\x1b[Db\x1b[C\x1b[Cd\r", "abcd", "right arrow past the end stays at the end");
    LINE("bc\x1b[Ha\x1b[Fd\r", "abcd", "Home/End (CSI H/F)");
    LINE("bc\x1bOHa\x1bOFd\r", "abcd", "Home/End (SS3 H/F)");
    LINE("bc\x1b[1~a\x1b[4~d\r", "abcd", "Home/End (CSI 1~/4~)");
    LINE("bc\x1b[7~a\x1b[8~d\r", "abcd", "Home/End (CSI 7~/8~)");
    LINE("xabc\x1b[H\x1b[3~\r", "abc", "Delete key");
    LINE("bc\x01" "a\x05" "d\r", "abcd", "Ctrl-A / Ctrl-E");
    LINE("abcdef\x01\x06\x06\x0b\r", "ab", "Ctrl-F then Ctrl-K kills to end");
    LINE("abc def\x17\r", "abc ", "Ctrl-W kills a word");
    LINE("abcdef\x1b[D\x1b[D\x15\r", "ef", "Ctrl-U kills to start");

    le_start(&le, "> ");
    check(FEED("garbage\x03") == LE_CANCEL, "Ctrl-C abandons the line");
    check(le.len == 0, "Ctrl-C leaves an empty line");

    /* History: the lines entered above are in it, newest first. */
    le_init(&le, out, complete, NULL);
    LINE("first\r", "first", "history entry 1");
    LINE("second\r", "second", "history entry 2");
    LINE("\x1b[A\r", "second", "Up recalls the newest line");
    LINE("\x1b[A\x1b[A\r", "first", "Up twice recalls the older line");
    LINE("new\x1b[A\x1b[B\r", "new", "Down returns to the line being typed");
    le_init(&le, out, complete, NULL);
    LINE("one\r", "one", "history: one");
    LINE("two\r", "two", "history: two");
    LINE("three\r", "three", "history: three");
    LINE("\x10\x10\x10\x0e\r", "two", "Ctrl-P x3 then Ctrl-N");
    le_init(&le, out, complete, NULL);
    LINE("one\r", "one", "history: one again");
    LINE("two\r", "two", "history: two again");
    LINE("\x1b[A\x1b[A\x1b[A\x1b[A\r", "one", "Up past the oldest stays (bell)");
    LINE("two\r", "two", "a repeated line is stored once");
    LINE("\x1b[A\x1b[A\r", "one", "so Up twice reaches the line before it");

    /* Completion. */
    LINE("hel\t\r", "help ", "tab completes a unique command");
    LINE("lsp\t\r", "lspci ", "tab completes lspci");
    LINE("h\t\r", "h", "ambiguous prefix: no change on the first tab");
    LINE("he\t\r", "he", "ambiguous he: help/hexdump");
    screen_len = 0;
    LINE("he\t\t\r", "he", "double tab lists candidates");
    check(strstr(screen, "help") && strstr(screen, "hexdump"), "double tab shows both candidates");
    LINE("d\t\r", "dir/", "directory candidate gets no space");
    /* The word under the cursor follows the shell's syntax: an escaped or quoted blank
     * does not start a new word, an unquoted ';' does. */
    LINE("cat my\\ \t\r", "cat my\\ file ", "tab: a backslash-escaped blank stays in the word");
    LINE("cat \"a \t\r", "cat \"a b\" ", "tab: a quoted blank stays in the word");
    LINE("ls;hel\t\r", "ls;help ", "tab: ';' starts a new word");

    /* Robustness: control bytes, unknown escapes, overlong lines, binary garbage. */
    LINE("a\x02\x07\x0f\x1f" "b\r", "ba", "Ctrl-B moves left; other control bytes are ignored");
    LINE("ok\x1b[99;99Z\x1b[5~\r", "ok", "unknown escape sequences are ignored");
    le_start(&le, "> ");
    check(FEED("abc\x1b[\x03") == LE_CANCEL, "Ctrl-C inside an escape sequence still cancels");
    LINE("ab\x1b\x7f\r", "a", "a control byte after ESC is handled");
    le_start(&le, "> ");
    for (int i = 0; i < 5000; i++)
        le_feed(&le, 'x');
    check(le.len == LE_MAX_LINE, "input beyond the limit is refused (len %zu)", le.len);
    check(le_feed(&le, '\r') == LE_LINE, "overlong line still completes");
    le_start(&le, "> ");
    unsigned seed = 12345;
    int completed = 0;
    for (int i = 0; i < 200000; i++) {
        seed = seed * 1103515245 + 12345;
        int b = (seed >> 16) & 0xff;
        if (le_feed(&le, b) != LE_MORE) {
            completed++;
            check_failures += le.len > LE_MAX_LINE || strlen(le.buf) != le.len;
            le_start(&le, "> ");
        }
        if (le.len > LE_MAX_LINE || le.cur > le.len) {
            check(0, "random bytes broke the invariants at byte %d", i);
            break;
        }
    }
    check(completed > 0, "200000 random bytes: %d lines, invariants held", completed);
    LINE("caf\xc3\xa9\x1b[Dx\r", "cafx\xc3\xa9", "UTF-8: left arrow moves over a whole character");
    LINE("caf\xc3\xa9\x7f\r", "caf", "UTF-8: backspace removes a whole character");
    return check_exit_status();
}
