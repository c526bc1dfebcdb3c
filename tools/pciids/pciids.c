/* tools/pciids/pciids.c: turn Debian's pci.ids into the kernel's compact name table.
 *
 *   pciids PCI_IDS SELECT OUT.c
 *
 * Keeps every class, subclass and programming-interface name; the name of every vendor
 * that lists at least one device (the vendors of real hardware) or is named in SELECT;
 * and the device names SELECT asks for (tools/pciids/select.txt explains its format).
 *
 * Packing (decoded by drivers/pci/pci_names.c): names are byte strings ended by 0.
 * Printable ASCII stands for itself; a byte 0x80+i stands for dictionary word i (up to
 * 128 words, chosen by how many bytes they save); byte 0x01 says the next byte is literal
 * (for UTF-8 and anything else outside printable ASCII).  Identical names are stored once.
 * Lookup tables are sorted arrays of keys with parallel 16-bit name offsets:
 *   classes:  level << 24 | class << 16 | subclass << 8 | prog-if  (level 1, 2 or 3)
 *   vendors:  vendor id
 *   devices:  vendor << 16 | device
 * Prints the table's size to stderr so the cost stays visible in every build. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DICT_MAX = 128, CODE_DICT = 0x80, CODE_LITERAL = 0x01, LINE_MAX_LEN = 1024 };
enum { LEVEL_CLASS = 1, LEVEL_SUBCLASS = 2, LEVEL_PROGIF = 3 };

struct entry {
    uint32_t key;
    char *name;
    unsigned off;       /* in the encoded blob */
};

struct list {
    struct entry *v;
    size_t n, cap;
};

static struct list classes, vendors, devices;
static int vendor_has_devices[65536];   /* devices pci.ids lists per vendor */
static int min_devices = 1;              /* keep vendors listing at least this many */

/* SELECT: all devices of a vendor, or single devices. */
static unsigned char select_vendor[65536];
static uint32_t *select_dev;
static size_t nselect_dev;

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        fprintf(stderr, "pciids: out of memory\n");
        exit(1);
    }
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xrealloc(NULL, n), s, n);
}

static void add(struct list *l, uint32_t key, const char *name)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->v = xrealloc(l->v, l->cap * sizeof l->v[0]);
    }
    l->v[l->n].key = key;
    l->v[l->n].name = xstrdup(name);
    l->v[l->n].off = 0;
    l->n++;
}

/* "HHHH  name" with exactly DIGITS hex digits then two spaces; returns the name or NULL. */
static const char *parse_id(const char *s, int digits, unsigned *id)
{
    unsigned v = 0;
    for (int i = 0; i < digits; i++) {
        if (!isxdigit((unsigned char)s[i]))
            return NULL;
        v = v * 16 + (unsigned)(isdigit((unsigned char)s[i]) ? s[i] - '0' : tolower((unsigned char)s[i]) - 'a' + 10);
    }
    if (s[digits] != ' ' || s[digits + 1] != ' ')
        return NULL;
    *id = v;
    return s + digits + 2;
}

static void read_ids(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    char line[LINE_MAX_LEN];
    enum { NONE, VENDOR, CLASS } section = NONE;
    unsigned vendor = 0, cls = 0, sub = 0, id;
    const char *name;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == 0 || line[0] == '#')
            continue;
        if (line[0] == 'C' && line[1] == ' ' && (name = parse_id(line + 2, 2, &id))) {
            section = CLASS;
            cls = id;
            add(&classes, LEVEL_CLASS << 24 | cls << 16, name);
        } else if (line[0] != '\t' && (name = parse_id(line, 4, &id))) {
            section = VENDOR;
            vendor = id;
            add(&vendors, vendor, name);
        } else if (line[0] != '\t') {
            section = NONE;   /* another list (pci.ids has none today): ignored */
        } else if (section == CLASS && line[1] != '\t' && (name = parse_id(line + 1, 2, &id))) {
            sub = id;
            add(&classes, LEVEL_SUBCLASS << 24 | cls << 16 | sub << 8, name);
        } else if (section == CLASS && line[1] == '\t' && (name = parse_id(line + 2, 2, &id))) {
            add(&classes, LEVEL_PROGIF << 24 | cls << 16 | sub << 8 | id, name);
        } else if (section == VENDOR && line[1] != '\t' && (name = parse_id(line + 1, 4, &id))) {
            add(&devices, vendor << 16 | id, name);
            vendor_has_devices[vendor]++;
        }
        /* Two tabs in a vendor: subsystem names, not kept. */
    }
    fclose(f);
}

static void read_select(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    char line[LINE_MAX_LEN];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "#\r\n")] = 0;
        unsigned v, d;
        char extra;
        if (sscanf(line, " vendors-with-devices %u", &v) == 1) {
            min_devices = (int)v;
            continue;
        }
        int n = sscanf(line, "%x %x %c", &v, &d, &extra);
        if (n <= 0)
            continue;
        if (n == 3 || v > 0xffff || (n == 2 && d > 0xffff)) {
            fprintf(stderr, "%s:%d: expected VVVV or VVVV DDDD\n", path, lineno);
            exit(1);
        }
        if (n == 1) {
            select_vendor[v] = 1;
        } else {
            select_dev = xrealloc(select_dev, (nselect_dev + 1) * sizeof *select_dev);
            select_dev[nselect_dev++] = v << 16 | d;
        }
    }
    fclose(f);
}

static int selected_device(uint32_t key)
{
    if (select_vendor[key >> 16])
        return 1;
    for (size_t i = 0; i < nselect_dev; i++)
        if (select_dev[i] == key)
            return 1;
    return 0;
}

static void keep_if(struct list *l, int (*pred)(const struct entry *))
{
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++)
        if (pred(&l->v[i]))
            l->v[k++] = l->v[i];
        else
            free(l->v[i].name);
    l->n = k;
}

static int keep_device(const struct entry *e) { return selected_device(e->key); }

static int keep_vendor(const struct entry *e)
{
    if (vendor_has_devices[e->key] >= min_devices || select_vendor[e->key])
        return 1;
    for (size_t i = 0; i < nselect_dev; i++)
        if (select_dev[i] >> 16 == e->key)
            return 1;
    return 0;
}

static int cmp_entry(const void *a, const void *b)
{
    uint32_t x = ((const struct entry *)a)->key, y = ((const struct entry *)b)->key;
    return x < y ? -1 : x > y;
}

/* ---- dictionary ---------------------------------------------------------------------- */

struct word {
    char *s;
    size_t count;
    long saving;
};
static struct word *words;
static size_t nwords, words_cap;
static struct word dict[DICT_MAX];
static size_t ndict;

static void count_word(const char *s, size_t len)
{
    if (len < 2)
        return;
    for (size_t i = 0; i < nwords; i++)
        if (strlen(words[i].s) == len && !memcmp(words[i].s, s, len)) {
            words[i].count++;
            return;
        }
    if (nwords == words_cap) {
        words_cap = words_cap ? 2 * words_cap : 1024;
        words = xrealloc(words, words_cap * sizeof *words);
    }
    char *w = xrealloc(NULL, len + 1);
    memcpy(w, s, len);
    w[len] = 0;
    words[nwords].s = w;
    words[nwords].count = 1;
    nwords++;
}

/* Tokens are words with the space that follows them, so "Red Hat, Inc." is "Red ",
 * "Hat, ", "Inc."; both "Inc." and "Inc. " may earn a code of their own. */
static void count_words(const struct list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *s = l->v[i].name;
        while (*s) {
            size_t len = strcspn(s, " ");
            if (s[len] == ' ')
                len++;
            count_word(s, len);
            s += len;
        }
    }
}

static int cmp_saving(const void *a, const void *b)
{
    long x = ((const struct word *)a)->saving, y = ((const struct word *)b)->saving;
    return x > y ? -1 : x < y;
}

static void build_dict(void)
{
    count_words(&classes);
    count_words(&vendors);
    count_words(&devices);
    for (size_t i = 0; i < nwords; i++) {
        long len = (long)strlen(words[i].s);
        /* Each use saves len-1 bytes; the word costs its bytes, a NUL and an offset. */
        words[i].saving = (long)words[i].count * (len - 1) - (len + 3);
    }
    qsort(words, nwords, sizeof *words, cmp_saving);
    for (size_t i = 0; i < nwords && ndict < DICT_MAX && words[i].saving > 0; i++)
        dict[ndict++] = words[i];
}

/* ---- encoding ------------------------------------------------------------------------ */

static unsigned char *blob;
static size_t blob_len, blob_cap, raw_bytes;

static void put(unsigned char b)
{
    if (blob_len == blob_cap) {
        blob_cap = blob_cap ? 2 * blob_cap : 4096;
        blob = xrealloc(blob, blob_cap);
    }
    blob[blob_len++] = b;
}

static size_t encode(const char *s, unsigned char *out)
{
    size_t n = 0;
    while (*s) {
        size_t best = 0, best_len = 0;
        for (size_t i = 0; i < ndict; i++) {
            size_t len = strlen(dict[i].s);
            if (len > best_len && !strncmp(s, dict[i].s, len)) {
                best = i;
                best_len = len;
            }
        }
        if (best_len) {
            out[n++] = (unsigned char)(CODE_DICT + best);
            s += best_len;
        } else if (*s >= 0x20 && *s < 0x7f) {
            out[n++] = (unsigned char)*s++;
        } else {
            out[n++] = CODE_LITERAL;
            out[n++] = (unsigned char)*s++;
        }
    }
    out[n++] = 0;
    return n;
}

static void encode_list(struct list *l)
{
    unsigned char buf[2 * LINE_MAX_LEN + 1];
    for (size_t i = 0; i < l->n; i++) {
        raw_bytes += strlen(l->v[i].name) + 1;
        size_t n = encode(l->v[i].name, buf);
        size_t off = blob_len;
        /* Shared names (e.g. two "Red Hat, Inc." vendors) are stored once. */
        for (size_t p = 0; p + n <= blob_len; p++)
            if ((p == 0 || blob[p - 1] == 0) && !memcmp(blob + p, buf, n)) {
                off = p;
                break;
            }
        if (off == blob_len)
            for (size_t k = 0; k < n; k++)
                put(buf[k]);
        if (off > 0xffff) {
            fprintf(stderr, "pciids: names exceed 64 KiB; select fewer devices\n");
            exit(1);
        }
        l->v[i].off = (unsigned)off;
    }
}

/* ---- output -------------------------------------------------------------------------- */

static void emit_bytes(FILE *f, const char *name, const unsigned char *b, size_t n)
{
    fprintf(f, "static const uint8_t %s[%zu] = {", name, n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%u,", i % 24 ? "" : "\n    ", b[i]);
    fprintf(f, "\n};\n");
}

static void emit_keys(FILE *f, const char *prefix, const struct list *l, int wide)
{
    fprintf(f, "static const uint%d_t %s_keys[%zu] = {", wide ? 32 : 16, prefix, l->n ? l->n : 1);
    for (size_t i = 0; i < l->n; i++)
        fprintf(f, "%s%#x,", i % 8 ? " " : "\n    ", l->v[i].key);
    fprintf(f, "%s\n};\n", l->n ? "" : "0");
    fprintf(f, "static const uint16_t %s_names[%zu] = {", prefix, l->n ? l->n : 1);
    for (size_t i = 0; i < l->n; i++)
        fprintf(f, "%s%u,", i % 12 ? " " : "\n    ", l->v[i].off);
    fprintf(f, "%s\n};\n", l->n ? "" : "0");
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: pciids PCI_IDS SELECT OUT.c\n");
        return 2;
    }
    read_ids(argv[1]);
    read_select(argv[2]);
    keep_if(&devices, keep_device);
    keep_if(&vendors, keep_vendor);
    qsort(classes.v, classes.n, sizeof classes.v[0], cmp_entry);
    qsort(vendors.v, vendors.n, sizeof vendors.v[0], cmp_entry);
    qsort(devices.v, devices.n, sizeof devices.v[0], cmp_entry);
    build_dict();
    encode_list(&classes);
    encode_list(&vendors);
    encode_list(&devices);

    unsigned char dict_words[DICT_MAX * 64];
    unsigned dict_offs[DICT_MAX];
    size_t dict_len = 0;
    for (size_t i = 0; i < ndict; i++) {
        dict_offs[i] = (unsigned)dict_len;
        size_t len = strlen(dict[i].s) + 1;
        memcpy(dict_words + dict_len, dict[i].s, len);
        dict_len += len;
    }

    FILE *f = fopen(argv[3], "w");
    if (!f) {
        perror(argv[3]);
        return 1;
    }
    fprintf(f, "/* Generated by tools/pciids from %s and %s: do not edit. */\n", argv[1], argv[2]);
    fprintf(f, "#include \"drivers/pci/pci_names.h\"\n\n");
    emit_bytes(f, "names", blob, blob_len);
    emit_bytes(f, "dict_words", dict_words, dict_len ? dict_len : 1);
    fprintf(f, "static const uint16_t dict_offs[%zu] = {", ndict ? ndict : 1);
    for (size_t i = 0; i < ndict; i++)
        fprintf(f, "%s%u,", i % 12 ? " " : "\n    ", dict_offs[i]);
    fprintf(f, "%s\n};\n", ndict ? "" : "0");
    emit_keys(f, "class", &classes, 1);
    emit_keys(f, "vendor", &vendors, 0);
    emit_keys(f, "device", &devices, 1);
    fprintf(f, "\nconst struct pci_ids_table pci_ids = {\n"
               "    names, sizeof names, dict_words, dict_offs, %zu,\n"
               "    class_keys, class_names, %zu,\n"
               "    vendor_keys, vendor_names, %zu,\n"
               "    device_keys, device_names, %zu,\n};\n",
            ndict, classes.n, vendors.n, devices.n);
    if (fclose(f)) {
        perror(argv[3]);
        return 1;
    }
    size_t tables = dict_len + 2 * ndict + 6 * classes.n + 4 * vendors.n + 6 * devices.n;
    fprintf(stderr, "pciids: %zu classes, %zu vendors, %zu devices; names %zu bytes (%zu raw), "
                    "dictionary and indexes %zu bytes, total %zu bytes\n",
            classes.n, vendors.n, devices.n, blob_len, raw_bytes, tables, blob_len + tables);
    return 0;
}
