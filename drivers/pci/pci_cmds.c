/* drivers/pci/pci_cmds.c: the PCI shell commands.
 *
 *   lspci [-n] [-v] [-t] [-x|-xxx|-xxxx] [-s BB:DD.F]
 *       one line per function in the style of pciutils; -v adds BARs, interrupt, bridge
 *       windows and capabilities; -t draws the bus tree; -x dumps configuration space in
 *       lspci's hex format (64, 256 or 4096 bytes), which `lspci -F FILE` reads back.
 *   pci list            one machine-readable line per function (the QEMU tests parse it):
 *       access=ecam|legacy count=N, then per function
 *       SSSS:BB:DD.F VVVV:DDDD class=CCSSPP rev=RR hdr=H mf=M cmd=CCCC pin=P line=L
 *       [sub=VVVV:DDDD] [bus=SEC-SUB] [parent=BB:DD.F] [barN=io|mem32|mem64[p],ADDR,SIZE]...
 *       [rom=on|off,ADDR,SIZE] caps=pm,msi,msix,pcie,
 *   pci rescan [--legacy|--ecam]   scan again, through the given configuration mechanism
 *
 * Everything is read from the table pci_init built, except capabilities and dumps, which
 * read configuration space live. */
#include <string.h>
#include "drivers/pci/pci.h"
#include "drivers/pci/pci_decode.h"
#include "drivers/pci/pci_internal.h"
#include "drivers/pci/pci_names.h"
#include "kernel/console.h"
#include "shell/shell.h"

enum { NAME_MAX_LEN = 160 };

/* PCI Express capability (PCIe 4.0 §7.5.3). */
enum pcie_cap_reg { PCIE_CAPS = 2 };
enum {
    PCIE_CAPS_TYPE_SHIFT = 4, PCIE_CAPS_TYPE_MASK = 0xf,
    PCIE_CAPS_SLOT = 1u << 8,
    PCIE_CAPS_MSGNUM_SHIFT = 9, PCIE_CAPS_MSGNUM_MASK = 0x1f,
};
/* Power Management capability: PMC register at +2, version in bits 0-2. */
enum { PM_PMC = 2, PM_PMC_VERSION = 7 };
/* MSI / MSI-X control registers at +2 (see pci.c for the full layout). */
enum { CAP_CONTROL = 2, MSI_CTL_ENABLE = 1u << 0, MSI_CTL_MMC_SHIFT = 1, MSI_CTL_MME_SHIFT = 4,
       MSI_CTL_MM_MASK = 7, MSI_CTL_64 = 1u << 7, MSI_CTL_PVM = 1u << 8 };
enum { MSIX_CTL_SIZE = 0x7ff, MSIX_CTL_MASKALL = 1u << 14, MSIX_CTL_ENABLE = 1u << 15 };
/* SATA capability: revision byte at +2 (major in bits 7:4). */
enum { SATA_REVISION = 2 };
/* Vendor-specific capability: length byte at +2. */
enum { VNDR_LEN = 2 };
/* Bridge windows (PCI-to-PCI Bridge 1.2 §3.2.5). */
enum bridge_reg {
    BR_IO_BASE = 0x1c, BR_IO_LIMIT = 0x1d,         /* 8: address bits 15:12 in 7:4 */
    BR_MEM_BASE = 0x20, BR_MEM_LIMIT = 0x22,       /* 16: address bits 31:20 in 15:4 */
    BR_PREF_BASE = 0x24, BR_PREF_LIMIT = 0x26,     /* 16: like memory, bit 0 = 64-bit */
    BR_PREF_BASE_HI = 0x28, BR_PREF_LIMIT_HI = 0x2c,
    BR_IO_BASE_HI = 0x30, BR_IO_LIMIT_HI = 0x32,
};

/* ---- names --------------------------------------------------------------------------- */

/* "Non-Volatile memory controller", "Mass storage controller [0142]" or "Class ee42". */
static void class_text(const struct pci_dev *d, bool numeric, char *out, size_t n)
{
    char name[NAME_MAX_LEN];
    unsigned cc = (unsigned)d->class_code << 8 | d->subclass;
    if (numeric)
        snprintf(out, n, "%04x", cc);
    else if (pci_name_subclass(d->class_code, d->subclass, name, sizeof name))
        snprintf(out, n, "%s", name);
    else if (pci_name_class(d->class_code, name, sizeof name))
        snprintf(out, n, "%s [%04x]", name, cc);
    else
        snprintf(out, n, "Class %04x", cc);
}

/* "Red Hat, Inc. QEMU NVM Express Controller [1b36:0010]", "Intel Corporation Device
 * [8086:5678]" or "Device [1234:5678]". */
static void id_text(uint16_t vendor, uint16_t device, bool numeric, char *out, size_t n)
{
    char vn[NAME_MAX_LEN], dn[NAME_MAX_LEN];
    if (numeric)
        snprintf(out, n, "%04x:%04x", vendor, device);
    else if (!pci_name_vendor(vendor, vn, sizeof vn))
        snprintf(out, n, "Device [%04x:%04x]", vendor, device);
    else if (!pci_name_device(vendor, device, dn, sizeof dn))
        snprintf(out, n, "%s Device [%04x:%04x]", vn, vendor, device);
    else
        snprintf(out, n, "%s %s [%04x:%04x]", vn, dn, vendor, device);
}

static void print_addr(const struct pci_dev *d)
{
    if (d->segment)
        printf("%04x:", d->segment);
    printf("%02x:%02x.%x", d->bus, d->dev, d->fn);
}

static void print_line(struct pci_dev *d, bool numeric, bool verbose)
{
    char cls[NAME_MAX_LEN], ids[2 * NAME_MAX_LEN];
    class_text(d, numeric, cls, sizeof cls);
    id_text(d->vendor, d->device, numeric, ids, sizeof ids);
    print_addr(d);
    printf(" %s: %s", cls, ids);
    if (d->revision)
        printf(" (rev %02x)", d->revision);
    if (verbose) {   /* like pciutils: shown when non-zero or named */
        char pi[NAME_MAX_LEN];
        if (!numeric && pci_name_progif(d->class_code, d->subclass, d->prog_if, pi, sizeof pi))
            printf(" (prog-if %02x [%s])", d->prog_if, pi);
        else if (d->prog_if)
            printf(" (prog-if %02x)", d->prog_if);
    }
    printf("\n");
}

/* ---- lspci -v ------------------------------------------------------------------------ */

/* pciutils' size style: the largest unit that divides exactly. */
static void print_size(uint64_t size)
{
    static const char *const unit[] = { "", "K", "M", "G", "T" };
    unsigned u = 0;
    while (size && size % 1024 == 0 && u < 4) {
        size /= 1024;
        u++;
    }
    printf("[size=%llu%s]", (unsigned long long)size, unit[u]);
}

static void print_bars(struct pci_dev *d, uint16_t cmd)
{
    for (int i = 0; i < 6; i++) {
        const struct pci_bar *b = &d->bar[i];
        if (b->kind == PCI_BAR_NONE)
            continue;
        if (b->kind == PCI_BAR_IO) {
            printf("\tI/O ports at %04llx%s ", (unsigned long long)b->addr, cmd & PCI_CMD_IO ? "" : " [disabled]");
        } else {
            printf("\tMemory at %08llx (%s, %sprefetchable)%s ", (unsigned long long)b->addr,
                   b->kind == PCI_BAR_MEM64 ? "64-bit" : "32-bit", b->prefetchable ? "" : "non-",
                   cmd & PCI_CMD_MEM ? "" : " [disabled]");
        }
        print_size(b->size);
        printf("\n");
    }
    if (d->rom.kind != PCI_BAR_NONE) {
        uint32_t raw = pci_read32(d, d->header_type == PCI_HEADER_ENDPOINT ? PCI_ROM : PCI_BRIDGE_ROM);
        bool on = (raw & PCI_ROM_ENABLE) && (cmd & PCI_CMD_MEM);
        printf("\tExpansion ROM at %08llx%s ", (unsigned long long)d->rom.addr, on ? "" : " [disabled]");
        print_size(d->rom.size);
        printf("\n");
    }
}

static void print_window(const char *what, uint64_t base, uint64_t limit)
{
    if (base > limit) {
        printf("\t%s behind bridge: [disabled]\n", what);
        return;
    }
    printf("\t%s behind bridge: %08llx-%08llx ", what, (unsigned long long)base, (unsigned long long)limit);
    print_size(limit - base + 1);
    printf("\n");
}

static void print_bridge(struct pci_dev *d)
{
    printf("\tBus: primary=%02x, secondary=%02x, subordinate=%02x\n", pci_read8(d, PCI_PRIMARY_BUS),
           d->secondary_bus, d->subordinate_bus);
    uint8_t iob = pci_read8(d, BR_IO_BASE), iol = pci_read8(d, BR_IO_LIMIT);
    uint64_t io_base = (uint64_t)(iob & 0xf0) << 8, io_limit = (uint64_t)(iol & 0xf0) << 8 | 0xfff;
    if ((iob & 0xf) == 1) {   /* 32-bit I/O addressing */
        io_base |= (uint64_t)pci_read16(d, BR_IO_BASE_HI) << 16;
        io_limit |= (uint64_t)pci_read16(d, BR_IO_LIMIT_HI) << 16;
    }
    print_window("I/O", io_base, io_limit);
    uint64_t mb = (uint64_t)(pci_read16(d, BR_MEM_BASE) & 0xfff0) << 16;
    uint64_t ml = (uint64_t)(pci_read16(d, BR_MEM_LIMIT) & 0xfff0) << 16 | 0xfffff;
    print_window("Memory", mb, ml);
    uint16_t pb = pci_read16(d, BR_PREF_BASE), pl = pci_read16(d, BR_PREF_LIMIT);
    uint64_t pbase = (uint64_t)(pb & 0xfff0) << 16, plimit = (uint64_t)(pl & 0xfff0) << 16 | 0xfffff;
    if ((pb & 0xf) == 1) {    /* 64-bit prefetchable window */
        pbase |= (uint64_t)pci_read32(d, BR_PREF_BASE_HI) << 32;
        plimit |= (uint64_t)pci_read32(d, BR_PREF_LIMIT_HI) << 32;
    }
    print_window("Prefetchable memory", pbase, plimit);
}

/* Device/port type + 1 (the records need a non-zero id). */
static const char pcie_types[] =
    "\x01" "Endpoint\0"
    "\x02" "Legacy Endpoint\0"
    "\x05" "Root Port\0"
    "\x06" "Upstream Port\0"
    "\x07" "Downstream Port\0"
    "\x08" "PCI-Express to PCI/PCI-X Bridge\0"
    "\x09" "PCI/PCI-X to PCI-Express Bridge\0"
    "\x0a" "Root Complex Integrated Endpoint\0"
    "\x0b" "Root Complex Event Collector\0";


static const char cap_names[] =
    "\x01" "Power Management\0"
    "\x02" "AGP\0"
    "\x03" "Vital Product Data\0"
    "\x04" "Slot ID\0"
    "\x05" "MSI\0"
    "\x06" "CompactPCI hot-swap\0"
    "\x07" "PCI-X\0"
    "\x08" "HyperTransport\0"
    "\x09" "Vendor Specific Information\0"
    "\x0a" "Debug port\0"
    "\x0b" "CompactPCI central resource control\0"
    "\x0c" "Hot-plug capable\0"
    "\x0d" "Subsystem\0"
    "\x0e" "AGP3\0"
    "\x0f" "Secure device\0"
    "\x10" "Express\0"
    "\x11" "MSI-X\0"
    "\x12" "SATA HBA\0"
    "\x13" "PCI Advanced Features\0"
    "\x14" "Enhanced Allocation\0"
    "\x15" "Flattening Portal Bridge\0";


static const char ext_cap_names[] =
    "\x01" "Advanced Error Reporting\0"
    "\x02" "Virtual Channel\0"
    "\x03" "Device Serial Number\0"
    "\x04" "Power Budgeting\0"
    "\x05" "Root Complex Link\0"
    "\x06" "Root Complex Internal Link\0"
    "\x07" "Root Complex Event Collector\0"
    "\x08" "Multi-Function Virtual Channel\0"
    "\x09" "Virtual Channel\0"
    "\x0a" "Root Complex Register Block\0"
    "\x0b" "Vendor Specific Information\0"
    "\x0c" "Config Request Retry Status\0"
    "\x0d" "Access Control Services\0"
    "\x0e" "Alternative Routing-ID Interpretation (ARI)\0"
    "\x0f" "Address Translation Service (ATS)\0"
    "\x10" "Single Root I/O Virtualization (SR-IOV)\0"
    "\x11" "Multi-Root I/O Virtualization (MR-IOV)\0"
    "\x12" "Multicast\0"
    "\x13" "Page Request Interface (PRI)\0"
    "\x15" "Resizable BAR\0"
    "\x16" "Dynamic Power Allocation\0"
    "\x17" "Transaction Processing Hints\0"
    "\x18" "Latency Tolerance Reporting\0"
    "\x19" "Secondary PCI Express\0"
    "\x1b" "Process Address Space ID (PASID)\0"
    "\x1d" "Downstream Port Containment\0"
    "\x1e" "L1 PM Substates\0"
    "\x1f" "Precision Time Measurement\0"
    "\x25" "Data Link Feature\0"
    "\x26" "Physical Layer 16.0 GT/s\0";


/* The name tables above are packed as (id byte, name, NUL) records, id 0 never used,
 * which costs no pointers or relocations. */
static const char *table_name(const char *table, size_t size, unsigned id)
{
    for (const char *p = table; p < table + size - 1; p += strlen(p) + 1)
        if ((unsigned char)p[0] == id)
            return p + 1;
    return NULL;
}
#define NAME_OF(table, id) table_name(table, sizeof table, (id))

static char sign(bool b) { return b ? '+' : '-'; }

static void print_cap(struct pci_dev *d, uint8_t id, uint8_t off)
{
    const char *name = id ? NAME_OF(cap_names, id) : NULL;
    printf("\tCapabilities: [%02x] ", off);
    if (!name) {
        printf("Capability ID %#04x\n", id);
        return;
    }
    switch (id) {
    case PCI_CAP_PM:
        printf("%s version %u\n", name, pci_read16(d, off + PM_PMC) & PM_PMC_VERSION);
        break;
    case PCI_CAP_MSI: {
        uint16_t c = pci_read16(d, off + CAP_CONTROL);
        printf("MSI: Enable%c Count=%u/%u Maskable%c 64bit%c\n", sign(c & MSI_CTL_ENABLE),
               1u << ((c >> MSI_CTL_MME_SHIFT) & MSI_CTL_MM_MASK), 1u << ((c >> MSI_CTL_MMC_SHIFT) & MSI_CTL_MM_MASK),
               sign(c & MSI_CTL_PVM), sign(c & MSI_CTL_64));
        break;
    }
    case PCI_CAP_MSIX: {
        uint16_t c = pci_read16(d, off + CAP_CONTROL);
        printf("MSI-X: Enable%c Count=%u Masked%c\n", sign(c & MSIX_CTL_ENABLE), (c & MSIX_CTL_SIZE) + 1u,
               sign(c & MSIX_CTL_MASKALL));
        break;
    }
    case PCI_CAP_PCIE: {
        uint16_t c = pci_read16(d, off + PCIE_CAPS);
        const char *t = NAME_OF(pcie_types, ((c >> PCIE_CAPS_TYPE_SHIFT) & PCIE_CAPS_TYPE_MASK) + 1);
        /* pciutils shows the capability version only with -vv; so do we (never). */
        printf("Express ");
        printf("%s%s, MSI %02x\n", t ? t : "Unknown type", (c & PCIE_CAPS_SLOT) ? " (Slot+)" : "",
               (c >> PCIE_CAPS_MSGNUM_SHIFT) & PCIE_CAPS_MSGNUM_MASK);
        break;
    }
    case PCI_CAP_SATA: {
        uint8_t rev = pci_read8(d, off + SATA_REVISION);
        printf("%s v%u.%u\n", name, rev >> 4, rev & 0xf);
        break;
    }
    case PCI_CAP_VENDOR:
        printf("%s: Len=%02x <?>\n", name, pci_read8(d, off + VNDR_LEN));
        break;
    case PCI_CAP_BRIDGE_SUBSYS: {
        char ids[2 * NAME_MAX_LEN];
        id_text(pci_read16(d, off + 4), pci_read16(d, off + 6), false, ids, sizeof ids);
        printf("Subsystem: %s\n", ids);
        break;
    }
    default:
        printf("%s\n", name);
    }
}

static void print_caps(struct pci_dev *d)
{
    struct pci_loc l;
    struct pci_cfg c;
    pci_loc_of(d, &l);
    pci_cfg_for(&l, &c);
    uint8_t ids[PCI_MAX_CAPS], offs[PCI_MAX_CAPS];
    int n = pci_cap_walk(&c, ids, offs, PCI_MAX_CAPS);
    for (int i = 0; i < n; i++)
        print_cap(d, ids[i], offs[i]);
    uint16_t eids[64], eoffs[64];
    uint8_t vers[64];
    n = pci_ext_cap_walk(&c, eids, eoffs, vers, 64);
    for (int i = 0; i < n; i++) {
        const char *name = eids[i] && eids[i] < 256 ? NAME_OF(ext_cap_names, eids[i]) : NULL;
        printf("\tCapabilities: [%03x] ", eoffs[i]);
        if (name)
            printf("%s\n", name);
        else
            printf("Extended Capability ID %#x\n", eids[i]);
    }
}

static void print_verbose(struct pci_dev *d, bool numeric)
{
    uint16_t cmd = pci_read16(d, PCI_COMMAND);
    if (d->header_type == PCI_HEADER_ENDPOINT && (d->subsys_vendor || d->subsys_id)) {
        char ids[2 * NAME_MAX_LEN];
        id_text(d->subsys_vendor, d->subsys_id, numeric, ids, sizeof ids);
        printf("\tSubsystem: %s\n", ids);
    }
    printf("\tFlags: %s%s%s\n", cmd & PCI_CMD_MASTER ? "bus master, " : "",
           cmd & PCI_CMD_MEM ? "memory" : "no memory", cmd & PCI_CMD_IO ? ", I/O" : ", no I/O");
    if (d->irq_pin)
        printf("\tInterrupt: pin %c routed to IRQ %u\n", 'A' + d->irq_pin - 1, d->irq_line);
    print_bars(d, cmd);
    if (d->header_type == PCI_HEADER_BRIDGE)
        print_bridge(d);
    print_caps(d);
    if (d->driver)
        printf("\tKernel driver in use: %s\n", d->driver);
    printf("\n");
}

/* ---- lspci -x ------------------------------------------------------------------------ */

static void print_hex(struct pci_dev *d, unsigned bytes)
{
    for (unsigned off = 0; off < bytes; off += 16) {
        printf("%02x:", off);
        for (unsigned i = 0; i < 16; i += 4) {
            uint32_t v = pci_read32(d, (uint16_t)(off + i));
            for (unsigned b = 0; b < 4; b++)
                printf(" %02x", (v >> (8 * b)) & 0xff);
        }
        printf("\n");
    }
    printf("\n");
}

/* ---- lspci -t ------------------------------------------------------------------------ */

/* The tree is drawn line by line like pciutils: LINE holds the text so far; after a line
 * is printed, every column keeps only its vertical connector ('|' under '+' or '|'),
 * so the next line continues the branches still open. */
struct tree {
    char line[256];
};

static void tree_emit(struct tree *t, size_t end)
{
    t->line[end] = 0;
    printf("%s\n", t->line);
    for (size_t i = 0; i < end; i++)
        t->line[i] = (t->line[i] == '+' || t->line[i] == '|') ? '|' : ' ';
}

static size_t tree_put(struct tree *t, size_t at, const char *s)
{
    size_t n = strlen(s);
    if (at + n >= sizeof t->line - 1)
        n = sizeof t->line - 1 - at;
    memcpy(t->line + at, s, n);
    return at + n;
}

static void tree_bus(struct tree *t, size_t at, uint16_t seg, uint8_t bus, bool numeric, bool verbose);

static void tree_dev(struct tree *t, size_t at, struct pci_dev *d, bool numeric, bool verbose)
{
    char buf[2 * NAME_MAX_LEN + 16];
    snprintf(buf, sizeof buf, "%02x.%x", d->dev, d->fn);
    at = tree_put(t, at, buf);
    if (d->header_type == PCI_HEADER_BRIDGE && d->secondary_bus > d->bus) {
        if (d->secondary_bus == d->subordinate_bus)
            snprintf(buf, sizeof buf, "-[%02x]--", d->secondary_bus);
        else
            snprintf(buf, sizeof buf, "-[%02x-%02x]--", d->secondary_bus, d->subordinate_bus);
        at = tree_put(t, at, buf);
        tree_bus(t, at, d->segment, d->secondary_bus, numeric, verbose);
        return;
    }
    if (verbose) {
        char ids[2 * NAME_MAX_LEN];
        id_text(d->vendor, d->device, numeric, ids, sizeof ids);
        snprintf(buf, sizeof buf, "  %s", ids);
        at = tree_put(t, at, buf);
    }
    tree_emit(t, at);
}

static void tree_bus(struct tree *t, size_t at, uint16_t seg, uint8_t bus, bool numeric, bool verbose)
{
    struct pci_dev *on[PCI_MAX_DEVICES];
    size_t n = 0;
    for (size_t i = 0; i < pci_count(); i++) {
        struct pci_dev *d = pci_at(i);
        if (d->segment == seg && d->bus == bus)
            on[n++] = d;
    }
    if (n == 0) {
        tree_emit(t, at);
        return;
    }
    if (n == 1) {
        tree_dev(t, tree_put(t, at, "--"), on[0], numeric, verbose);
        return;
    }
    for (size_t i = 0; i < n; i++)
        tree_dev(t, tree_put(t, at, i + 1 < n ? "+-" : "\\-"), on[i], numeric, verbose);
}

static void print_tree(bool numeric, bool verbose)
{
    /* Root buses: those no bridge in the table leads to. */
    struct { uint16_t seg; uint8_t bus; } roots[16];
    size_t nroots = 0;
    for (size_t i = 0; i < pci_count() && nroots < 16; i++) {
        struct pci_dev *d = pci_at(i);
        if (d->parent)
            continue;
        bool dup = false;
        for (size_t r = 0; r < nroots; r++)
            dup |= roots[r].seg == d->segment && roots[r].bus == d->bus;
        if (!dup) {
            roots[nroots].seg = d->segment;
            roots[nroots].bus = d->bus;
            nroots++;
        }
    }
    struct tree t;
    char buf[32];
    size_t at = tree_put(&t, 0, "-");
    for (size_t r = 0; r < nroots; r++) {
        const char *lead = nroots == 1 ? "" : r + 1 < nroots ? "+-" : "\\-";
        snprintf(buf, sizeof buf, "%s[%04x:%02x]-", lead, roots[r].seg, roots[r].bus);
        tree_bus(&t, tree_put(&t, at, buf), roots[r].seg, roots[r].bus, numeric, verbose);
    }
}

/* ---- commands ------------------------------------------------------------------------ */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parse "[SSSS:]BB:DD.F"; returns 0 on success. */
static int parse_slot(const char *s, struct pci_loc *l)
{
    unsigned parts[4];
    int np = 0;
    unsigned v = 0;
    int digits = 0;
    for (const char *p = s;; p++) {
        if (hexval(*p) >= 0) {
            v = v * 16 + (unsigned)hexval(*p);
            if (++digits > 4)
                return -1;
            continue;
        }
        if (!digits || np == 4)
            return -1;
        parts[np++] = v;
        v = 0;
        digits = 0;
        if (*p == 0)
            break;
        if (*p != ':' && *p != '.')
            return -1;
    }
    if (np < 3)
        return -1;
    unsigned seg = np == 4 ? parts[0] : 0;
    unsigned bus = parts[np - 3], dev = parts[np - 2], fn = parts[np - 1];
    if (bus > 255 || dev > 31 || fn > 7)
        return -1;
    l->segment = (uint16_t)seg;
    l->bus = (uint8_t)bus;
    l->dev = (uint8_t)dev;
    l->fn = (uint8_t)fn;
    return 0;
}

static int cmd_lspci(int argc, char **argv)
{
    bool verbose = false, tree = false, numeric = false, have_slot = false;
    unsigned hex = 0;
    struct pci_loc slot = { 0, 0, 0, 0 };
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v"))
            verbose = true;
        else if (!strcmp(argv[i], "-t"))
            tree = true;
        else if (!strcmp(argv[i], "-n"))
            numeric = true;
        else if (!strcmp(argv[i], "-x"))
            hex = 64;
        else if (!strcmp(argv[i], "-xxx"))
            hex = PCI_CFG_SIZE;
        else if (!strcmp(argv[i], "-xxxx"))
            hex = PCI_CFG_EXT_SIZE;
        else if (!strcmp(argv[i], "-s") && i + 1 < argc && parse_slot(argv[i + 1], &slot) == 0) {
            have_slot = true;
            i++;
        } else
            return shell_usage(argv[0]);
    }
    if (tree) {
        print_tree(numeric, verbose);
        return 0;
    }
    if (hex == PCI_CFG_EXT_SIZE && !pci_using_ecam()) {
        printf("lspci: extended configuration space needs ECAM; showing 256 bytes\n");
        hex = PCI_CFG_SIZE;
    }
    for (size_t i = 0; i < pci_count(); i++) {
        struct pci_dev *d = pci_at(i);
        if (have_slot && (d->segment != slot.segment || d->bus != slot.bus || d->dev != slot.dev || d->fn != slot.fn))
            continue;
        print_line(d, numeric, verbose);
        if (verbose)
            print_verbose(d, numeric);
        if (hex)
            print_hex(d, hex);
        if (cons_interrupt) {
            cons_interrupt = 0;
            return 130;
        }
    }
    return 0;
}
SHELL_COMMAND("lspci", cmd_lspci, "[-n] [-v] [-t] [-x|-xxx|-xxxx] [-s BB:DD.F]",
              "list PCI functions (names from pci.ids), with details, as a tree, or in hex");

static const char *const kind_names[] = { "none", "io", "mem32", "mem64" };

static void print_record(struct pci_dev *d)
{
    printf("%04x:%02x:%02x.%x %04x:%04x class=%02x%02x%02x rev=%02x hdr=%u mf=%u cmd=%04x pin=%u line=%u",
           d->segment, d->bus, d->dev, d->fn, d->vendor, d->device, d->class_code, d->subclass,
           d->prog_if, d->revision, d->header_type, d->multifunction, pci_read16(d, PCI_COMMAND),
           d->irq_pin, d->irq_line);
    if (d->header_type == PCI_HEADER_ENDPOINT)
        printf(" sub=%04x:%04x", d->subsys_vendor, d->subsys_id);
    if (d->header_type == PCI_HEADER_BRIDGE)
        printf(" bus=%02x-%02x", d->secondary_bus, d->subordinate_bus);
    if (d->parent)
        printf(" parent=%02x:%02x.%x", d->parent->bus, d->parent->dev, d->parent->fn);
    for (int i = 0; i < 6; i++) {
        const struct pci_bar *b = &d->bar[i];
        if (b->kind != PCI_BAR_NONE)
            printf(" bar%d=%s%s,%#llx,%#llx", i, kind_names[b->kind], b->prefetchable ? "p" : "",
                   (unsigned long long)b->addr, (unsigned long long)b->size);
    }
    if (d->rom.kind != PCI_BAR_NONE) {
        uint32_t raw = pci_read32(d, d->header_type == PCI_HEADER_ENDPOINT ? PCI_ROM : PCI_BRIDGE_ROM);
        printf(" rom=%s,%#llx,%#llx", raw & PCI_ROM_ENABLE ? "on" : "off", (unsigned long long)d->rom.addr,
               (unsigned long long)d->rom.size);
    }
    printf(" caps=%s%s%s%s", d->cap_pm ? "pm," : "", d->cap_msi ? "msi," : "", d->cap_msix ? "msix," : "",
           d->cap_pcie ? "pcie," : "");
    printf("\n");
}

static int cmd_pci(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "list") && argc == 2) {
        printf("access=%s count=%zu\n", pci_using_ecam() ? "ecam" : "legacy", pci_count());
        for (size_t i = 0; i < pci_count(); i++)
            print_record(pci_at(i));
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "rescan") && argc <= 3) {
        enum pci_access how = PCI_ACCESS_AUTO;
        if (argc == 3 && !strcmp(argv[2], "--legacy"))
            how = PCI_ACCESS_LEGACY;
        else if (argc == 3 && !strcmp(argv[2], "--ecam"))
            how = PCI_ACCESS_ECAM;
        else if (argc == 3)
            return shell_usage(argv[0]);
        int n = pci_scan(how);
        if (n < 0) {
            printf("pci: rescan failed (no such configuration mechanism)\n");
            return 1;
        }
        printf("pci: %d functions through %s\n", n, pci_using_ecam() ? "ECAM" : "0xCF8/0xCFC");
        return 0;
    }
    return shell_usage(argv[0]);
}
SHELL_COMMAND("pci", cmd_pci, "list | rescan [--legacy|--ecam]",
              "PCI table in machine-readable form; scan again through a chosen mechanism");
