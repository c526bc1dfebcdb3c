/* drivers/pci/pci_decode.c: header decoding, BAR sizing and capability walking over a
 * struct pci_cfg accessor; see pci_decode.h.  Portable: built into the kernel and into
 * the host unit tests. */
#include <string.h>
#include "drivers/pci/pci_decode.h"

uint8_t pci_cfg_read8(const struct pci_cfg *c, uint16_t off)
{
    return (uint8_t)(c->read32(c->ctx, off & ~3u) >> (8 * (off & 3)));
}

uint16_t pci_cfg_read16(const struct pci_cfg *c, uint16_t off)
{
    return (uint16_t)(c->read32(c->ctx, off & ~3u) >> (8 * (off & 2)));
}

/* The command register shares a dword with the status register, whose error bits are
 * write-one-to-clear: writing the command alone (status half zero) changes nothing else. */
static void write_command(const struct pci_cfg *c, uint16_t cmd)
{
    c->write32(c->ctx, PCI_COMMAND, cmd);
}

static uint64_t lowest_set_bit(uint64_t v)
{
    return v & (~v + 1);
}

uint64_t pci_bar_size_from_probe(uint32_t low, uint32_t high)
{
    if (low & PCI_BAR_IS_IO)
        /* Devices decoding only 16 I/O address bits read the upper half back as zero;
         * the lowest writable bit is the size either way. */
        return lowest_set_bit(low & PCI_BAR_IO_MASK);
    uint64_t mask = low & PCI_BAR_MEM_MASK;
    if ((low & PCI_BAR_TYPE_MASK) == PCI_BAR_TYPE_64)
        mask |= (uint64_t)high << 32;
    return lowest_set_bit(mask);
}

/* Write all ones to the register(s) at OFF, read back, restore. */
static uint32_t probe(const struct pci_cfg *c, uint16_t off, uint32_t ones, uint32_t saved)
{
    c->write32(c->ctx, off, ones);
    uint32_t r = c->read32(c->ctx, off);
    c->write32(c->ctx, off, saved);
    return r;
}

static void size_rom(const struct pci_cfg *c, uint16_t off, struct pci_bar *rom)
{
    memset(rom, 0, sizeof *rom);
    uint32_t saved = c->read32(c->ctx, off);
    uint32_t r = probe(c, off, PCI_ROM_MASK, saved);
    uint64_t size = lowest_set_bit(r & PCI_ROM_MASK);
    if (!size)
        return;
    rom->kind = PCI_BAR_MEM32;
    rom->addr = saved & PCI_ROM_MASK;
    rom->size = size;
}

int pci_decode_bars(const struct pci_cfg *c, uint8_t layout, struct pci_bar bar[6], struct pci_bar *rom)
{
    memset(bar, 0, 6 * sizeof bar[0]);
    if (rom)
        memset(rom, 0, sizeof *rom);
    int nbars = layout == PCI_HEADER_ENDPOINT ? 6 : layout == PCI_HEADER_BRIDGE ? 2 : 0;
    if (!nbars)
        return 0;

    /* A half-written BAR must never decode live addresses: decoding off while probing. */
    uint16_t cmd = pci_cfg_read16(c, PCI_COMMAND);
    if (cmd & (PCI_CMD_IO | PCI_CMD_MEM))
        write_command(c, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));

    for (int i = 0; i < nbars; i++) {
        uint16_t off = PCI_BAR0 + 4 * i;
        uint32_t low = c->read32(c->ctx, off);
        struct pci_bar *b = &bar[i];
        if (low & PCI_BAR_IS_IO) {
            b->size = pci_bar_size_from_probe(probe(c, off, 0xffffffffu, low), 0);
            b->addr = low & PCI_BAR_IO_MASK;
            b->kind = b->size ? PCI_BAR_IO : PCI_BAR_NONE;
        } else if ((low & PCI_BAR_TYPE_MASK) == PCI_BAR_TYPE_64 && i + 1 < nbars) {
            uint32_t high = c->read32(c->ctx, off + 4);
            uint32_t rl = probe(c, off, 0xffffffffu, low);
            uint32_t rh = probe(c, off + 4, 0xffffffffu, high);
            b->size = pci_bar_size_from_probe(rl, rh);
            b->addr = ((uint64_t)high << 32) | (low & PCI_BAR_MEM_MASK);
            b->kind = b->size ? PCI_BAR_MEM64 : PCI_BAR_NONE;
            b->prefetchable = b->size && (low & PCI_BAR_PREFETCH);
            i++; /* the upper half stays kind NONE */
        } else {
            /* 32-bit memory (or a malformed 64-bit BAR in the last slot: its upper half
             * would be outside the header, so only the low half is believed). */
            uint32_t rl = probe(c, off, 0xffffffffu, low);
            b->size = pci_bar_size_from_probe(rl & ~(uint32_t)PCI_BAR_TYPE_MASK, 0);
            b->addr = low & PCI_BAR_MEM_MASK;
            b->kind = b->size ? PCI_BAR_MEM32 : PCI_BAR_NONE;
            b->prefetchable = b->size && (low & PCI_BAR_PREFETCH);
        }
        if (b->kind == PCI_BAR_NONE)
            b->addr = 0;
    }
    if (rom)
        size_rom(c, layout == PCI_HEADER_ENDPOINT ? PCI_ROM : PCI_BRIDGE_ROM, rom);

    if (cmd & (PCI_CMD_IO | PCI_CMD_MEM))
        write_command(c, cmd);
    return nbars;
}

void pci_decode_header(const struct pci_cfg *c, struct pci_dev *d)
{
    uint32_t id = c->read32(c->ctx, PCI_VENDOR_ID);
    uint32_t cls = c->read32(c->ctx, PCI_REVISION);
    uint8_t ht = pci_cfg_read8(c, PCI_HEADER_TYPE);
    d->vendor = (uint16_t)id;
    d->device = (uint16_t)(id >> 16);
    d->revision = (uint8_t)cls;
    d->prog_if = (uint8_t)(cls >> 8);
    d->subclass = (uint8_t)(cls >> 16);
    d->class_code = (uint8_t)(cls >> 24);
    d->header_type = ht & PCI_HEADER_LAYOUT;
    d->multifunction = ht & PCI_HEADER_MULTIFN;
    d->irq_line = pci_cfg_read8(c, PCI_IRQ_LINE);
    d->irq_pin = pci_cfg_read8(c, PCI_IRQ_PIN);
    if (d->header_type == PCI_HEADER_ENDPOINT) {
        d->subsys_vendor = pci_cfg_read16(c, PCI_SUBSYS_VENDOR);
        d->subsys_id = pci_cfg_read16(c, PCI_SUBSYS_ID);
    } else if (d->header_type == PCI_HEADER_BRIDGE) {
        d->secondary_bus = pci_cfg_read8(c, PCI_SECONDARY_BUS);
        d->subordinate_bus = pci_cfg_read8(c, PCI_SUBORDINATE_BUS);
    }
}

int pci_cap_walk(const struct pci_cfg *c, uint8_t ids[], uint8_t offs[], int max)
{
    if (!(pci_cfg_read16(c, PCI_STATUS) & PCI_STATUS_CAP_LIST))
        return 0;
    uint64_t seen = 0;   /* one bit per dword of the 256-byte space */
    int n = 0;
    uint8_t pos = pci_cfg_read8(c, PCI_CAP_PTR) & ~3u;
    /* Capabilities live after the 64-byte header; a pointer into it (0 included) ends
     * the list, and so does one we have already visited. */
    while (pos >= PCI_CAP_FIRST && n < max && !(seen & (1ull << (pos / 4)))) {
        seen |= 1ull << (pos / 4);
        uint16_t hdr = pci_cfg_read16(c, pos);
        uint8_t id = (uint8_t)hdr;
        if (id == 0xff)   /* a vanished function reads all ones */
            break;
        ids[n] = id;
        offs[n] = pos;
        n++;
        pos = (uint8_t)(hdr >> 8) & ~3u;
    }
    return n;
}

uint16_t pci_cap_find_in(const struct pci_cfg *c, uint8_t id)
{
    uint8_t ids[PCI_MAX_CAPS], offs[PCI_MAX_CAPS];
    int n = pci_cap_walk(c, ids, offs, PCI_MAX_CAPS);
    for (int i = 0; i < n; i++)
        if (ids[i] == id)
            return offs[i];
    return 0;
}

int pci_ext_cap_walk(const struct pci_cfg *c, uint16_t ids[], uint16_t offs[], uint8_t vers[], int max)
{
    if (c->size < PCI_CFG_EXT_SIZE)
        return 0;
    uint64_t seen[PCI_CFG_EXT_SIZE / 4 / 64] = { 0 };
    int n = 0;
    uint16_t pos = PCI_EXT_CAP_FIRST;
    while (pos >= PCI_EXT_CAP_FIRST && pos < PCI_CFG_EXT_SIZE && n < max) {
        unsigned slot = pos / 4;
        if (seen[slot / 64] & (1ull << (slot % 64)))
            break;
        seen[slot / 64] |= 1ull << (slot % 64);
        uint32_t hdr = c->read32(c->ctx, pos);
        /* No extended capabilities: the first header is zero (PCIe 4.0 §7.6.3), or all
         * ones on a conventional function behind a PCIe host. */
        if (hdr == 0 || hdr == 0xffffffffu)
            break;
        uint16_t id = (uint16_t)hdr;
        if (id != 0) {   /* id 0 is a placeholder that only links onwards */
            ids[n] = id;
            offs[n] = pos;
            if (vers)
                vers[n] = (hdr >> PCI_EXT_CAP_VER_SHIFT) & 0xf;
            n++;
        }
        pos = (uint16_t)(hdr >> PCI_EXT_CAP_NEXT_SHIFT) & ~3u;
    }
    return n;
}

uint16_t pci_ext_cap_find_in(const struct pci_cfg *c, uint16_t id)
{
    uint16_t ids[64], offs[64];
    int n = pci_ext_cap_walk(c, ids, offs, NULL, 64);
    for (int i = 0; i < n; i++)
        if (ids[i] == id)
            return offs[i];
    return 0;
}
