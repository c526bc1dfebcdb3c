/* drivers/pci/pci.h: the one PCI layer every driver uses to find and set up its hardware.
 *
 * pci_init() walks the bus tree from the host bridge(s) through PCI-to-PCI bridges (not a
 * blind 256x32x8 loop), using PCIe ECAM from the ACPI MCFG table or, without one, the legacy
 * 0xCF8/0xCFC mechanism.  Every function found gets a struct pci_dev in a fixed table, with
 * its BARs decoded and sized and its capabilities located.  Drivers query the table, claim a
 * function, enable it and map its BARs through this interface only. */
#ifndef DRIVERS_PCI_H
#define DRIVERS_PCI_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCI_MAX_DEVICES 128

enum pci_bar_kind { PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_bar {
    uint64_t addr;        /* base address as programmed */
    uint64_t size;        /* from the all-ones sizing probe; 0 if unimplemented */
    uint8_t kind;         /* enum pci_bar_kind; the upper half of a 64-bit BAR is NONE */
    bool prefetchable;
};

struct pci_dev {
    uint16_t segment;
    uint8_t bus, dev, fn;
    uint16_t vendor, device;
    uint16_t subsys_vendor, subsys_id;
    uint8_t class_code, subclass, prog_if, revision;
    uint8_t header_type;              /* 0 = endpoint, 1 = PCI-to-PCI bridge (bit 7 masked) */
    bool multifunction;
    uint8_t irq_pin, irq_line;
    struct pci_bar bar[6];            /* type 0: 6 BARs; type 1: 2 */
    uint8_t secondary_bus, subordinate_bus;   /* bridges only */
    uint8_t cap_pm, cap_msi, cap_msix, cap_pcie;  /* config-space offsets, 0 if absent */
    struct pci_dev *parent;           /* the bridge above, NULL on a root bus */
    const char *driver;               /* set by pci_claim */
    struct pci_bar rom;               /* expansion ROM (kind MEM32, addr as programmed) */
    uintptr_t msix_table;             /* MSI-X table, mapped on first use (0 until then) */
    uint16_t msix_entries;            /* its size, valid once msix_table is set */
};

/* Scan the machine; returns the number of functions found (negative on failure). */
int pci_init(void);
/* true if ECAM is in use (false: legacy port I/O, extended config space unreachable). */
bool pci_using_ecam(void);

size_t pci_count(void);
struct pci_dev *pci_at(size_t i);
/* Next function after AFTER (NULL: from the start) with this class/subclass, and prog-if
 * unless PROG_IF is negative. */
struct pci_dev *pci_find_class(uint8_t class_code, uint8_t subclass, int prog_if, struct pci_dev *after);
struct pci_dev *pci_find_id(uint16_t vendor, uint16_t device, struct pci_dev *after);

uint8_t pci_read8(struct pci_dev *d, uint16_t off);
uint16_t pci_read16(struct pci_dev *d, uint16_t off);
uint32_t pci_read32(struct pci_dev *d, uint16_t off);
void pci_write8(struct pci_dev *d, uint16_t off, uint8_t v);
void pci_write16(struct pci_dev *d, uint16_t off, uint16_t v);
void pci_write32(struct pci_dev *d, uint16_t off, uint32_t v);

/* Claim a function for DRIVER; returns 0, or -1 if another driver has it. */
int pci_claim(struct pci_dev *d, const char *driver);
/* Enable memory decoding, I/O decoding and bus mastering as asked (command register). */
void pci_enable(struct pci_dev *d, bool mem, bool io, bool bus_master);
/* Map a memory BAR uncached; returns the pointer (identity-mapped) or NULL. */
void *pci_map_bar(struct pci_dev *d, int bar);

/* Capability offsets: standard list (id) and PCIe extended list (id); 0 if absent. */
uint16_t pci_find_cap(struct pci_dev *d, uint8_t id);
uint16_t pci_find_ext_cap(struct pci_dev *d, uint16_t id);

/* MSI-X: point table ENTRY at VECTOR on this CPU and enable MSI-X (INTx off).  Returns 0 or
 * -1 if the function has no MSI-X or the entry is out of range.  pci_msix_mask masks or
 * unmasks one entry. */
int pci_msix_enable(struct pci_dev *d, unsigned entry, unsigned vector);
void pci_msix_mask(struct pci_dev *d, unsigned entry, bool masked);
/* Plain MSI with one vector; 0 or -1. */
int pci_msi_enable(struct pci_dev *d, unsigned vector);

#endif
