/* drivers/pci/pci.c: configuration access, bus enumeration and the device table; see
 * pci.h for the interface.
 *
 * Configuration access goes through PCIe ECAM when the ACPI MCFG table describes it (each
 * bus's 1 MiB of the window is mapped uncached the first time it is touched), and through
 * the legacy 0xCF8/0xCFC port pair otherwise; the legacy mechanism reaches only the first
 * 256 bytes of each function.
 *
 * Enumeration walks the tree: each MCFG segment's first bus (bus 0 without MCFG) is a root
 * bus; every PCI-to-PCI bridge found leads to its secondary bus, which firmware numbered.
 * Expander host bridges (QEMU's pxb, class 06/00 away from 00:00.0) root buses that no
 * bridge leads to; only when one is seen are the still-unvisited bus numbers probed.
 *
 * Invariants: the table is sorted by segment:bus:device.function and every entry's parent
 * is the bridge whose secondary bus it sits on.  The scan runs once at boot (pci_init) and
 * again only on the `pci rescan` command; a rescan rewrites entries in place, so it keeps
 * claims and pointers valid as long as the machine has not changed. */
#include <string.h>
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "drivers/acpi/acpi.h"
#include "drivers/pci/pci.h"
#include "drivers/pci/pci_decode.h"
#include "drivers/pci/pci_internal.h"
#include "kernel/console.h"

/* Legacy configuration mechanism #1 (PCI 3.0 §3.2.2.3.2). */
enum legacy_ports {
    CONFIG_ADDRESS = 0xcf8,   /* enable bit, bus, device, function, register */
    CONFIG_DATA = 0xcfc,      /* the selected dword (byte lanes by offset & 3) */
};
#define CONFIG_ENABLE 0x80000000u

/* ECAM address: base + bus << 20 | device << 15 | function << 12 | offset. */
enum { ECAM_BUS_SHIFT = 20, ECAM_DEV_SHIFT = 15, ECAM_FN_SHIFT = 12 };
#define ECAM_BUS_SIZE (1ull << ECAM_BUS_SHIFT)

enum { MAX_BUS_DEPTH = 32, SLOTS = 32, FUNCTIONS = 8 };

/* MSI capability (PCI 3.0 §6.8.1) and MSI-X capability (§6.8.2). */
enum msi_reg {
    MSI_CONTROL = 2,        /* 16 */
    MSI_ADDR_LO = 4,        /* 32 */
    MSI_ADDR_HI = 8,        /* 32, 64-bit capable functions only */
    MSI_DATA_32 = 8,        /* 16, data without the upper address */
    MSI_DATA_64 = 12,       /* 16, data after the upper address */
    MSI_MASK_32 = 12,       /* per-vector mask bits */
    MSI_MASK_64 = 16,
};
enum msi_control_bits {
    MSI_ENABLE = 1u << 0,
    MSI_MME_MASK = 7u << 4,   /* multiple message enable: log2 of vectors granted */
    MSI_64BIT = 1u << 7,
    MSI_PVM = 1u << 8,        /* per-vector masking capable */
};
enum msix_reg {
    MSIX_CONTROL = 2,         /* 16 */
    MSIX_TABLE = 4,           /* 32: BIR in bits 0-2, offset in the rest */
    MSIX_PBA = 8,             /* 32: pending-bit array, same encoding */
};
enum msix_control_bits {
    MSIX_TABLE_SIZE = 0x7ff,  /* entries - 1 */
    MSIX_FUNC_MASK = 1u << 14,
    MSIX_ENABLE = 1u << 15,
};
enum { MSIX_BIR_MASK = 7 };
/* One MSI-X table entry, 16 bytes. */
enum msix_entry {
    MSIX_E_ADDR_LO = 0,
    MSIX_E_ADDR_HI = 4,
    MSIX_E_DATA = 8,
    MSIX_E_CTRL = 12,         /* bit 0: masked */
    MSIX_ENTRY_SIZE = 16,
};
enum { MSIX_E_MASKED = 1u << 0 };

struct ecam_window {
    uint64_t base;              /* address of bus 0 of the segment (PCI FW 3.0 §4.1.2) */
    uint16_t segment;
    uint8_t bus_start, bus_end;
    uint64_t mapped[256 / 64];  /* buses whose 1 MiB is mapped */
};

static struct ecam_window windows[ACPI_MAX_MCFG];
static unsigned window_count;
static bool use_ecam;
static struct pci_dev devs[PCI_MAX_DEVICES];
static size_t ndevs;
static unsigned scan_overflow;   /* functions not recorded because the table was full */

/* ---- configuration access ------------------------------------------------------------ */

static struct ecam_window *window_for(uint16_t seg, uint8_t bus)
{
    for (unsigned i = 0; i < window_count; i++)
        if (windows[i].segment == seg && bus >= windows[i].bus_start && bus <= windows[i].bus_end)
            return &windows[i];
    return NULL;
}

/* The ECAM address of (loc, off), mapping the bus's window on first use; 0 if none. */
static uintptr_t ecam_addr(const struct pci_loc *l, uint16_t off)
{
    struct ecam_window *w = window_for(l->segment, l->bus);
    if (!w)
        return 0;
    uint64_t bus_base = w->base + ((uint64_t)l->bus << ECAM_BUS_SHIFT);
    if (!(w->mapped[l->bus / 64] & (1ull << (l->bus % 64)))) {
        /* Two buses at a time when they fill an aligned 2 MiB: one large page, no page
         * table, which matters when every bus of a segment is probed. */
        uint8_t first = l->bus & ~1u;
        uint64_t pair = w->base + ((uint64_t)first << ECAM_BUS_SHIFT);
        bool both = pair % (2 * ECAM_BUS_SIZE) == 0 && first >= w->bus_start && first + 1u <= w->bus_end;
        if (!paging_map_mmio(both ? pair : bus_base, both ? 2 * ECAM_BUS_SIZE : ECAM_BUS_SIZE))
            return 0;
        w->mapped[l->bus / 64] |= 1ull << (l->bus % 64);
        if (both)
            w->mapped[first / 64] |= 3ull << (first % 64);
    }
    return (uintptr_t)(bus_base + ((uint32_t)l->dev << ECAM_DEV_SHIFT) +
                       ((uint32_t)l->fn << ECAM_FN_SHIFT) + off);
}

static uint32_t legacy_address(const struct pci_loc *l, uint16_t off)
{
    return CONFIG_ENABLE | (uint32_t)l->bus << 16 | (uint32_t)l->dev << 11 | (uint32_t)l->fn << 8 |
           (off & 0xfc);
}

/* Legacy access is an address write then a data access: not interruptible in between. */
uint32_t pci_loc_read(const struct pci_loc *l, uint16_t off, int width)
{
    uint32_t ones = width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
    if (use_ecam) {
        uintptr_t a = off < PCI_CFG_EXT_SIZE ? ecam_addr(l, off) : 0;
        if (!a)
            return ones;
        return width == 1 ? mmio_read8(a) : width == 2 ? mmio_read16(a) : mmio_read32(a);
    }
    if (off >= PCI_CFG_SIZE || l->segment != 0)
        return ones;
    uint64_t f = irq_save();
    outl(CONFIG_ADDRESS, legacy_address(l, off));
    uint16_t port = CONFIG_DATA + (off & 3);
    uint32_t v = width == 1 ? inb(port) : width == 2 ? inw(port) : inl(CONFIG_DATA);
    irq_restore(f);
    return v;
}

void pci_loc_write(const struct pci_loc *l, uint16_t off, int width, uint32_t v)
{
    if (use_ecam) {
        uintptr_t a = off < PCI_CFG_EXT_SIZE ? ecam_addr(l, off) : 0;
        if (!a)
            return;
        if (width == 1)
            mmio_write8(a, (uint8_t)v);
        else if (width == 2)
            mmio_write16(a, (uint16_t)v);
        else
            mmio_write32(a, v);
        return;
    }
    if (off >= PCI_CFG_SIZE || l->segment != 0)
        return;
    uint64_t f = irq_save();
    outl(CONFIG_ADDRESS, legacy_address(l, off));
    uint16_t port = CONFIG_DATA + (off & 3);
    if (width == 1)
        outb(port, (uint8_t)v);
    else if (width == 2)
        outw(port, (uint16_t)v);
    else
        outl(CONFIG_DATA, v);
    irq_restore(f);
}

static uint32_t cfg_read32(void *ctx, uint16_t off) { return pci_loc_read(ctx, off, 4); }
static void cfg_write32(void *ctx, uint16_t off, uint32_t v) { pci_loc_write(ctx, off, 4, v); }

void pci_loc_of(const struct pci_dev *d, struct pci_loc *l)
{
    l->segment = d->segment;
    l->bus = d->bus;
    l->dev = d->dev;
    l->fn = d->fn;
}

void pci_cfg_for(struct pci_loc *l, struct pci_cfg *c)
{
    c->read32 = cfg_read32;
    c->write32 = cfg_write32;
    c->ctx = l;
    c->size = use_ecam ? PCI_CFG_EXT_SIZE : PCI_CFG_SIZE;
}

uint8_t pci_read8(struct pci_dev *d, uint16_t off)
{
    struct pci_loc l;
    pci_loc_of(d, &l);
    return (uint8_t)pci_loc_read(&l, off, 1);
}
uint16_t pci_read16(struct pci_dev *d, uint16_t off)
{
    struct pci_loc l;
    pci_loc_of(d, &l);
    return (uint16_t)pci_loc_read(&l, off, 2);
}
uint32_t pci_read32(struct pci_dev *d, uint16_t off)
{
    struct pci_loc l;
    pci_loc_of(d, &l);
    return pci_loc_read(&l, off, 4);
}
void pci_write8(struct pci_dev *d, uint16_t off, uint8_t v)
{
    struct pci_loc l;
    pci_loc_of(d, &l);
    pci_loc_write(&l, off, 1, v);
}
void pci_write16(struct pci_dev *d, uint16_t off, uint16_t v)
{
    struct pci_loc l;
    pci_loc_of(d, &l);
    pci_loc_write(&l, off, 2, v);
}
void pci_write32(struct pci_dev *d, uint16_t off, uint32_t v)
{
    struct pci_loc l;
    pci_loc_of(d, &l);
    pci_loc_write(&l, off, 4, v);
}

bool pci_using_ecam(void) { return use_ecam; }

/* ---- enumeration --------------------------------------------------------------------- */

struct scan {
    uint64_t visited[256 / 64];   /* buses of the segment being scanned */
    bool saw_expander;            /* an extra host bridge: some root bus has no bridge */
    /* Claims from the previous table (rescan), carried over to the same functions. */
    struct claim { struct pci_loc at; uint16_t vendor, device; const char *driver; } *claims;
    size_t nclaims;
};

static bool bus_visited(struct scan *s, uint8_t bus) { return s->visited[bus / 64] & (1ull << (bus % 64)); }

static uint16_t vendor_at(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
    struct pci_loc l = { seg, bus, dev, fn };
    return (uint16_t)pci_loc_read(&l, PCI_VENDOR_ID, 2);
}

static void scan_bus(struct scan *s, uint16_t seg, uint8_t bus, int depth);

static void add_function(struct scan *s, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, int depth)
{
    if (ndevs == PCI_MAX_DEVICES) {
        scan_overflow++;
        return;
    }
    struct pci_dev *d = &devs[ndevs++];
    memset(d, 0, sizeof *d);
    d->segment = seg;
    d->bus = bus;
    d->dev = dev;
    d->fn = fn;
    struct pci_loc l = { seg, bus, dev, fn };
    struct pci_cfg c;
    pci_cfg_for(&l, &c);
    pci_decode_header(&c, d);
    /* Sizing briefly turns decoding off: nothing may touch the BARs meanwhile. */
    uint64_t f = irq_save();
    pci_decode_bars(&c, d->header_type, d->bar, &d->rom);
    irq_restore(f);
    d->cap_pm = (uint8_t)pci_cap_find_in(&c, PCI_CAP_PM);
    d->cap_msi = (uint8_t)pci_cap_find_in(&c, PCI_CAP_MSI);
    d->cap_msix = (uint8_t)pci_cap_find_in(&c, PCI_CAP_MSIX);
    d->cap_pcie = (uint8_t)pci_cap_find_in(&c, PCI_CAP_PCIE);
    if (d->class_code == PCI_CLASS_BRIDGE && d->subclass == PCI_SUBCLASS_HOST && (dev || fn))
        s->saw_expander = true;
    for (size_t i = 0; i < s->nclaims; i++) {
        struct claim *c = &s->claims[i];
        if (c->at.segment == seg && c->at.bus == bus && c->at.dev == dev && c->at.fn == fn &&
            c->vendor == d->vendor && c->device == d->device)
            d->driver = c->driver;
    }

    /* Firmware numbered the buses; a bridge whose secondary bus is not beyond its own is
     * unconfigured (or lying) and is not followed. */
    if (d->header_type == PCI_HEADER_BRIDGE && d->secondary_bus > bus && depth < MAX_BUS_DEPTH &&
        !bus_visited(s, d->secondary_bus))
        scan_bus(s, seg, d->secondary_bus, depth + 1);
}

static void scan_bus(struct scan *s, uint16_t seg, uint8_t bus, int depth)
{
    s->visited[bus / 64] |= 1ull << (bus % 64);
    for (uint8_t dev = 0; dev < SLOTS; dev++) {
        if (vendor_at(seg, bus, dev, 0) == 0xffff)
            continue;
        struct pci_loc l = { seg, bus, dev, 0 };
        bool multi = pci_loc_read(&l, PCI_HEADER_TYPE, 1) & PCI_HEADER_MULTIFN;
        for (uint8_t fn = 0; fn < (multi ? FUNCTIONS : 1); fn++)
            if (fn == 0 || vendor_at(seg, bus, dev, fn) != 0xffff)
                add_function(s, seg, bus, dev, fn, depth);
    }
}

/* Buses behind an expander host bridge: no bridge names them, so probe the unvisited
 * bus numbers of the segment for any device. */
static void scan_extra_roots(struct scan *s, uint16_t seg, unsigned first, unsigned last)
{
    for (unsigned bus = first; bus <= last; bus++) {
        if (bus_visited(s, (uint8_t)bus))
            continue;
        for (uint8_t dev = 0; dev < SLOTS; dev++)
            if (vendor_at(seg, (uint8_t)bus, dev, 0) != 0xffff) {
                scan_bus(s, seg, (uint8_t)bus, 0);
                break;
            }
    }
}

static bool loc_less(const struct pci_dev *a, const struct pci_dev *b)
{
    uint64_t ka = (uint64_t)a->segment << 16 | a->bus << 8 | a->dev << 3 | a->fn;
    uint64_t kb = (uint64_t)b->segment << 16 | b->bus << 8 | b->dev << 3 | b->fn;
    return ka < kb;
}

static void sort_and_link(void)
{
    for (size_t i = 1; i < ndevs; i++) {   /* insertion sort: the table is nearly sorted */
        struct pci_dev t = devs[i];
        size_t j = i;
        for (; j > 0 && loc_less(&t, &devs[j - 1]); j--)
            devs[j] = devs[j - 1];
        devs[j] = t;
    }
    for (size_t i = 0; i < ndevs; i++) {
        devs[i].parent = NULL;
        for (size_t j = 0; j < ndevs; j++)
            if (devs[j].header_type == PCI_HEADER_BRIDGE && devs[j].segment == devs[i].segment &&
                devs[j].secondary_bus == devs[i].bus && devs[j].bus < devs[i].bus)
                devs[i].parent = &devs[j];
    }
}

int pci_scan(enum pci_access how)
{
    static struct claim claims[PCI_MAX_DEVICES];
    struct scan s;
    memset(&s, 0, sizeof s);
    s.claims = claims;
    for (size_t i = 0; i < ndevs; i++)
        if (devs[i].driver) {
            struct claim *c = &claims[s.nclaims++];
            pci_loc_of(&devs[i], &c->at);
            c->vendor = devs[i].vendor;
            c->device = devs[i].device;
            c->driver = devs[i].driver;
        }

    window_count = 0;
    if (how != PCI_ACCESS_LEGACY)
        for (unsigned i = 0; i < acpi.mcfg_count && window_count < ACPI_MAX_MCFG; i++) {
            struct ecam_window *w = &windows[window_count];
            if (!acpi.mcfg[i].base || acpi.mcfg[i].bus_end < acpi.mcfg[i].bus_start)
                continue;
            uint64_t mapped[256 / 64] = { 0 };
            /* A rescan keeps what is already mapped for the same window. */
            if (w->base == acpi.mcfg[i].base)
                memcpy(mapped, w->mapped, sizeof mapped);
            w->base = acpi.mcfg[i].base;
            w->segment = acpi.mcfg[i].segment;
            w->bus_start = acpi.mcfg[i].bus_start;
            w->bus_end = acpi.mcfg[i].bus_end;
            memcpy(w->mapped, mapped, sizeof mapped);
            window_count++;
        }
    if (how == PCI_ACCESS_ECAM && !window_count)
        return -1;
    use_ecam = window_count > 0;

    ndevs = 0;
    scan_overflow = 0;
    if (use_ecam) {
        for (unsigned i = 0; i < window_count; i++) {
            memset(s.visited, 0, sizeof s.visited);
            s.saw_expander = false;
            scan_bus(&s, windows[i].segment, windows[i].bus_start, 0);
            if (s.saw_expander)
                scan_extra_roots(&s, windows[i].segment, windows[i].bus_start, windows[i].bus_end);
        }
    } else {
        /* Probe that mechanism #1 exists at all: CONFIG_ADDRESS must hold what we write. */
        uint64_t f = irq_save();
        uint32_t saved = inl(CONFIG_ADDRESS);
        outl(CONFIG_ADDRESS, CONFIG_ENABLE);
        bool present = inl(CONFIG_ADDRESS) == CONFIG_ENABLE;
        outl(CONFIG_ADDRESS, saved);
        irq_restore(f);
        if (!present)
            return -1;
        scan_bus(&s, 0, 0, 0);
        if (s.saw_expander)
            scan_extra_roots(&s, 0, 0, 255);
    }
    sort_and_link();
    if (scan_overflow)
        klog("pci: table full, %u functions not recorded\n", scan_overflow);
    return (int)ndevs;
}

int pci_init(void)
{
    int n = pci_scan(PCI_ACCESS_AUTO);
    if (n < 0)
        klog("pci: no configuration mechanism (no MCFG, no 0xCF8)\n");
    return n;
}

/* ---- the device table ---------------------------------------------------------------- */

size_t pci_count(void) { return ndevs; }

struct pci_dev *pci_at(size_t i) { return i < ndevs ? &devs[i] : NULL; }

static size_t start_index(struct pci_dev *after)
{
    if (!after)
        return 0;
    return (size_t)(after - devs) + 1;
}

struct pci_dev *pci_find_class(uint8_t class_code, uint8_t subclass, int prog_if, struct pci_dev *after)
{
    for (size_t i = start_index(after); i < ndevs; i++)
        if (devs[i].class_code == class_code && devs[i].subclass == subclass &&
            (prog_if < 0 || devs[i].prog_if == prog_if))
            return &devs[i];
    return NULL;
}

struct pci_dev *pci_find_id(uint16_t vendor, uint16_t device, struct pci_dev *after)
{
    for (size_t i = start_index(after); i < ndevs; i++)
        if (devs[i].vendor == vendor && devs[i].device == device)
            return &devs[i];
    return NULL;
}

int pci_claim(struct pci_dev *d, const char *driver)
{
    if (d->driver && strcmp(d->driver, driver) != 0)
        return -1;
    d->driver = driver;
    return 0;
}

void pci_enable(struct pci_dev *d, bool mem, bool io, bool bus_master)
{
    uint16_t cmd = pci_read16(d, PCI_COMMAND);
    uint16_t want = cmd | (mem ? PCI_CMD_MEM : 0) | (io ? PCI_CMD_IO : 0) | (bus_master ? PCI_CMD_MASTER : 0);
    if (want != cmd)
        pci_write16(d, PCI_COMMAND, want);
}

void *pci_map_bar(struct pci_dev *d, int bar)
{
    if (bar < 0 || bar >= 6)
        return NULL;
    struct pci_bar *b = &d->bar[bar];
    if ((b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64) || !b->size || !b->addr)
        return NULL;
    return paging_map_mmio(b->addr, b->size);
}

uint16_t pci_find_cap(struct pci_dev *d, uint8_t id)
{
    struct pci_loc l;
    struct pci_cfg c;
    pci_loc_of(d, &l);
    pci_cfg_for(&l, &c);
    return pci_cap_find_in(&c, id);
}

uint16_t pci_find_ext_cap(struct pci_dev *d, uint16_t id)
{
    struct pci_loc l;
    struct pci_cfg c;
    pci_loc_of(d, &l);
    pci_cfg_for(&l, &c);
    return pci_ext_cap_find_in(&c, id);
}

/* ---- message-signalled interrupts ---------------------------------------------------- */

/* Address of MSI-X table entry ENTRY, or 0.  The table is mapped once and remembered,
 * so masking an entry (a driver's fast path) costs no configuration access. */
static uintptr_t msix_entry(struct pci_dev *d, unsigned entry)
{
    if (!d->cap_msix)
        return 0;
    if (!d->msix_table) {
        uint16_t ctl = pci_read16(d, d->cap_msix + MSIX_CONTROL);
        unsigned n = (ctl & MSIX_TABLE_SIZE) + 1u;
        uint32_t t = pci_read32(d, d->cap_msix + MSIX_TABLE);
        struct pci_bar *b = &d->bar[t & MSIX_BIR_MASK];
        uint64_t off = t & ~(uint32_t)MSIX_BIR_MASK;
        if ((b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64) || !b->addr ||
            off + (uint64_t)n * MSIX_ENTRY_SIZE > b->size)
            return 0;
        if (!paging_map_mmio(b->addr + off, (uint64_t)n * MSIX_ENTRY_SIZE))
            return 0;
        d->msix_table = (uintptr_t)(b->addr + off);
        d->msix_entries = (uint16_t)n;
    }
    return entry < d->msix_entries ? d->msix_table + (uintptr_t)entry * MSIX_ENTRY_SIZE : 0;
}

int pci_msix_enable(struct pci_dev *d, unsigned entry, unsigned vector)
{
    uintptr_t e = msix_entry(d, entry);
    if (!e)
        return -1;
    pci_enable(d, true, false, false);   /* the table lives in a memory BAR */
    uint16_t ctl = pci_read16(d, d->cap_msix + MSIX_CONTROL);
    /* Enabled but function-masked while the entry is rewritten, so no half-written
     * message is ever sent. */
    pci_write16(d, d->cap_msix + MSIX_CONTROL, ctl | MSIX_ENABLE | MSIX_FUNC_MASK);
    uint64_t addr;
    uint32_t data;
    apic_msi_message(vector, &addr, &data);
    mmio_write32(e + MSIX_E_CTRL, mmio_read32(e + MSIX_E_CTRL) | MSIX_E_MASKED);
    mmio_write32(e + MSIX_E_ADDR_LO, (uint32_t)addr);
    mmio_write32(e + MSIX_E_ADDR_HI, (uint32_t)(addr >> 32));
    mmio_write32(e + MSIX_E_DATA, data);
    mmio_write32(e + MSIX_E_CTRL, mmio_read32(e + MSIX_E_CTRL) & ~(uint32_t)MSIX_E_MASKED);
    if (d->cap_msi) {   /* MSI and MSI-X must not both be on */
        uint16_t mc = pci_read16(d, d->cap_msi + MSI_CONTROL);
        pci_write16(d, d->cap_msi + MSI_CONTROL, mc & ~(uint16_t)MSI_ENABLE);
    }
    pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_CMD_INTX_OFF);
    pci_write16(d, d->cap_msix + MSIX_CONTROL, (ctl | MSIX_ENABLE) & ~(uint16_t)MSIX_FUNC_MASK);
    return 0;
}

void pci_msix_mask(struct pci_dev *d, unsigned entry, bool masked)
{
    uintptr_t e = msix_entry(d, entry);
    if (!e)
        return;
    uint32_t v = mmio_read32(e + MSIX_E_CTRL);
    mmio_write32(e + MSIX_E_CTRL, masked ? v | MSIX_E_MASKED : v & ~(uint32_t)MSIX_E_MASKED);
}

int pci_msi_enable(struct pci_dev *d, unsigned vector)
{
    if (!d->cap_msi)
        return -1;
    uint16_t cap = d->cap_msi;
    uint16_t ctl = pci_read16(d, cap + MSI_CONTROL);
    uint64_t addr;
    uint32_t data;
    apic_msi_message(vector, &addr, &data);
    pci_write16(d, cap + MSI_CONTROL, ctl & ~(uint16_t)(MSI_ENABLE | MSI_MME_MASK));
    pci_write32(d, cap + MSI_ADDR_LO, (uint32_t)addr);
    if (ctl & MSI_64BIT) {
        pci_write32(d, cap + MSI_ADDR_HI, (uint32_t)(addr >> 32));
        pci_write16(d, cap + MSI_DATA_64, (uint16_t)data);
    } else {
        pci_write16(d, cap + MSI_DATA_32, (uint16_t)data);
    }
    if (ctl & MSI_PVM)   /* one vector: unmask it */
        pci_write32(d, cap + ((ctl & MSI_64BIT) ? MSI_MASK_64 : MSI_MASK_32), 0);
    if (d->cap_msix) {
        uint16_t xc = pci_read16(d, d->cap_msix + MSIX_CONTROL);
        pci_write16(d, d->cap_msix + MSIX_CONTROL, xc & ~(uint16_t)MSIX_ENABLE);
    }
    pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_CMD_INTX_OFF);
    pci_write16(d, cap + MSI_CONTROL, (ctl & ~(uint16_t)MSI_MME_MASK) | MSI_ENABLE);
    return 0;
}
