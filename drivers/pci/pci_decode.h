/* drivers/pci/pci_decode.h: portable decoding of one function's configuration space.
 *
 * Interface: the caller describes how to reach the function's configuration space with a
 * struct pci_cfg (32-bit read and write at a dword-aligned offset), and these routines
 * decode the header, size the BARs and walk the capability lists through it.  Nothing
 * here touches hardware directly, so the host unit tests (tests/pci/) run the same code
 * over recorded configuration-space dumps with a simulated BAR-sizing response.
 *
 * Invariants: every walk is bounded (a capability list that loops or points into the
 * header ends the walk instead of hanging); BAR sizing leaves the BARs and the command
 * register exactly as it found them. */
#ifndef DRIVERS_PCI_DECODE_H
#define DRIVERS_PCI_DECODE_H
#include <stdbool.h>
#include <stdint.h>
#include "drivers/pci/pci.h"

/* Configuration-space registers (PCI Local Bus 3.0 §6.1, PCI-to-PCI Bridge 1.2 §3.2). */
enum pci_reg {
    PCI_VENDOR_ID = 0x00,      /* 16: 0xffff when no function answers */
    PCI_DEVICE_ID = 0x02,      /* 16 */
    PCI_COMMAND = 0x04,        /* 16: decode enables, bus master, INTx disable */
    PCI_STATUS = 0x06,         /* 16: bit 4 says a capability list exists */
    PCI_REVISION = 0x08,       /* 8 */
    PCI_PROG_IF = 0x09,        /* 8: programming interface */
    PCI_SUBCLASS = 0x0a,       /* 8 */
    PCI_CLASS = 0x0b,          /* 8: base class */
    PCI_HEADER_TYPE = 0x0e,    /* 8: layout in bits 0-6, multi-function in bit 7 */
    PCI_BAR0 = 0x10,           /* 6 (type 0) or 2 (type 1) 32-bit base address registers */
    PCI_PRIMARY_BUS = 0x18,    /* type 1, 8 */
    PCI_SECONDARY_BUS = 0x19,  /* type 1, 8: bus directly behind the bridge */
    PCI_SUBORDINATE_BUS = 0x1a,/* type 1, 8: highest bus behind the bridge */
    PCI_SUBSYS_VENDOR = 0x2c,  /* type 0, 16 */
    PCI_SUBSYS_ID = 0x2e,      /* type 0, 16 */
    PCI_ROM = 0x30,            /* type 0: expansion ROM base */
    PCI_CAP_PTR = 0x34,        /* 8: first capability */
    PCI_BRIDGE_ROM = 0x38,     /* type 1: expansion ROM base */
    PCI_IRQ_LINE = 0x3c,       /* 8: what firmware routed INTx to (informational) */
    PCI_IRQ_PIN = 0x3d,        /* 8: 0 none, 1..4 INTA..INTD */
};

enum pci_command_bits {
    PCI_CMD_IO = 1u << 0,          /* respond to I/O-space accesses */
    PCI_CMD_MEM = 1u << 1,         /* respond to memory-space accesses */
    PCI_CMD_MASTER = 1u << 2,      /* may initiate DMA */
    PCI_CMD_INTX_OFF = 1u << 10,   /* INTx disable */
};
enum { PCI_STATUS_CAP_LIST = 1u << 4 };
enum { PCI_HEADER_LAYOUT = 0x7f, PCI_HEADER_MULTIFN = 0x80 };
enum { PCI_HEADER_ENDPOINT = 0, PCI_HEADER_BRIDGE = 1, PCI_HEADER_CARDBUS = 2 };

/* BAR low bits (PCI 3.0 §6.2.5.1). */
enum pci_bar_bits {
    PCI_BAR_IS_IO = 1u << 0,       /* 1: I/O space */
    PCI_BAR_TYPE_MASK = 3u << 1,   /* memory: 0 = 32-bit, 2 = 64-bit */
    PCI_BAR_TYPE_64 = 2u << 1,
    PCI_BAR_PREFETCH = 1u << 3,
    PCI_ROM_ENABLE = 1u << 0,      /* expansion ROM decode enable */
};
#define PCI_BAR_IO_MASK 0xfffffffcu
#define PCI_BAR_MEM_MASK 0xfffffff0u
#define PCI_ROM_MASK 0xfffff800u

/* Standard capability ids (PCI Code and ID Assignment §2). */
enum pci_cap_id {
    PCI_CAP_PM = 0x01,      /* power management */
    PCI_CAP_AGP = 0x02,
    PCI_CAP_VPD = 0x03,
    PCI_CAP_MSI = 0x05,
    PCI_CAP_VENDOR = 0x09,  /* vendor-specific */
    PCI_CAP_BRIDGE_SUBSYS = 0x0d,
    PCI_CAP_PCIE = 0x10,
    PCI_CAP_MSIX = 0x11,
    PCI_CAP_SATA = 0x12,
    PCI_CAP_AF = 0x13,
};
/* Capability header layout: id byte, next-pointer byte. */
enum { PCI_CAP_ID_OFF = 0, PCI_CAP_NEXT_OFF = 1, PCI_CAP_FIRST = 0x40 };
/* Extended capabilities start at 0x100; header = id:16 version:4 next:12. */
enum { PCI_EXT_CAP_FIRST = 0x100, PCI_EXT_CAP_NEXT_SHIFT = 20, PCI_EXT_CAP_VER_SHIFT = 16 };
enum pci_ext_cap_id {
    PCI_EXT_CAP_AER = 0x0001,
    PCI_EXT_CAP_VC = 0x0002,
    PCI_EXT_CAP_DSN = 0x0003,
    PCI_EXT_CAP_VENDOR = 0x000b,
    PCI_EXT_CAP_ACS = 0x000d,
    PCI_EXT_CAP_ARI = 0x000e,
    PCI_EXT_CAP_SRIOV = 0x0010,
    PCI_EXT_CAP_LTR = 0x0018,
    PCI_EXT_CAP_L1SS = 0x001e,
};

#define PCI_CFG_SIZE 256u
#define PCI_CFG_EXT_SIZE 4096u
/* A well-formed list cannot have more entries than fit in the space it lives in. */
#define PCI_MAX_CAPS ((PCI_CFG_SIZE - PCI_CAP_FIRST) / 4)
#define PCI_MAX_EXT_CAPS ((PCI_CFG_EXT_SIZE - PCI_EXT_CAP_FIRST) / 4)

/* How to reach one function's configuration space.  OFF is dword-aligned and below SIZE. */
struct pci_cfg {
    uint32_t (*read32)(void *ctx, uint16_t off);
    void (*write32)(void *ctx, uint16_t off, uint32_t v);
    void *ctx;
    uint16_t size;   /* 256, or 4096 when extended space is reachable */
};

/* Sub-dword reads built from read32. */
uint8_t pci_cfg_read8(const struct pci_cfg *c, uint16_t off);
uint16_t pci_cfg_read16(const struct pci_cfg *c, uint16_t off);

/* Size from the value read back after writing all ones to a BAR: the lowest writable
 * address bit.  LOW is the read-back of the (low) register, HIGH that of the upper half of
 * a 64-bit BAR (ignored otherwise).  0 when the BAR is not implemented. */
uint64_t pci_bar_size_from_probe(uint32_t low, uint32_t high);

/* Decode and size the BARs (6 for type 0, 2 for type 1, none otherwise) and the
 * expansion ROM, writing all ones with I/O and memory decoding disabled, then restoring
 * every register.  Returns the number of BAR slots of this header type. */
int pci_decode_bars(const struct pci_cfg *c, uint8_t layout, struct pci_bar bar[6], struct pci_bar *rom);

/* Fill D's identity fields (ids, class, header, interrupt, bus numbers) from the header. */
void pci_decode_header(const struct pci_cfg *c, struct pci_dev *d);

/* Standard capability list: offset of the first / next capability, 0 at the end.
 * pci_cap_walk fills up to MAX (id, offset) pairs and returns how many it found; a loop or
 * a pointer into the header ends the walk.  pci_cap_find: offset of capability ID, or 0. */
int pci_cap_walk(const struct pci_cfg *c, uint8_t ids[], uint8_t offs[], int max);
uint16_t pci_cap_find_in(const struct pci_cfg *c, uint8_t id);

/* Extended capability list (needs c->size == 4096): same contract, 16-bit ids and offsets;
 * VERS (may be NULL) gets each capability's version. */
int pci_ext_cap_walk(const struct pci_cfg *c, uint16_t ids[], uint16_t offs[], uint8_t vers[], int max);
uint16_t pci_ext_cap_find_in(const struct pci_cfg *c, uint16_t id);

#endif
