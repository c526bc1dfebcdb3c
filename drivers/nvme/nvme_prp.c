/* PRP entry construction; see nvme_prp.h. */
#include "drivers/nvme/nvme_prp.h"
#include "drivers/nvme/nvme_spec.h"

const char *nvme_prp_strerror(int err)
{
    switch (err) {
    case NVME_PRP_OK: return "success";
    case NVME_PRP_EALIGN: return "buffer or length not dword-aligned";
    case NVME_PRP_EEMPTY: return "empty transfer";
    case NVME_PRP_ETOOBIG: return "transfer needs more PRP list pages than the slot has";
    case NVME_PRP_EPAGE: return "invalid memory page size";
    }
    return "unknown PRP error";
}

static int page_ok(uint32_t page)
{
    return page >= 4096 && (page & (page - 1)) == 0 && page <= (1u << 27);
}

uint64_t nvme_prp_entries(uint64_t addr, uint64_t len, uint32_t page)
{
    if (len == 0)
        return 0;
    uint64_t first = addr & ~(uint64_t)(page - 1);
    uint64_t last = (addr + len - 1) & ~(uint64_t)(page - 1);
    return (last - first) / page + 1;
}

/* List pages for N list entries: a page holds PER entries, but every page except the last
 * gives one to the chain pointer. */
static uint64_t list_pages_for(uint64_t n, uint32_t page)
{
    uint64_t per = page / NVME_PRP_SIZE;
    if (n <= 1) /* PRP2 carries a single further page itself */
        return 0;
    if (n <= per)
        return 1;
    return 1 + (n - per + (per - 1) - 1) / (per - 1);
}

unsigned nvme_prp_list_pages(uint64_t max_len, uint32_t page)
{
    if (!page_ok(page) || max_len == 0)
        return 0;
    /* Worst case: starting 4 bytes before a page boundary adds one page. */
    uint64_t entries = nvme_prp_entries(page - 4, max_len, page);
    return (unsigned)list_pages_for(entries - 1, page);
}

int nvme_prp_build(uint64_t addr, uint64_t len, uint32_t page, const struct nvme_prp_lists *lists,
                   uint64_t *prp1, uint64_t *prp2)
{
    if (!page_ok(page))
        return NVME_PRP_EPAGE;
    if (len == 0)
        return NVME_PRP_EEMPTY;
    if ((addr & 3) || (len & 3))
        return NVME_PRP_EALIGN;
    uint64_t n = nvme_prp_entries(addr, len, page);
    uint64_t next = (addr & ~(uint64_t)(page - 1)) + page; /* second page */
    *prp1 = addr;
    *prp2 = 0;
    if (n == 1)
        return NVME_PRP_OK;
    if (n == 2) {
        *prp2 = next;
        return NVME_PRP_OK;
    }
    uint64_t left = n - 1; /* entries the list must hold */
    if (list_pages_for(left, page) > (lists ? lists->count : 0))
        return NVME_PRP_ETOOBIG;
    uint32_t per = page / NVME_PRP_SIZE;
    *prp2 = lists->phys[0];
    for (unsigned lp = 0; left > 0; lp++) {
        uint64_t *e = lists->virt[lp];
        uint32_t room = left > per ? per - 1 : (uint32_t)left;
        for (uint32_t i = 0; i < room; i++, next += page)
            e[i] = next;
        left -= room;
        if (left > 0)
            e[per - 1] = lists->phys[lp + 1];
    }
    return NVME_PRP_OK;
}
