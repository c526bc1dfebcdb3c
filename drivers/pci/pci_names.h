/* drivers/pci/pci_names.h: class, vendor and device names from Debian's pci.ids.
 *
 * The names live in a compressed table that tools/pciids generates at build time from
 * /usr/share/misc/pci.ids (see tools/pciids/pciids.c for which entries are kept and how
 * they are packed).  Each lookup expands one name into the caller's buffer and returns
 * true, or returns false (buffer set to "") when the id is not in the table.  Portable:
 * the host unit tests check it against pci.ids itself. */
#ifndef DRIVERS_PCI_NAMES_H
#define DRIVERS_PCI_NAMES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool pci_name_class(uint8_t cls, char *buf, size_t n);
bool pci_name_subclass(uint8_t cls, uint8_t sub, char *buf, size_t n);
bool pci_name_progif(uint8_t cls, uint8_t sub, uint8_t prog_if, char *buf, size_t n);
bool pci_name_vendor(uint16_t vendor, char *buf, size_t n);
bool pci_name_device(uint16_t vendor, uint16_t device, char *buf, size_t n);

/* The generated table (build/gen/pci_ids.c; the packing is described in
 * tools/pciids/pciids.c).  Keys are sorted; each *_names entry is an offset into NAMES. */
struct pci_ids_table {
    const uint8_t *names;
    uint32_t names_size;
    const uint8_t *dict_words;     /* NUL-terminated words, code 0x80 + i */
    const uint16_t *dict_offs;
    unsigned dict_count;
    const uint32_t *class_keys;    /* level << 24 | class << 16 | subclass << 8 | prog-if */
    const uint16_t *class_names;
    unsigned class_count;
    const uint16_t *vendor_keys;
    const uint16_t *vendor_names;
    unsigned vendor_count;
    const uint32_t *device_keys;   /* vendor << 16 | device */
    const uint16_t *device_names;
    unsigned device_count;
};
extern const struct pci_ids_table pci_ids;

#endif
