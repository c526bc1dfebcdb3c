/* drivers/pci/pci_names.c: name lookup in the generated pci.ids table; see pci_names.h.
 * A lookup is a binary search over sorted keys, then the name is expanded: printable
 * bytes stand for themselves, 0x80+i for dictionary word i, 0x01 escapes the next byte. */
#include <string.h>
#include "drivers/pci/pci_names.h"

enum { CODE_LITERAL = 0x01, CODE_DICT = 0x80 };
enum { LEVEL_CLASS = 1, LEVEL_SUBCLASS = 2, LEVEL_PROGIF = 3 };

/* Index of KEY in a sorted array of N keys of 16 or 32 bits (the generator stores each
 * table in the narrowest width that holds its keys), or -1. */
static long find(const void *keys, unsigned wide, unsigned n, uint32_t key)
{
    const uint16_t *k16 = keys;
    const uint32_t *k32 = keys;
    unsigned lo = 0, hi = n;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if ((wide ? k32[mid] : k16[mid]) < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && (wide ? k32[lo] : k16[lo]) == key ? (long)lo : -1;
}

/* Expand the name at OFF into BUF (always terminated; truncated if it does not fit). */
static bool expand(uint32_t off, char *buf, size_t n)
{
    const struct pci_ids_table *t = &pci_ids;
    size_t k = 0;
    if (!n)
        return true;
    for (uint32_t i = off; i < t->names_size && t->names[i]; i++) {
        uint8_t b = t->names[i];
        if (b >= CODE_DICT && b - CODE_DICT < (int)t->dict_count) {
            for (const uint8_t *w = t->dict_words + t->dict_offs[b - CODE_DICT]; *w && k + 1 < n; w++)
                buf[k++] = (char)*w;
            continue;
        }
        if (b == CODE_LITERAL && i + 1 < t->names_size)
            b = t->names[++i];
        if (k + 1 < n)
            buf[k++] = (char)b;
    }
    buf[k] = 0;
    return true;
}

static bool not_found(char *buf, size_t n)
{
    if (n)
        buf[0] = 0;
    return false;
}

static bool lookup_class(uint32_t key, char *buf, size_t n)
{
    long i = find(pci_ids.class_keys, 1, pci_ids.class_count, key);
    return i < 0 ? not_found(buf, n) : expand(pci_ids.class_names[i], buf, n);
}

bool pci_name_class(uint8_t cls, char *buf, size_t n)
{
    return lookup_class((uint32_t)LEVEL_CLASS << 24 | (uint32_t)cls << 16, buf, n);
}

bool pci_name_subclass(uint8_t cls, uint8_t sub, char *buf, size_t n)
{
    return lookup_class((uint32_t)LEVEL_SUBCLASS << 24 | (uint32_t)cls << 16 | (uint32_t)sub << 8, buf, n);
}

bool pci_name_progif(uint8_t cls, uint8_t sub, uint8_t prog_if, char *buf, size_t n)
{
    return lookup_class((uint32_t)LEVEL_PROGIF << 24 | (uint32_t)cls << 16 | (uint32_t)sub << 8 | prog_if, buf, n);
}

bool pci_name_vendor(uint16_t vendor, char *buf, size_t n)
{
    long i = find(pci_ids.vendor_keys, 0, pci_ids.vendor_count, vendor);
    return i < 0 ? not_found(buf, n) : expand(pci_ids.vendor_names[i], buf, n);
}

bool pci_name_device(uint16_t vendor, uint16_t device, char *buf, size_t n)
{
    long i = find(pci_ids.device_keys, 1, pci_ids.device_count, (uint32_t)vendor << 16 | device);
    return i < 0 ? not_found(buf, n) : expand(pci_ids.device_names[i], buf, n);
}
