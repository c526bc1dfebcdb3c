/* drivers/nvme/nvme.c: NVMe controller bring-up, the admin queue, reset and recovery.
 *
 * Bring-up (base spec §3.5.1, also used for every recovery): the firmware's own driver
 * leaves the controller enabled with live queues, so we first wait out a pending enable,
 * clear CC.EN and wait for CSTS.RDY=0 within CAP.TO; then program AQA/ASQ/ACQ and CC
 * (MPS, CSS=NVM, IOSQES=6, IOCQES=4), set CC.EN and wait for RDY=1 within CAP.TO.  Then
 * Identify Controller, Set Features/Number of Queues, create the I/O queue pairs, read the
 * active namespace list and Identify each namespace.
 *
 * Recovery: a command past its deadline or CSTS.CFS makes nvme_recover() repeat the
 * enable sequence on the same memory, re-create the I/O queues and resubmit the commands
 * that were outstanding (each at most NVME_MAX_RETRIES times); if the controller will not
 * come back it is marked dead and every request fails with BLK_ENODEV.  Writes in flight or
 * unflushed across a reset make the namespace's next flush wait for them (nvme_io.c). */
#include <string.h>
#include "arch/x86_64/cpu.h"
#include "drivers/nvme/nvme_int.h"
#include "drivers/nvme/nvme_status.h"
#include "drivers/pci/pci.h"
#include "kernel/clock.h"
#include "kernel/console.h"
#include "kernel/pmm.h"
#include "lib/bytes.h"

/* PCI identification of an NVMe controller. */
enum { PCI_CLASS_STORAGE = 0x01, PCI_SUBCLASS_NVM = 0x08, PCI_PROGIF_NVME = 0x02 };
enum { NVME_BAR = 0 };

struct nvme_ctrl *nvme_ctrls[NVME_MAX_CTRL];
unsigned nvme_nctrl;
uint64_t nvme_first_read_ns;

const char *nvme_strerror(int err)
{
    switch (err) {
    case NVME_OK: return "success";
    case NVME_ETIMEDOUT: return "controller timed out";
    case NVME_EFATAL: return "controller fatal status (CSTS.CFS)";
    case NVME_ESTATUS: return "command failed";
    case NVME_ENOMEM: return "out of memory";
    case NVME_EUNSUPP: return "controller not supported";
    }
    return "unknown NVMe error";
}

/* ---- register access ------------------------------------------------------------------ */

uint32_t nvme_rd32(struct nvme_ctrl *c, uint32_t reg) { return mmio_read32(c->regs + reg); }
void nvme_wr32(struct nvme_ctrl *c, uint32_t reg, uint32_t v) { mmio_write32(c->regs + reg, v); }
static uint64_t rd64(struct nvme_ctrl *c, uint32_t reg)
{
    /* Two dword reads: 64-bit MMIO is optional for the platform, dwords always work. */
    return mmio_read32(c->regs + reg) | (uint64_t)mmio_read32(c->regs + reg + 4) << 32;
}
static void wr64(struct nvme_ctrl *c, uint32_t reg, uint64_t v)
{
    mmio_write32(c->regs + reg, (uint32_t)v);
    mmio_write32(c->regs + reg + 4, (uint32_t)(v >> 32));
}

void nvme_doorbell(struct nvme_ctrl *c, unsigned qid, int cq, uint32_t value)
{
    /* Entries in memory must be visible before the device hears of them (x86 keeps stores
     * in order; this stops the compiler from sinking them past the MMIO write). */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    mmio_write32(c->regs + NVME_REG_DBS + (2 * qid + (cq ? 1 : 0)) * c->stride, value);
}

uint64_t nvme_dma_alloc(struct nvme_ctrl *c, uint64_t bytes)
{
    size_t pages = (size_t)((bytes + PAGE_SIZE - 1) / PAGE_SIZE);
    uint64_t pa = pmm_alloc_pages(pages);
    if (pa)
        c->mem_bytes += (uint64_t)pages * PAGE_SIZE;
    return pa;
}

/* ---- enable / disable ------------------------------------------------------------------ */

/* Wait until (CSTS & mask) == want, for at most CAP.TO; NVME_EFATAL on CFS while enabling. */
static int wait_csts(struct nvme_ctrl *c, uint32_t mask, uint32_t want)
{
    uint64_t deadline = clock_mono_ns() + (uint64_t)c->ready_ms * 1000000u;
    for (;;) {
        uint32_t csts = nvme_rd32(c, NVME_REG_CSTS);
        if (csts == 0xffffffffu)
            return NVME_ETIMEDOUT; /* device gone from the bus */
        if ((csts & mask) == want)
            return NVME_OK;
        if ((csts & NVME_CSTS_CFS) && want)
            return NVME_EFATAL;
        if (clock_mono_ns() > deadline)
            return NVME_ETIMEDOUT;
        cpu_relax();
    }
}

static int ctrl_disable(struct nvme_ctrl *c)
{
    uint32_t cc = nvme_rd32(c, NVME_REG_CC);
    if (cc & NVME_CC_EN) {
        /* Clearing EN while an enable is still settling is undefined: let it finish (or
         * fail with CFS, which a disable clears anyway). */
        uint32_t csts = nvme_rd32(c, NVME_REG_CSTS);
        if (!(csts & NVME_CSTS_RDY) && !(csts & NVME_CSTS_CFS))
            wait_csts(c, NVME_CSTS_RDY, NVME_CSTS_RDY);
        nvme_wr32(c, NVME_REG_CC, cc & ~NVME_CC_EN);
    }
    return wait_csts(c, NVME_CSTS_RDY, 0);
}

static int ctrl_enable(struct nvme_ctrl *c)
{
    int err = ctrl_disable(c);
    if (err)
        return err;
    memset((void *)c->acq, 0, NVME_AQ_ENTRIES * NVME_CQE_SIZE);
    c->asq_tail = c->acq_head = 0;
    c->aphase = 1;
    nvme_wr32(c, NVME_REG_AQA, NVME_AQA(NVME_AQ_ENTRIES, NVME_AQ_ENTRIES));
    wr64(c, NVME_REG_ASQ, c->asq_phys);
    wr64(c, NVME_REG_ACQ, c->acq_phys);
    uint32_t mps = 0;
    while ((4096u << mps) < c->page)
        mps++;
    uint32_t cc = 0u << NVME_CC_CSS_SHIFT | mps << NVME_CC_MPS_SHIFT | 0u << NVME_CC_AMS_SHIFT |
                  (uint32_t)NVME_SQE_LOG2 << NVME_CC_IOSQES_SHIFT |
                  (uint32_t)NVME_CQE_LOG2 << NVME_CC_IOCQES_SHIFT;
    nvme_wr32(c, NVME_REG_CC, cc);
    nvme_wr32(c, NVME_REG_CC, cc | NVME_CC_EN);
    return wait_csts(c, NVME_CSTS_RDY, NVME_CSTS_RDY);
}

/* ---- admin commands --------------------------------------------------------------------- */

int nvme_admin(struct nvme_ctrl *c, uint32_t sqe[16], uint32_t *dw0, uint16_t *status)
{
    uint16_t cid = c->admin_cid++;
    sqe[NVME_SQE_CDW0] = (sqe[NVME_SQE_CDW0] & 0xffffu) | (uint32_t)cid << 16;
    memcpy(c->asq + (size_t)c->asq_tail * 16, sqe, NVME_SQE_SIZE);
    c->asq_tail = (uint16_t)((c->asq_tail + 1) % NVME_AQ_ENTRIES);
    nvme_doorbell(c, 0, 0, c->asq_tail);
    uint64_t deadline = clock_mono_ns() + NVME_ADMIN_TIMEOUT_MS * 1000000ull;
    for (;;) {
        volatile uint32_t *e = c->acq + (size_t)c->acq_head * 4;
        uint32_t dw3 = e[3];
        if (NVME_CQE_PHASE(dw3) == c->aphase) {
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
            uint32_t r = e[0];
            if (++c->acq_head == NVME_AQ_ENTRIES) {
                c->acq_head = 0;
                c->aphase ^= 1;
            }
            nvme_doorbell(c, 0, 1, c->acq_head);
            if (NVME_CQE_CID(dw3) != cid)
                continue; /* a stale completion: keep waiting for ours */
            if (dw0)
                *dw0 = r;
            if (status)
                *status = NVME_CQE_STATUS(dw3);
            return NVME_CQE_STATUS(dw3) ? NVME_ESTATUS : NVME_OK;
        }
        if (clock_mono_ns() > deadline)
            return (nvme_rd32(c, NVME_REG_CSTS) & NVME_CSTS_CFS) ? NVME_EFATAL : NVME_ETIMEDOUT;
        cpu_relax();
    }
}

static int identify(struct nvme_ctrl *c, uint8_t cns, uint32_t nsid)
{
    uint32_t sqe[16] = { 0 };
    sqe[NVME_SQE_CDW0] = NVME_ADM_IDENTIFY;
    sqe[NVME_SQE_NSID] = nsid;
    sqe[NVME_SQE_PRP1] = (uint32_t)c->idbuf_phys;
    sqe[NVME_SQE_PRP1 + 1] = (uint32_t)(c->idbuf_phys >> 32);
    sqe[NVME_SQE_CDW10] = cns;
    uint16_t st = 0;
    int err = nvme_admin(c, sqe, NULL, &st);
    if (err == NVME_ESTATUS) {
        char msg[100];
        klog("nvme%u: identify cns %u nsid %u: %s\n", c->index, cns, nsid,
             nvme_status_format(st, msg, sizeof msg));
    }
    return err;
}

static int set_num_queues(struct nvme_ctrl *c)
{
    uint32_t sqe[16] = { 0 }, dw0 = 0;
    sqe[NVME_SQE_CDW0] = NVME_ADM_SET_FEATURES;
    sqe[NVME_SQE_CDW10] = NVME_FEAT_NUM_QUEUES;
    sqe[NVME_SQE_CDW11] = (NVME_MAX_IOQ - 1) | (uint32_t)(NVME_MAX_IOQ - 1) << 16;
    int err = nvme_admin(c, sqe, &dw0, NULL);
    if (err)
        return err;
    c->granted_sq = (uint16_t)((dw0 & 0xffff) + 1);
    c->granted_cq = (uint16_t)((dw0 >> 16) + 1);
    return NVME_OK;
}

static void copy_ascii(char *dst, const uint8_t *src, size_t n)
{
    memcpy(dst, src, n);
    dst[n] = 0;
    while (n > 0 && (dst[n - 1] == ' ' || dst[n - 1] == 0))
        dst[--n] = 0;
}

/* Enable and create the I/O queues; used at bring-up (after allocation) and by recovery. */
static int start(struct nvme_ctrl *c)
{
    int err = ctrl_enable(c);
    if (!err)
        err = set_num_queues(c);
    for (unsigned i = 0; !err && i < c->nioq; i++)
        err = nvme_ioq_create(c, c->ioq[i]);
    return err;
}

static void identify_namespaces(struct nvme_ctrl *c)
{
    uint32_t ids[NVME_MAX_NS];
    unsigned n = 0;
    if (identify(c, NVME_CNS_ACTIVE_NS, 0) == NVME_OK) {
        unsigned more = 0;
        for (unsigned i = 0; i < NVME_IDENTIFY_SIZE / 4; i++) {
            uint32_t id = ld32(c->idbuf + 4 * i);
            if (!id)
                break;
            if (n < NVME_MAX_NS)
                ids[n++] = id;
            else
                more++;
        }
        if (more)
            klog("nvme%u: %u namespaces from nsid %u on not attached (at most %u per controller)\n",
                 c->index, more, ld32(c->idbuf + 4 * NVME_MAX_NS), NVME_MAX_NS);
    } else {
        /* Before NVMe 1.1 there is no active list: every NSID up to NN may be valid. */
        for (uint32_t id = 1; id <= c->nn && n < NVME_MAX_NS; id++)
            ids[n++] = id;
    }
    for (unsigned i = 0; i < n; i++) {
        if (identify(c, NVME_CNS_NS, ids[i]) != NVME_OK)
            continue;
        const uint8_t *d = c->idbuf;
        uint64_t nsze = ld64(d + NVME_IDN_NSZE);
        uint8_t flbas = d[NVME_IDN_FLBAS];
        unsigned fmt = NVME_FLBAS_INDEX(flbas);
        uint32_t lbaf = ld32(d + NVME_IDN_LBAF + 4 * (fmt % NVME_IDN_LBAF_MAX));
        unsigned lbads = (lbaf >> 16) & 0xff, ms = lbaf & 0xffff;
        if (nsze == 0)
            continue; /* inactive */
        /* lib/blkdev.h promises its users (the FAT core, partition probe, the shell's
         * sector buffers) 512..4096-byte sectors and no metadata. */
        if (lbads < 9 || lbads > 12 || ms != 0) {
            klog("nvme%u: namespace %u: LBA format %u (%u-byte blocks, %u bytes metadata) not "
                 "supported: blocks of 512..4096 bytes without metadata only\n",
                 c->index, ids[i], fmt, lbads < 32 ? 1u << lbads : 0, ms);
            continue;
        }
        struct nvme_ns *ns = &c->ns[c->nns];
        ns->c = c;
        ns->nsid = ids[i];
        ns->nsze = nsze;
        ns->flbas = flbas;
        ns->nlbaf = d[NVME_IDN_NLBAF];
        ns->q = c->ioq[c->nns % c->nioq];
        ns->blk.ops = &nvme_blk_ops;
        ns->blk.ctx = ns;
        ns->blk.sector_size = 1u << lbads;
        ns->blk.sectors = nsze;
        ns->max_sectors = c->max_xfer >> lbads;
        if (ns->max_sectors == 0) {
            klog("nvme%u: namespace %u: LBA size above the transfer limit\n", c->index, ids[i]);
            continue;
        }
        snprintf(ns->blk.name, sizeof ns->blk.name, "nvme%un%u", c->index, ids[i]);
        nvme_ns_attach(ns);
        c->nns++;
    }
}

/* Bring up one controller; returns it, or NULL (logged). */
static struct nvme_ctrl *probe(struct pci_dev *d, unsigned index)
{
    size_t pages = (sizeof(struct nvme_ctrl) + PAGE_SIZE - 1) / PAGE_SIZE;
    struct nvme_ctrl *c = (struct nvme_ctrl *)(uintptr_t)pmm_alloc_pages(pages);
    if (!c) {
        klog("nvme%u: out of memory\n", index);
        return NULL;
    }
    uint64_t t0 = clock_mono_ns();
    c->mem_bytes = pages * PAGE_SIZE;
    c->index = index;
    c->pci = d;
    c->io_timeout_ms = NVME_IO_TIMEOUT_MS;
    pci_enable(d, true, false, true);
    void *regs = pci_map_bar(d, NVME_BAR);
    if (!regs) {
        klog("nvme%u: cannot map BAR0\n", index);
        return NULL;
    }
    c->regs = (uintptr_t)regs;
    c->cap = rd64(c, NVME_REG_CAP);
    c->vs = nvme_rd32(c, NVME_REG_VS);
    c->stride = 4u << NVME_CAP_DSTRD(c->cap);
    c->ready_ms = (NVME_CAP_TO(c->cap) ? NVME_CAP_TO(c->cap) : 1) * NVME_TO_UNIT_MS;
    /* Our pages are 4 KiB; a controller whose smallest page is larger gets its own size
     * (list pages are allocated page-aligned at that size below). */
    c->page = 4096u << NVME_CAP_MPSMIN(c->cap);
    if (!NVME_CAP_CSS_NVM(c->cap) || c->page > PAGE_SIZE) {
        klog("nvme%u: unsupported (CAP %#llx: needs the NVM command set and 4 KiB pages)\n", index,
             (unsigned long long)c->cap);
        return NULL;
    }
    c->asq_phys = nvme_dma_alloc(c, NVME_AQ_ENTRIES * NVME_SQE_SIZE);
    c->acq_phys = nvme_dma_alloc(c, NVME_AQ_ENTRIES * NVME_CQE_SIZE);
    c->idbuf_phys = nvme_dma_alloc(c, NVME_IDENTIFY_SIZE);
    if (!c->asq_phys || !c->acq_phys || !c->idbuf_phys) {
        klog("nvme%u: out of memory\n", index);
        return NULL;
    }
    c->asq = (uint32_t *)(uintptr_t)c->asq_phys;
    c->acq = (volatile uint32_t *)(uintptr_t)c->acq_phys;
    c->idbuf = (uint8_t *)(uintptr_t)c->idbuf_phys;

    int err = ctrl_enable(c);
    if (!err)
        err = identify(c, NVME_CNS_CTRL, 0);
    if (err) {
        klog("nvme%u: bring-up failed: %s (CSTS %#x)\n", index, nvme_strerror(err),
             nvme_rd32(c, NVME_REG_CSTS));
        return NULL;
    }
    const uint8_t *id = c->idbuf;
    copy_ascii(c->sn, id + NVME_IDC_SN, NVME_IDC_SN_LEN);
    copy_ascii(c->mn, id + NVME_IDC_MN, NVME_IDC_MN_LEN);
    copy_ascii(c->fr, id + NVME_IDC_FR, NVME_IDC_FR_LEN);
    c->mdts = id[NVME_IDC_MDTS];
    c->vwc = id[NVME_IDC_VWC] & 1;
    c->nn = ld32(id + NVME_IDC_NN);
    /* MDTS is a power of two up to 255: from 32 on it is far above our cap (and would
     * overflow the shift: MDTS 52 made the limit 0 and dropped every namespace). */
    uint64_t limit = c->mdts && c->mdts < 32 ? (uint64_t)c->page << c->mdts : NVME_MAX_XFER;
    c->max_xfer = (uint32_t)(limit < NVME_MAX_XFER ? limit : NVME_MAX_XFER);

    err = set_num_queues(c);
    if (err) {
        klog("nvme%u: set features (number of queues): %s\n", index, nvme_strerror(err));
        return NULL;
    }
    c->nioq = NVME_MAX_IOQ;
    if (c->granted_sq < c->nioq)
        c->nioq = c->granted_sq;
    if (c->granted_cq < c->nioq)
        c->nioq = c->granted_cq;
    /* MSI-X entries first: the controller accepts a CQ interrupt vector other than 0
     * only while MSI-X is enabled. */
    c->msix = d->cap_msix != 0;
    for (unsigned i = 0; i < c->nioq; i++) {
        err = nvme_ioq_alloc(c, i + 1);
        if (!err && c->msix)
            nvme_ioq_setup_irq(c->ioq[i]);
        if (!err)
            err = nvme_ioq_create(c, c->ioq[i]);
        if (err) {
            klog("nvme%u: I/O queue %u: %s\n", index, i + 1, nvme_strerror(err));
            return NULL;
        }
    }
    /* Adaptive completion by default where MSI-X exists (nvme.h): a latency-bound wait
     * spins on the completion queue, the shortest path from the device's write to the
     * caller (the firmware waits that way too); a bandwidth-bound one halts and leaves
     * the machine to the transfer.  `disk bench` measures all three modes. */
    nvme_set_ctrl_mode(c, c->msix ? NVME_MODE_ADAPTIVE : NVME_MODE_POLL);
    identify_namespaces(c);
    c->init_ns = clock_mono_ns() - t0;
    return c;
}

void nvme_init_all(void)
{
    uint64_t t0 = clock_mono_ns();
    for (struct pci_dev *d = pci_find_class(PCI_CLASS_STORAGE, PCI_SUBCLASS_NVM, PCI_PROGIF_NVME, NULL);
         d; d = pci_find_class(PCI_CLASS_STORAGE, PCI_SUBCLASS_NVM, PCI_PROGIF_NVME, d)) {
        if (nvme_nctrl == NVME_MAX_CTRL) {
            klog("nvme: controller at %02x:%02x.%u not used (at most %u controllers)\n", d->bus,
                 d->dev, d->fn, NVME_MAX_CTRL);
            continue;
        }
        if (pci_claim(d, "nvme") != 0)
            continue;
        struct nvme_ctrl *c = probe(d, nvme_nctrl);
        if (!c)
            continue;
        nvme_ctrls[nvme_nctrl++] = c;
        klog("nvme%u: %s (sn %s, fw %s), NVMe %u.%u, %u namespace%s, %u I/O queue%s, %llu us\n",
             c->index, c->mn, c->sn, c->fr, c->vs >> 16, (c->vs >> 8) & 0xff, c->nns,
             c->nns == 1 ? "" : "s", c->nioq, c->nioq == 1 ? "" : "s",
             (unsigned long long)(c->init_ns / 1000));
    }
    /* The handover budget covers the first completed read, so make one. */
    struct blkdev *b = nvme_blkdev(0);
    if (b) {
        uint64_t pa = pmm_alloc_pages(1);
        if (pa && b->sector_size <= PAGE_SIZE && blk_read(b, 0, 1, (void *)(uintptr_t)pa) == BLK_OK)
            nvme_first_read_ns = clock_mono_ns() - t0;
        if (pa)
            pmm_free_pages(pa, 1);
    }
}

/* ---- recovery ---------------------------------------------------------------------------- */

void nvme_recover(struct nvme_ctrl *c, const char *why)
{
    if (c->recovering || c->dead)
        return;
    c->recovering = true;
    c->resets++;
    klog("nvme%u: %s; resetting the controller (reset %llu)\n", c->index, why,
         (unsigned long long)c->resets);
    for (unsigned i = 0; i < c->nioq; i++)
        nvme_ioq_reset(c->ioq[i]);
    int err = NVME_ETIMEDOUT;
    for (int attempt = 0; attempt < 2 && err; attempt++)
        err = start(c);
    if (err) {
        c->failed_resets++;
        c->dead = true;
        klog("nvme%u: reset failed (%s); controller disabled, its requests fail\n", c->index,
             nvme_strerror(err));
        for (unsigned i = 0; i < c->nioq; i++)
            nvme_ioq_fail_all(c->ioq[i], BLK_ENODEV);
    } else {
        for (unsigned i = 0; i < c->nioq; i++)
            nvme_ioq_resubmit(c->ioq[i], true);
        klog("nvme%u: controller back; outstanding commands resubmitted\n", c->index);
    }
    c->recovering = false;
}

/* ---- registry ------------------------------------------------------------------------------ */

unsigned nvme_blkdev_count(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < nvme_nctrl; i++)
        n += nvme_ctrls[i]->nns;
    return n;
}

struct blkdev *nvme_blkdev(unsigned index)
{
    for (unsigned i = 0; i < nvme_nctrl; i++) {
        if (index < nvme_ctrls[i]->nns)
            return &nvme_ctrls[i]->ns[index].blk;
        index -= nvme_ctrls[i]->nns;
    }
    return NULL;
}

struct blkdev *nvme_blkdev_find(const char *name)
{
    for (unsigned i = 0; i < nvme_blkdev_count(); i++)
        if (strcmp(nvme_blkdev(i)->name, name) == 0)
            return nvme_blkdev(i);
    return NULL;
}

const char *nvme_last_error(struct blkdev *dev)
{
    return ((struct nvme_ns *)dev->ctx)->last_error;
}
