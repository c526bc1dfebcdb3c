/* drivers/nvme/nvme_prp.h: building Physical Region Page entries for one NVMe command.
 *
 * Interface: nvme_prp_build(addr, len, page, lists, &prp1, &prp2) describes the physically
 * contiguous buffer [addr, addr+len) to the controller:
 *   - PRP1 is addr itself (any dword-aligned offset into its page);
 *   - a transfer that ends inside the first page needs nothing more (PRP2 = 0);
 *   - one that ends inside the second page puts that page's address in PRP2;
 *   - a longer one points PRP2 at a PRP list: one entry per further page, a list page
 *     holding page/8 entries, whose last entry chains to the next list page when more
 *     entries remain than fit (base spec §4.3).
 * The list pages are the caller's (preallocated per command slot, so the I/O path never
 * allocates); nvme_prp_list_pages(max_len, page) says how many a slot needs.
 * Portable (no hardware headers): the host unit tests run it with fake physical addresses,
 * which is why every list page is given both as a pointer and as a physical address. */
#ifndef DRIVERS_NVME_NVME_PRP_H
#define DRIVERS_NVME_NVME_PRP_H
#include <stddef.h>
#include <stdint.h>

enum nvme_prp_err {
    NVME_PRP_OK = 0,
    NVME_PRP_EALIGN,   /* buffer not dword-aligned, or length not a multiple of 4 */
    NVME_PRP_EEMPTY,   /* zero-length transfer */
    NVME_PRP_ETOOBIG,  /* more entries than the caller's list pages hold */
    NVME_PRP_EPAGE,    /* page size not a power of two in 4 KiB..128 MiB */
};

/* The caller's list pages: page-aligned, page-sized each. */
struct nvme_prp_lists {
    uint64_t *const *virt;  /* where the driver writes entries */
    const uint64_t *phys;   /* what the controller is told */
    unsigned count;
};

const char *nvme_prp_strerror(int err);
/* Number of pages [addr, addr+len) touches, i.e. the number of PRP entries it needs. */
uint64_t nvme_prp_entries(uint64_t addr, uint64_t len, uint32_t page);
/* List pages needed for any buffer up to MAX_LEN bytes at any offset. */
unsigned nvme_prp_list_pages(uint64_t max_len, uint32_t page);
/* Fill PRP1/PRP2 (and list pages) for the buffer; returns enum nvme_prp_err. */
int nvme_prp_build(uint64_t addr, uint64_t len, uint32_t page, const struct nvme_prp_lists *lists,
                   uint64_t *prp1, uint64_t *prp2);

#endif
