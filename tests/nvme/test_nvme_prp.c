/* Host unit test of PRP construction (drivers/nvme/nvme_prp.c).  Every case builds PRPs for
 * a buffer at a fake physical address, then walks them the way a controller does (PRP1,
 * then PRP2 as a page or as a list with chain pointers) and checks that the walk visits
 * exactly the pages the buffer touches, in order, with page-aligned entries. */
#include <stdint.h>
#include <stdlib.h>
#include "drivers/nvme/nvme_prp.h"
#include "tests/check.h"

#define MAX_LISTS 8
#define LIST_BASE 0x7700000000ull /* fake physical address of list page i: base + i*page */

static uint64_t *list_virt[MAX_LISTS];
static uint64_t list_phys[MAX_LISTS];

static void setup_lists(uint32_t page)
{
    for (int i = 0; i < MAX_LISTS; i++) {
        free(list_virt[i]);
        list_virt[i] = aligned_alloc(page, page);
        memset(list_virt[i], 0xee, page);
        list_phys[i] = LIST_BASE + (uint64_t)i * page;
    }
}

static uint64_t *phys_to_list(uint64_t pa, uint32_t page)
{
    if (pa < LIST_BASE || (pa - LIST_BASE) % page || (pa - LIST_BASE) / page >= MAX_LISTS)
        return NULL;
    return list_virt[(pa - LIST_BASE) / page];
}

/* Controller-side walk; returns "" or what was wrong. */
static const char *walk(uint64_t addr, uint64_t len, uint32_t page, uint64_t prp1, uint64_t prp2,
                        unsigned *lists_used)
{
    static char why[160];
    uint64_t mask = page - 1;
    *lists_used = 0;
    if (prp1 != addr)
        return "PRP1 is not the buffer address";
    uint64_t want = (addr & ~mask) + page; /* next page expected */
    uint64_t remaining = len - (page - (addr & mask) < len ? page - (addr & mask) : len);
    if (remaining == 0)
        return prp2 == 0 ? "" : "PRP2 set for a one-page transfer";
    if (remaining <= page) {
        if (prp2 != want) {
            snprintf(why, sizeof why, "PRP2 %#llx, want page %#llx", (unsigned long long)prp2,
                     (unsigned long long)want);
            return why;
        }
        return "";
    }
    uint32_t per = page / 8;
    uint64_t *list = phys_to_list(prp2, page);
    if (!list)
        return "PRP2 does not point at a list page";
    (*lists_used)++;
    for (uint32_t i = 0;; i++) {
        if (i == per - 1 && remaining > page) { /* last slot of a page with more to come: chain */
            list = phys_to_list(list[i], page);
            if (!list)
                return "chain entry does not point at a list page";
            (*lists_used)++;
            i = (uint32_t)-1;
            continue;
        }
        if (list[i] & mask)
            return "list entry not page-aligned";
        if (list[i] != want) {
            snprintf(why, sizeof why, "list entry %u is %#llx, want %#llx", i,
                     (unsigned long long)list[i], (unsigned long long)want);
            return why;
        }
        want += page;
        remaining = remaining > page ? remaining - page : 0;
        if (remaining == 0)
            return "";
    }
}

static void one(uint64_t addr, uint64_t len, uint32_t page)
{
    setup_lists(page);
    struct nvme_prp_lists l = { list_virt, list_phys, MAX_LISTS };
    uint64_t p1 = 1, p2 = 1;
    int err = nvme_prp_build(addr, len, page, &l, &p1, &p2);
    if (!check(err == NVME_PRP_OK, "prp build addr=%#llx len=%llu page=%u", (unsigned long long)addr,
               (unsigned long long)len, page))
        return;
    unsigned used;
    const char *why = walk(addr, len, page, p1, p2, &used);
    if (*why)
        check(0, "prp walk addr=%#llx len=%llu page=%u: %s", (unsigned long long)addr,
              (unsigned long long)len, page, why);
    else
        check(1, "prp walk addr=%#llx len=%llu page=%u", (unsigned long long)addr,
              (unsigned long long)len, page);
    check(used <= nvme_prp_list_pages(len, page),
          "prp list pages addr=%#llx len=%llu: used %u <= preallocated %u", (unsigned long long)addr,
          (unsigned long long)len, used, nvme_prp_list_pages(len, page));
}

int main(void)
{
    static const uint32_t pages[] = { 4096, 8192, 65536 };
    for (unsigned pi = 0; pi < 3; pi++) {
        uint32_t P = pages[pi];
        uint64_t base = 0x100000000ull; /* above 4 GiB: addresses must stay 64-bit */
        uint64_t offs[] = { 0, 4, 512, P / 2, P - 512, P - 4 };
        uint64_t lens[] = { 4, 512, P - 512, P, P + 4, 2 * P - 4, 2 * P, 2 * P + 512, 3 * P,
                            (uint64_t)(P / 8) * P,           /* a full list page */
                            (uint64_t)(P / 8 + 1) * P,       /* full list + PRP1 */
                            (uint64_t)(P / 8 + 2) * P,       /* first chain */
                            (uint64_t)(2 * (P / 8)) * P + 4, /* second list page nearly full */
                            (uint64_t)(2 * (P / 8) + 8) * P };
        for (unsigned o = 0; o < sizeof offs / sizeof offs[0]; o++)
            for (unsigned k = 0; k < sizeof lens / sizeof lens[0]; k++) {
                if (P == 65536 && lens[k] > 64ull * 1024 * 1024)
                    continue;
                one(base + offs[o], lens[k], P);
            }
    }
    /* Entry counts at the named boundaries (4 KiB pages): 1, 2, 512, 513, >513. */
    CHECK_EQ_U64(nvme_prp_entries(0x1000, 4096, 4096), 1, "entries one page");
    CHECK_EQ_U64(nvme_prp_entries(0x1200, 4096, 4096), 2, "entries mid-page start spans two");
    CHECK_EQ_U64(nvme_prp_entries(0x1000, 512 * 4096, 4096), 512, "entries 512");
    CHECK_EQ_U64(nvme_prp_entries(0x1004, 512 * 4096, 4096), 513, "entries 513 mid-page");
    CHECK_EQ_U64(nvme_prp_list_pages(4096, 4096), 0, "list pages for 4 KiB (mid-page: PRP2 page)");
    CHECK_EQ_U64(nvme_prp_list_pages(8192, 4096), 1, "list pages for 8 KiB at any offset");
    CHECK_EQ_U64(nvme_prp_list_pages(512 * 4096, 4096), 1, "list pages for 2 MiB");
    CHECK_EQ_U64(nvme_prp_list_pages(513 * 4096, 4096), 2, "list pages for 2 MiB + 4 KiB");
    CHECK_EQ_U64(nvme_prp_list_pages(1024 * 4096, 4096), 3, "list pages for 4 MiB");

    /* Errors. */
    setup_lists(4096);
    struct nvme_prp_lists l1 = { list_virt, list_phys, 1 };
    uint64_t p1, p2;
    CHECK_EQ_U64(nvme_prp_build(0x1002, 512, 4096, &l1, &p1, &p2), NVME_PRP_EALIGN, "unaligned buffer");
    CHECK_EQ_U64(nvme_prp_build(0x1000, 510, 4096, &l1, &p1, &p2), NVME_PRP_EALIGN, "odd length");
    CHECK_EQ_U64(nvme_prp_build(0x1000, 0, 4096, &l1, &p1, &p2), NVME_PRP_EEMPTY, "empty");
    CHECK_EQ_U64(nvme_prp_build(0x1000, 4096, 2048, &l1, &p1, &p2), NVME_PRP_EPAGE, "page 2 KiB");
    CHECK_EQ_U64(nvme_prp_build(0x1000, 4096, 12288, &l1, &p1, &p2), NVME_PRP_EPAGE, "page not 2^n");
    CHECK_EQ_U64(nvme_prp_build(0x1000, 514 * 4096, 4096, &l1, &p1, &p2), NVME_PRP_ETOOBIG,
                 "514 pages with one list page");
    CHECK_EQ_U64(nvme_prp_build(0x1000, 513 * 4096, 4096, &l1, &p1, &p2), NVME_PRP_OK,
                 "513 pages with one list page");
    CHECK_EQ_U64(nvme_prp_build(0x1000, 3 * 4096, 4096, NULL, &p1, &p2), NVME_PRP_ETOOBIG,
                 "three pages without list pages");
    CHECK_EQ_U64(nvme_prp_build(0x1000, 2 * 4096, 4096, NULL, &p1, &p2), NVME_PRP_OK,
                 "two pages without list pages");
    CHECK_STR(nvme_prp_strerror(NVME_PRP_ETOOBIG),
              "transfer needs more PRP list pages than the slot has", "strerror");
    return check_exit_status();
}
