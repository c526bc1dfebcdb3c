/* Name handling, no I/O: UTF-8 <-> UTF-16 for long names, the 8.3 form and its case flags,
 * alias generation (the ~N scheme), the long-name checksum, and case folding for
 * case-insensitive lookup.  Short names use code page 850, the default of mtools and of
 * Western DOS/Windows, so names other tools stored without a long entry read back right.
 * Folding covers ASCII, Latin-1, Greek and Cyrillic; other scripts compare exactly. */
#include "fs/fat_int.h"

static const uint16_t cp850[128] = {
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7,
    0x00EA, 0x00EB, 0x00E8, 0x00EF, 0x00EE, 0x00EC, 0x00C4, 0x00C5,
    0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9,
    0x00FF, 0x00D6, 0x00DC, 0x00F8, 0x00A3, 0x00D8, 0x00D7, 0x0192,
    0x00E1, 0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA, 0x00BA,
    0x00BF, 0x00AE, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x00C1, 0x00C2, 0x00C0,
    0x00A9, 0x2563, 0x2551, 0x2557, 0x255D, 0x00A2, 0x00A5, 0x2510,
    0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x00E3, 0x00C3,
    0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x00A4,
    0x00F0, 0x00D0, 0x00CA, 0x00CB, 0x00C8, 0x0131, 0x00CD, 0x00CE,
    0x00CF, 0x2518, 0x250C, 0x2588, 0x2584, 0x00A6, 0x00CC, 0x2580,
    0x00D3, 0x00DF, 0x00D4, 0x00D2, 0x00F5, 0x00D5, 0x00B5, 0x00FE,
    0x00DE, 0x00DA, 0x00DB, 0x00D9, 0x00FD, 0x00DD, 0x00AF, 0x00B4,
    0x00AD, 0x00B1, 0x2017, 0x00BE, 0x00B6, 0x00A7, 0x00F7, 0x00B8,
    0x00B0, 0x00A8, 0x00B7, 0x00B9, 0x00B3, 0x00B2, 0x25A0, 0x00A0,
};

uint32_t name_fold(uint32_t c)
{
    if (c >= 'a' && c <= 'z') return c - 32;
    if (c < 0xE0) return c;
    if (c <= 0xFE) return c == 0xF7 ? c : c - 32;
    if (c == 0xFF) return 0x178;
    if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;
    if (c >= 0x430 && c <= 0x44F) return c - 32;
    if (c >= 0x450 && c <= 0x45F) return c - 80;
    return c;
}

static uint32_t to_lower(uint32_t c)
{
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
    return c;
}

/* Decodes one UTF-8 sequence; returns bytes used, 0 for malformed input. */
static size_t utf8_dec(const char *s, size_t len, uint32_t *cp)
{
    const uint8_t *p = (const uint8_t *)s;
    if (p[0] < 0x80) { *cp = p[0]; return 1; }
    size_t n = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC0 ? 2 : 0;
    if (!n || n > len || p[0] > 0xF4) return 0;
    uint32_t c = p[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        c = c << 6 | (p[i] & 0x3F);
    }
    static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (c < min[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return n;
}

static size_t utf8_enc(uint32_t c, char *out)
{
    if (c < 0x80) { out[0] = (char)c; return 1; }
    if (c < 0x800) { out[0] = (char)(0xC0 | c >> 6); out[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | c >> 12); out[1] = (char)(0x80 | (c >> 6 & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | c >> 18); out[1] = (char)(0x80 | (c >> 12 & 0x3F));
    out[2] = (char)(0x80 | (c >> 6 & 0x3F)); out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

int name_to_utf16(const char *s, size_t len, uint16_t *out, uint32_t *n)
{
    uint32_t k = 0;
    if (len == 0)
        return FAT_EBADNAME;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t used = utf8_dec(s + i, len - i, &c);
        if (!used || c < 0x20 || c == 0x7F || (c < 0x80 && strchr("\"*/:<>?\\|", (int)c)))
            return FAT_EBADNAME;
        i += used;
        if (k + (c >= 0x10000 ? 2 : 1) > 255)
            return FAT_ENAMETOOLONG;
        if (c >= 0x10000) {
            c -= 0x10000;
            out[k++] = (uint16_t)(0xD800 | c >> 10);
            out[k++] = (uint16_t)(0xDC00 | (c & 0x3FF));
        } else {
            out[k++] = (uint16_t)c;
        }
    }
    /* Windows strips trailing dots and spaces; refusing them keeps names round-tripping. */
    if (out[k - 1] == '.' || out[k - 1] == ' ')
        return FAT_EBADNAME;
    *n = k;
    return FAT_OK;
}

void name_from_utf16(const uint16_t *u, uint32_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (uint32_t i = 0; i < n && u[i]; i++) {
        uint32_t c = u[i];
        if (c >= 0xD800 && c < 0xDC00 && i + 1 < n && u[i + 1] >= 0xDC00 && u[i + 1] < 0xE000) {
            c = 0x10000 + ((c - 0xD800) << 10) + (u[i + 1] - 0xDC00);
            i++;
        } else if (c >= 0xD800 && c < 0xE000) {
            c = 0xFFFD;   /* lone surrogate from a foreign writer */
        }
        char tmp[4];
        size_t k = utf8_enc(c, tmp);
        if (o + k >= cap)
            break;
        memcpy(out + o, tmp, k);
        o += k;
    }
    out[o] = 0;
}

uint32_t name_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t used = utf8_dec(s + i, len - i, &c);
        if (!used) { c = (uint8_t)s[i]; used = 1; }
        i += used;
        c = name_fold(c);
        for (int b = 0; b < 3; b++)
            h = (h ^ ((c >> (8 * b)) & 0xFF)) * 16777619u;
    }
    return h;
}

bool name_eq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b), i = 0, j = 0;
    while (i < alen && j < blen) {
        uint32_t ca, cb;
        size_t ua = utf8_dec(a + i, alen - i, &ca), ub = utf8_dec(b + j, blen - j, &cb);
        if (!ua || !ub)
            return false;
        if (name_fold(ca) != name_fold(cb))
            return false;
        i += ua, j += ub;
    }
    return i == alen && j == blen;
}

static bool short_char_ok(uint32_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c < 0x80 && c > 0x20 && strchr("!#$%&'()-@^_`{}~", (int)c));
}

bool name_short_exact(const uint16_t *u, uint32_t n, uint8_t sfn[11], uint8_t *ntres)
{
    memset(sfn, ' ', 11);
    *ntres = 0;
    uint32_t dot = n;
    for (uint32_t i = 0; i < n; i++)
        if (u[i] == '.') {
            if (dot != n) return false;
            dot = i;
        }
    if (dot == 0 || dot > 8 || (dot < n && (n - dot - 1 == 0 || n - dot - 1 > 3)))
        return false;
    for (int part = 0; part < 2; part++) {
        uint32_t from = part ? dot + 1 : 0, to = part ? n : dot;
        bool up = false, low = false;
        for (uint32_t i = from; i < to; i++) {
            if (!short_char_ok(u[i])) return false;
            up |= u[i] >= 'A' && u[i] <= 'Z';
            low |= u[i] >= 'a' && u[i] <= 'z';
            sfn[(part ? 8 : 0) + i - from] = (uint8_t)(u[i] >= 'a' && u[i] <= 'z' ? u[i] - 32 : u[i]);
        }
        if (up && low) return false;
        if (low) *ntres |= part ? NT_LOWER_EXT : NT_LOWER_BASE;
    }
    return true;
}

void name_short_base(const uint16_t *u, uint32_t n, uint8_t sfn[11], uint32_t *base_len)
{
    memset(sfn, ' ', 11);
    uint32_t dot = n;
    for (uint32_t i = 0; i < n; i++)
        if (u[i] == '.') dot = i;
    if (dot == 0) dot = n;   /* ".profile": all base, no extension */
    uint32_t b = 0;
    for (uint32_t i = 0; i < dot && b < 8; i++) {
        uint32_t c = u[i];
        if (c == ' ' || c == '.') continue;
        sfn[b++] = (uint8_t)(short_char_ok(c) ? (c >= 'a' && c <= 'z' ? c - 32 : c) : '_');
    }
    if (b == 0) sfn[b++] = '_';
    for (uint32_t i = dot + 1, e = 0; i < n && e < 3; i++) {
        uint32_t c = u[i];
        if (c == ' ') continue;
        sfn[8 + e++] = (uint8_t)(short_char_ok(c) ? (c >= 'a' && c <= 'z' ? c - 32 : c) : '_');
    }
    *base_len = b;
}

void name_short_tail(uint8_t sfn[11], uint32_t base_len, uint32_t num)
{
    char digits[12];
    int nd = 0;
    do { digits[nd++] = (char)('0' + num % 10); num /= 10; } while (num);
    uint32_t at = base_len + 1 + (uint32_t)nd > 8 ? 8 - 1 - (uint32_t)nd : base_len;
    sfn[at++] = '~';
    while (nd) sfn[at++] = (uint8_t)digits[--nd];
    while (at < 8) sfn[at++] = ' ';
}

void name_short_format(const uint8_t sfn[11], uint8_t ntres, char *out, size_t cap)
{
    size_t o = 0;
    for (int part = 0; part < 2; part++) {
        int from = part ? 8 : 0, to = part ? 11 : 8;
        while (to > from && sfn[to - 1] == ' ') to--;
        if (part && to > from && o + 1 < cap) out[o++] = '.';
        bool low = ntres & (part ? NT_LOWER_EXT : NT_LOWER_BASE);
        for (int i = from; i < to; i++) {
            uint32_t c = sfn[i];
            if (i == 0 && c == DE_KANJI_E5) c = 0xE5;
            if (c >= 0x80) c = cp850[c - 0x80];
            if (low) c = to_lower(c);
            char tmp[4];
            size_t k = utf8_enc(c, tmp);
            if (o + k >= cap) break;
            memcpy(out + o, tmp, k);
            o += k;
        }
    }
    out[o] = 0;
}

uint8_t name_lfn_checksum(const uint8_t sfn[11])
{
    uint8_t sum = 0;
    for (int i = 0; i < 11; i++)
        sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + sfn[i]);
    return sum;
}
