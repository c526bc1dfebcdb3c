/* tests/pci/test_pci_decode.c: host unit tests of drivers/pci/pci_decode.c over recorded
 * configuration-space dumps (tests/pci/fixtures/, see record_fixtures.py).
 *
 * Each dump becomes a simulated function: reads return the recorded bytes; writes to a
 * BAR or ROM register keep only the address bits a BAR of the recorded size implements
 * (the size comes from the device's owner: Linux's sysfs or QEMU's `info pci`), so the
 * all-ones probe reads back exactly what the hardware would.  The simulator also notices
 * a BAR written while decoding is on, a write anywhere else, and a status bit cleared.
 *
 * Checked per fixture: BAR kinds, addresses and sizes; every register restored; the
 * capability and extended-capability lists equal what pciutils (`lspci -F`) finds in the
 * same dump.  Then broken lists (loops, self-loops, pointers into the header, unaligned
 * pointers, all-ones space) built by patching real dumps, and the sizing arithmetic. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drivers/pci/pci_decode.h"
#include "tests/check.h"

#define FIXTURES "tests/pci/fixtures"

struct sim {
    char name[128];
    uint8_t cfg[PCI_CFG_EXT_SIZE];
    uint64_t size[7];          /* BAR 0-5 (64-bit: at the low index), 6 = ROM */
    unsigned space;            /* 256 or 4096 */
    int violations;
    char why[200];
};

static uint32_t rd(const struct sim *s, uint16_t off)
{
    return (uint32_t)s->cfg[off] | (uint32_t)s->cfg[off + 1] << 8 | (uint32_t)s->cfg[off + 2] << 16 |
           (uint32_t)s->cfg[off + 3] << 24;
}

static void wr(struct sim *s, uint16_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        s->cfg[off + i] = (uint8_t)(v >> (8 * i));
}

static void violation(struct sim *s, const char *what, uint16_t off)
{
    if (!s->violations++)
        snprintf(s->why, sizeof s->why, "%s at %#x", what, off);
}

/* Writable bits of the register at OFF of a function with layout LAYOUT, and whether it
 * is an address register at all. */
static int writable_mask(const struct sim *s, uint16_t off, uint32_t *mask)
{
    uint8_t layout = s->cfg[PCI_HEADER_TYPE] & PCI_HEADER_LAYOUT;
    int nbars = layout == PCI_HEADER_ENDPOINT ? 6 : layout == PCI_HEADER_BRIDGE ? 2 : 0;
    uint16_t rom = layout == PCI_HEADER_ENDPOINT ? PCI_ROM : PCI_BRIDGE_ROM;
    if (off == rom) {
        *mask = s->size[6] ? ((uint32_t)~(s->size[6] - 1) & PCI_ROM_MASK) | PCI_ROM_ENABLE : 0;
        return 1;
    }
    if (off < PCI_BAR0 || off >= PCI_BAR0 + 4 * nbars)
        return 0;
    int i = (off - PCI_BAR0) / 4;
    uint32_t low = rd(s, off);
    /* The upper half of a 64-bit BAR: its size is recorded at the BAR below. */
    if (i > 0 && !s->size[i]) {
        uint32_t below = rd(s, off - 4);
        if (!(below & PCI_BAR_IS_IO) && (below & PCI_BAR_TYPE_MASK) == PCI_BAR_TYPE_64 && s->size[i - 1]) {
            *mask = (uint32_t)(~(s->size[i - 1] - 1) >> 32);
            return 1;
        }
    }
    if (!s->size[i]) {
        *mask = 0;
        return 1;
    }
    uint32_t addr_bits = (low & PCI_BAR_IS_IO) ? PCI_BAR_IO_MASK : PCI_BAR_MEM_MASK;
    *mask = (uint32_t)~(s->size[i] - 1) & addr_bits;
    return 1;
}

static uint32_t sim_read(void *ctx, uint16_t off)
{
    struct sim *s = ctx;
    if (off % 4 || off >= s->space) {
        violation(s, "read out of range", off);
        return 0xffffffffu;
    }
    return rd(s, off);
}

static void sim_write(void *ctx, uint16_t off, uint32_t v)
{
    struct sim *s = ctx;
    uint32_t mask;
    if (off == PCI_COMMAND) {
        /* Status is write-one-to-clear: a 1 written there loses an error bit. */
        if ((v >> 16) & (rd(s, off) >> 16))
            violation(s, "status bits cleared", off);
        wr(s, off, (rd(s, off) & 0xffff0000u) | (v & 0xffff));
        return;
    }
    if (!writable_mask(s, off, &mask)) {
        violation(s, "write outside the BARs", off);
        return;
    }
    uint32_t old = rd(s, off);
    uint32_t new = (old & ~mask) | (v & mask);
    if (new != old && (s->cfg[PCI_COMMAND] & (PCI_CMD_IO | PCI_CMD_MEM)))
        violation(s, "BAR changed while decoding is on", off);
    wr(s, off, new);
}

static void cfg_of(struct sim *s, struct pci_cfg *c)
{
    c->read32 = sim_read;
    c->write32 = sim_write;
    c->ctx = s;
    c->size = (uint16_t)s->space;
}

static int load(const char *path, struct sim *s)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    memset(s, 0, sizeof *s);
    const char *base = strrchr(path, '/');
    snprintf(s->name, sizeof s->name, "%s", base ? base + 1 : path);
    char line[512];
    unsigned fill = 0;
    unsigned max_off = 0;
    s->space = PCI_CFG_SIZE;
    uint8_t seen[PCI_CFG_EXT_SIZE / 16] = { 0 };
    while (fgets(line, sizeof line, f)) {
        char what[16];
        unsigned long long v;
        unsigned off;
        int n;
        if (sscanf(line, "# size %15s %llx", what, &v) == 2) {
            int i = strcmp(what, "rom") == 0 ? 6 : atoi(what);
            if (i >= 0 && i <= 6)
                s->size[i] = v;
        } else if (sscanf(line, "# space %u", &off) == 1) {
            s->space = off == PCI_CFG_EXT_SIZE ? PCI_CFG_EXT_SIZE : PCI_CFG_SIZE;
        } else if (sscanf(line, "# fill %x", &off) == 1) {
            fill = off;
        } else if (sscanf(line, "%x:%n", &off, &n) == 1 && line[0] != '#' && off % 16 == 0 &&
                   off < PCI_CFG_EXT_SIZE && strlen(line) > 8) {
            if (strchr(line, '.') && strchr(line, '.') < line + 8)
                continue;   /* the "BB:DD.F name" header line */
            const char *p = line + n;
            for (int i = 0; i < 16; i++) {
                unsigned b;
                int k;
                if (sscanf(p, " %2x%n", &b, &k) != 1)
                    break;
                s->cfg[off + i] = (uint8_t)b;
                p += k;
            }
            seen[off / 16] = 1;
            if (off + 16 > max_off)
                max_off = off + 16;
        }
    }
    fclose(f);
    for (unsigned off = max_off; off < PCI_CFG_EXT_SIZE; off++)
        s->cfg[off] = (uint8_t)fill;
    return max_off >= 64 ? 0 : -1;
}

/* ---- pciutils' reading of the same dump --------------------------------------------- */

struct caps {
    unsigned off[64];
    int n;
    unsigned ext_off[64];
    int ext_n;
};

/* Capability offsets from `lspci -F PATH -v`; -1 when lspci cannot be run. */
static int pciutils_caps(const char *path, struct caps *c)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "lspci -F '%s' -v 2>/dev/null", path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    memset(c, 0, sizeof *c);
    char line[512];
    int lines = 0;
    while (fgets(line, sizeof line, p)) {
        lines++;
        const char *k = strstr(line, "Capabilities: [");
        unsigned off;
        if (!k || sscanf(k, "Capabilities: [%x", &off) != 1)
            continue;
        if (off >= PCI_EXT_CAP_FIRST && c->ext_n < 64)
            c->ext_off[c->ext_n++] = off;
        else if (off < PCI_EXT_CAP_FIRST && c->n < 64)
            c->off[c->n++] = off;
    }
    return pclose(p) == 0 && lines > 0 ? 0 : -1;
}

/* ---- per-fixture checks -------------------------------------------------------------- */

static void check_fixture(const char *path)
{
    struct sim s, orig;
    if (load(path, &s) != 0) {
        check(0, "%s: fixture loads", path);
        return;
    }
    orig = s;
    struct pci_cfg c;
    cfg_of(&s, &c);
    struct pci_dev d;
    memset(&d, 0, sizeof d);
    pci_decode_header(&c, &d);
    CHECK_EQ_U64(d.vendor, orig.cfg[0] | orig.cfg[1] << 8, "%s: vendor id", s.name);
    CHECK_EQ_U64(d.device, orig.cfg[2] | orig.cfg[3] << 8, "%s: device id", s.name);
    CHECK_EQ_U64((unsigned)d.class_code << 16 | d.subclass << 8 | d.prog_if,
                 (unsigned)orig.cfg[0x0b] << 16 | orig.cfg[0x0a] << 8 | orig.cfg[0x09], "%s: class code", s.name);

    int n = pci_decode_bars(&c, d.header_type, d.bar, &d.rom);
    check(s.violations == 0, "%s: sizing disables decoding and writes nothing else%s%s", s.name,
          s.violations ? ": " : "", s.why);
    check(memcmp(s.cfg, orig.cfg, sizeof s.cfg) == 0, "%s: every register restored after sizing", s.name);

    /* Expected BARs, decoded by hand from the raw registers and the recorded sizes. */
    int bad = 0;
    char why[200] = "";
    for (int i = 0; i < n; i++) {
        uint32_t low = rd(&orig, PCI_BAR0 + 4 * i);
        uint8_t kind = PCI_BAR_NONE;
        uint64_t addr = 0;
        bool pref = false;
        if (orig.size[i]) {
            if (low & PCI_BAR_IS_IO) {
                kind = PCI_BAR_IO;
                addr = low & ~3u;
            } else if ((low & 6) == 4) {
                kind = PCI_BAR_MEM64;
                addr = ((uint64_t)rd(&orig, PCI_BAR0 + 4 * i + 4) << 32) | (low & ~15u);
            } else {
                kind = PCI_BAR_MEM32;
                addr = low & ~15u;
            }
            pref = !(low & 1) && (low & 8);
        }
        const struct pci_bar *b = &d.bar[i];
        if (b->kind != kind || b->addr != addr || b->size != orig.size[i] || b->prefetchable != pref) {
            if (!bad++)
                snprintf(why, sizeof why, "BAR%d: kind %u addr %#llx size %#llx pref %d, want %u %#llx %#llx %d", i,
                         b->kind, (unsigned long long)b->addr, (unsigned long long)b->size, b->prefetchable, kind,
                         (unsigned long long)addr, (unsigned long long)orig.size[i], pref);
        }
        if (kind == PCI_BAR_MEM64)
            i++;
    }
    check(!bad, "%s: BAR kinds, addresses and sizes%s%s", s.name, bad ? ": " : "", why);
    CHECK_EQ_U64(d.rom.size, orig.size[6], "%s: expansion ROM size", s.name);

    uint8_t ids[PCI_MAX_CAPS], offs[PCI_MAX_CAPS];
    int ncaps = pci_cap_walk(&c, ids, offs, PCI_MAX_CAPS);
    uint16_t eids[64], eoffs[64];
    int next = pci_ext_cap_walk(&c, eids, eoffs, NULL, 64);
    struct caps pu;
    if (pciutils_caps(path, &pu) != 0) {
        check(0, "%s: pciutils reads the dump (is pciutils installed?)", s.name);
        return;
    }
    int same = ncaps == pu.n;
    for (int i = 0; same && i < ncaps; i++)
        same = offs[i] == pu.off[i];
    check(same, "%s: capability list equals pciutils' (%d found, pciutils %d)", s.name, ncaps, pu.n);
    /* pciutils reads extended space from any dump longer than 256 bytes. */
    if (s.space == PCI_CFG_EXT_SIZE) {
        same = next == pu.ext_n;
        for (int i = 0; same && i < next; i++)
            same = eoffs[i] == pu.ext_off[i];
        check(same, "%s: extended capability list equals pciutils' (%d found, pciutils %d)", s.name, next, pu.ext_n);
    }
    /* pci_cap_find_in: the first capability of each id, in list order. */
    for (int i = 0; i < ncaps; i++) {
        int first = 0;
        while (ids[first] != ids[i])
            first++;
        if (first == i)
            CHECK_EQ_U64(pci_cap_find_in(&c, ids[i]), offs[i], "%s: pci_cap_find_in finds capability %#x", s.name, ids[i]);
    }
}

/* ---- broken lists, built by patching a real dump ------------------------------------ */

static int find_fixture_with_caps(char *out, size_t n, int want_ext)
{
    DIR *dir = opendir(FIXTURES);
    if (!dir)
        return -1;
    struct dirent *e;
    int found = -1;
    while ((e = readdir(dir)) && found) {
        if (!strstr(e->d_name, ".txt"))
            continue;
        snprintf(out, n, "%s/%s", FIXTURES, e->d_name);
        struct sim s;
        if (load(out, &s))
            continue;
        struct pci_cfg c;
        cfg_of(&s, &c);
        uint8_t ids[PCI_MAX_CAPS], offs[PCI_MAX_CAPS];
        uint16_t eids[64], eoffs[64];
        if (pci_cap_walk(&c, ids, offs, PCI_MAX_CAPS) >= 3 &&
            (!want_ext || pci_ext_cap_walk(&c, eids, eoffs, NULL, 64) >= 2))
            found = 0;
    }
    closedir(dir);
    return found;
}

static void check_broken_lists(void)
{
    char path[512];
    if (find_fixture_with_caps(path, sizeof path, 1)) {
        check(0, "a fixture with 3+ capabilities and 2+ extended ones exists");
        return;
    }
    struct sim s0;
    load(path, &s0);
    struct pci_cfg c;
    uint8_t ids[PCI_MAX_CAPS], offs[PCI_MAX_CAPS];
    uint16_t eids[64], eoffs[64];
    struct sim s = s0;
    cfg_of(&s, &c);
    int n = pci_cap_walk(&c, ids, offs, PCI_MAX_CAPS);
    int en = pci_ext_cap_walk(&c, eids, eoffs, NULL, 64);

    /* The last capability points back to the first: each is listed once. */
    s = s0;
    s.cfg[offs[n - 1] + PCI_CAP_NEXT_OFF] = offs[0];
    CHECK_EQ_U64(pci_cap_walk(&c, ids, offs, PCI_MAX_CAPS), n, "loop back to the first capability ends the walk");
    s = s0;
    s.cfg[offs[0] + PCI_CAP_NEXT_OFF] = offs[0];
    CHECK_EQ_U64(pci_cap_walk(&c, ids, offs, PCI_MAX_CAPS), 1, "a capability pointing at itself is listed once");
    s = s0;
    s.cfg[offs[0] + PCI_CAP_NEXT_OFF] = 0x10;
    CHECK_EQ_U64(pci_cap_walk(&c, ids, offs, PCI_MAX_CAPS), 1, "a pointer into the header ends the walk");
    s = s0;
    s.cfg[PCI_CAP_PTR] = (uint8_t)(offs[0] | 2);
    CHECK_EQ_U64(pci_cap_walk(&c, ids, offs, PCI_MAX_CAPS), n, "the low two pointer bits are ignored");
    s = s0;
    s.cfg[PCI_STATUS] &= (uint8_t)~PCI_STATUS_CAP_LIST;
    CHECK_EQ_U64(pci_cap_walk(&c, ids, offs, PCI_MAX_CAPS), 0, "no capability list without the status bit");
    s = s0;
    CHECK_EQ_U64(pci_cap_walk(&c, ids, offs, 2), 2, "the walk stops at the caller's limit");
    s = s0;
    memset(s.cfg + PCI_CAP_FIRST, 0xff, PCI_CFG_SIZE - PCI_CAP_FIRST);
    s.cfg[PCI_CAP_PTR] = PCI_CAP_FIRST;
    CHECK_EQ_U64(pci_cap_walk(&c, ids, offs, PCI_MAX_CAPS), 0, "an all-ones capability area lists nothing");
    /* Every capability chained to every other: still bounded by the 48 slots. */
    s = s0;
    for (unsigned off = PCI_CAP_FIRST; off < PCI_CFG_SIZE; off += 4) {
        s.cfg[off] = PCI_CAP_VENDOR;
        s.cfg[off + 1] = (uint8_t)(off + 4 < PCI_CFG_SIZE ? off + 4 : PCI_CAP_FIRST);
    }
    s.cfg[PCI_CAP_PTR] = PCI_CAP_FIRST;
    CHECK_EQ_U64(pci_cap_walk(&c, ids, offs, PCI_MAX_CAPS), PCI_MAX_CAPS, "a full ring of capabilities is walked once");

    s = s0;
    uint32_t hdr = rd(&s, eoffs[en - 1]);
    wr(&s, eoffs[en - 1], (hdr & 0x000fffffu) | (uint32_t)PCI_EXT_CAP_FIRST << PCI_EXT_CAP_NEXT_SHIFT);
    CHECK_EQ_U64(pci_ext_cap_walk(&c, eids, eoffs, NULL, 64), en, "extended list looping to 0x100 ends the walk");
    s = s0;
    hdr = rd(&s, PCI_EXT_CAP_FIRST);
    wr(&s, PCI_EXT_CAP_FIRST, (hdr & 0x000fffffu) | 0x40u << PCI_EXT_CAP_NEXT_SHIFT);
    CHECK_EQ_U64(pci_ext_cap_walk(&c, eids, eoffs, NULL, 64), 1, "extended pointer below 0x100 ends the walk");
    s = s0;
    memset(s.cfg + PCI_EXT_CAP_FIRST, 0xff, PCI_CFG_EXT_SIZE - PCI_EXT_CAP_FIRST);
    CHECK_EQ_U64(pci_ext_cap_walk(&c, eids, eoffs, NULL, 64), 0, "all-ones extended space lists nothing");
    s = s0;
    s.space = PCI_CFG_SIZE;
    CHECK_EQ_U64(pci_ext_cap_walk(&c, eids, eoffs, NULL, 64), 0, "no extended walk without extended space");
    s = s0;
    for (unsigned off = PCI_EXT_CAP_FIRST; off < PCI_CFG_EXT_SIZE; off += 4)
        wr(&s, (uint16_t)off, PCI_EXT_CAP_VENDOR | 1u << PCI_EXT_CAP_VER_SHIFT |
                                  (uint32_t)(off + 4 < PCI_CFG_EXT_SIZE ? off + 4 : PCI_EXT_CAP_FIRST)
                                      << PCI_EXT_CAP_NEXT_SHIFT);
    uint16_t many_ids[PCI_MAX_EXT_CAPS], many_offs[PCI_MAX_EXT_CAPS];
    CHECK_EQ_U64(pci_ext_cap_walk(&c, many_ids, many_offs, NULL, PCI_MAX_EXT_CAPS), PCI_MAX_EXT_CAPS,
                 "a full ring of extended capabilities is walked once");
}

/* ---- BAR edge cases ------------------------------------------------------------------ */

static void check_bar_edges(void)
{
    /* Arithmetic of the all-ones probe. */
    CHECK_EQ_U64(pci_bar_size_from_probe(0xffffffe1u, 0), 32, "I/O BAR, 32 ports");
    CHECK_EQ_U64(pci_bar_size_from_probe(0x0000ffc1u, 0), 64, "I/O BAR decoding only 16 bits");
    CHECK_EQ_U64(pci_bar_size_from_probe(0xfffff000u, 0), 4096, "32-bit memory BAR, 4 KiB");
    CHECK_EQ_U64(pci_bar_size_from_probe(0xfffff008u, 0), 4096, "prefetchable bit is not an address bit");
    CHECK_EQ_U64(pci_bar_size_from_probe(0xffffc004u, 0xffffffffu), 0x4000, "64-bit BAR, 16 KiB");
    CHECK_EQ_U64(pci_bar_size_from_probe(0x0000000cu, 0xfffffff0u), 1ull << 36, "64-bit BAR, 64 GiB");
    CHECK_EQ_U64(pci_bar_size_from_probe(0x80000000u, 0), 1ull << 31, "32-bit memory BAR, 2 GiB");
    CHECK_EQ_U64(pci_bar_size_from_probe(0, 0), 0, "unimplemented BAR");
    CHECK_EQ_U64(pci_bar_size_from_probe(0x0000000cu, 0), 0, "64-bit BAR with no writable bits");

    /* A synthetic function: 64-bit prefetchable BAR above 4 GiB at BAR2, I/O at BAR0,
     * a 64-bit type in the last slot (malformed), decoding on. */
    struct sim s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "synthetic");
    s.space = PCI_CFG_SIZE;
    wr(&s, PCI_VENDOR_ID, 0x00011234);
    wr(&s, PCI_COMMAND, 0x00100007);   /* status: capability list; decoding and mastering on */
    wr(&s, PCI_BAR0, 0x0000c001);
    s.size[0] = 0x20;
    wr(&s, PCI_BAR0 + 8, 0x0000000c);
    wr(&s, PCI_BAR0 + 12, 0x000000e0);
    s.size[2] = 1ull << 33;
    wr(&s, PCI_BAR0 + 20, 0xfe000004);
    s.size[5] = 0x1000;
    struct sim orig = s;
    struct pci_cfg c;
    cfg_of(&s, &c);
    struct pci_bar bar[6], rom;
    pci_decode_bars(&c, PCI_HEADER_ENDPOINT, bar, &rom);
    check(s.violations == 0 && !memcmp(s.cfg, orig.cfg, sizeof s.cfg), "synthetic: sized with decoding off, restored%s%s",
          s.violations ? ": " : "", s.why);
    check(bar[0].kind == PCI_BAR_IO && bar[0].addr == 0xc000 && bar[0].size == 0x20, "synthetic: I/O BAR");
    check(bar[2].kind == PCI_BAR_MEM64 && bar[2].prefetchable && bar[2].addr == 0xe000000000ull &&
              bar[2].size == 1ull << 33 && bar[3].kind == PCI_BAR_NONE,
          "synthetic: 64-bit prefetchable 8 GiB BAR at 0xe000000000, upper half NONE");
    check(bar[5].kind == PCI_BAR_MEM32 && bar[5].addr == 0xfe000000 && bar[5].size == 0x1000,
          "synthetic: 64-bit type in the last slot decodes as its low half only");
    check(bar[1].kind == PCI_BAR_NONE && bar[4].kind == PCI_BAR_NONE && rom.kind == PCI_BAR_NONE,
          "synthetic: unimplemented BARs and ROM are NONE");
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : FIXTURES;
    DIR *d = opendir(dir);
    if (!d) {
        check(0, "fixtures directory %s opens", dir);
        return 1;
    }
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256)
        if (strstr(e->d_name, ".txt"))
            names[n++] = strdup(e->d_name);
    closedir(d);
    check(n >= 10, "at least 10 recorded dumps (%d)", n);
    for (int i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        check_fixture(path);
        free(names[i]);
    }
    check_broken_lists();
    check_bar_edges();
    return check_exit_status();
}
