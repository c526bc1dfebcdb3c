/* drivers/pci/pci_internal.h: what the PCI layer's own files (pci.c, the lspci commands)
 * share beyond the driver interface in pci.h.  Drivers never include this. */
#ifndef DRIVERS_PCI_INTERNAL_H
#define DRIVERS_PCI_INTERNAL_H
#include <stdint.h>
#include "drivers/pci/pci.h"
#include "drivers/pci/pci_decode.h"

/* Class codes the scanner itself cares about. */
enum { PCI_CLASS_BRIDGE = 0x06, PCI_SUBCLASS_HOST = 0x00 };

/* Where a function lives. */
struct pci_loc {
    uint16_t segment;
    uint8_t bus, dev, fn;
};

enum pci_access {
    PCI_ACCESS_AUTO,     /* ECAM if MCFG describes it, else legacy */
    PCI_ACCESS_ECAM,     /* ECAM or fail */
    PCI_ACCESS_LEGACY,   /* 0xCF8/0xCFC even when ECAM exists */
};

/* (Re)scan the machine with the given mechanism; returns the function count or -1. */
int pci_scan(enum pci_access how);

/* Raw configuration access of WIDTH bytes (1, 2, 4) through the mechanism in use;
 * all ones when OFF is out of reach. */
uint32_t pci_loc_read(const struct pci_loc *l, uint16_t off, int width);
void pci_loc_write(const struct pci_loc *l, uint16_t off, int width, uint32_t v);
void pci_loc_of(const struct pci_dev *d, struct pci_loc *l);
/* A struct pci_cfg reaching L (which must outlive C). */
void pci_cfg_for(struct pci_loc *l, struct pci_cfg *c);

#endif
