/* drivers/nvme/nvme_io.c: I/O queue pairs and the block-device provider for namespaces.
 *
 * A client request (struct blk_req) becomes one command per piece of at most
 * ns->max_sectors (MDTS), each in a slot of the namespace's queue; the command id is the
 * slot index.  Pieces are issued while slots are free; a request that does not fit waits on
 * its namespace's pending list and is fed as slots free up.  req->priv[0] holds the sectors
 * issued so far (low half) and the pieces in flight (high half); req->priv[1] links the
 * pending list.  The request is done when every piece has completed; its status is the
 * first error.
 *
 * Batching: submit() writes entries but rings the SQ tail doorbell only when a quarter of
 * the queue is waiting; poll() and nvme_wait_any() ring what is left before reaping, and
 * nvme_wait_any() returns at once, touching no register, when a request is already done,
 * so a caller that resubmits as requests finish rings once per wait, not once per request.
 * Reaping consumes every completion whose phase tag matches; the CQ head doorbell is
 * written lazily, once a quarter of the queue has been consumed or when the controller
 * could otherwise run out of CQ entries: consumed-but-unannounced entries plus commands in
 * flight never exceed entries - 1, the most a CQ can hold, so the controller always has
 * room to post (ring_cq_for() before each new command).  At queue depth 1 that saves one
 * of the two MMIO writes per command; under emulation each one is a trip into the
 * device model.  (QEMU's controller does not let Set Features change Interrupt
 * Coalescing, so batching interrupts is left to the device.)
 *
 * Completion (modes: see nvme.h): while a queue's MSI-X vector is masked, waits reap by
 * polling; while it is unmasked the handler reaps, and waits halt in between and only
 * ring doorbells and check deadlines.  want_irq() decides per wait and touches the mask
 * only when the decision changes.  Every path runs with interrupts off.
 * nvme_halted_tsc counts the time waits spent halted, for `disk bench`'s CPU cost.
 *
 * Errors: a completion with DNR=0 is resubmitted up to NVME_MAX_RETRIES times (logged);
 * DNR=1 fails at once.  Durability across resets: see struct nvme_ns (reflush); a flush
 * that may not cover writes a reset resubmitted is held (parked) and issued again. */
#include <string.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trap.h"
#include "drivers/nvme/nvme_int.h"
#include "drivers/nvme/nvme_prp.h"
#include "drivers/nvme/nvme_status.h"
#include "drivers/pci/pci.h"
#include "kernel/clock.h"
#include "kernel/console.h"
#include "kernel/pmm.h"

/* This file is built with -O2 for the I/O path; set-up and recovery are built for size. */
#define COLD __attribute__((cold))

#define PIECES_SHIFT 32
#define ISSUED(r) ((uint32_t)(r)->priv[0])
#define PIECES(r) ((uint32_t)((r)->priv[0] >> PIECES_SHIFT))
#define NEXT(r) (*(struct blk_req **)&(r)->priv[1])

/* Sectors a request moves; a flush counts as one unit so "all issued" means the same. */
static uint32_t total(const struct blk_req *r) { return r->op == BLK_FLUSH ? 1 : r->count; }

/* ---- allocation and creation ------------------------------------------------------------ */

COLD int nvme_ioq_alloc(struct nvme_ctrl *c, unsigned qid)
{
    uint32_t mqes = NVME_CAP_MQES(c->cap) + 1u;
    uint16_t entries = (uint16_t)(mqes < NVME_IOQ_ENTRIES ? mqes : NVME_IOQ_ENTRIES);
    size_t qpages = (sizeof(struct nvme_queue) + PAGE_SIZE - 1) / PAGE_SIZE;
    uint64_t qpa = nvme_dma_alloc(c, (uint64_t)qpages * PAGE_SIZE);
    if (!qpa)
        return NVME_ENOMEM;
    struct nvme_queue *q = (struct nvme_queue *)(uintptr_t)qpa;
    q->c = c;
    q->qid = (uint16_t)qid;
    q->entries = entries;
    q->nslots = (uint16_t)(entries - 1); /* a full SQ holds entries - 1 commands */
    q->sq_phys = nvme_dma_alloc(c, (uint64_t)entries * NVME_SQE_SIZE);
    q->cq_phys = nvme_dma_alloc(c, (uint64_t)entries * NVME_CQE_SIZE);
    unsigned lists = nvme_prp_list_pages(c->max_xfer, c->page);
    uint64_t lpa = lists ? nvme_dma_alloc(c, (uint64_t)lists * q->nslots * PAGE_SIZE) : 1;
    if (!q->sq_phys || !q->cq_phys || !lpa || lists > NVME_MAX_LISTS)
        return NVME_ENOMEM;
    q->sq = (uint32_t *)(uintptr_t)q->sq_phys;
    q->cq = (volatile uint32_t *)(uintptr_t)q->cq_phys;
    for (unsigned s = 0; s < q->nslots; s++)
        for (unsigned l = 0; l < lists; l++) {
            uint64_t pa = lpa + ((uint64_t)s * lists + l) * PAGE_SIZE;
            q->slot[s].list_phys[l] = pa;
            q->slot[s].list_virt[l] = (uint64_t *)(uintptr_t)pa;
        }
    c->ioq[qid - 1] = q;
    return NVME_OK;
}

static void put_addr(uint32_t *sqe, int dw, uint64_t v)
{
    sqe[dw] = (uint32_t)v;
    sqe[dw + 1] = (uint32_t)(v >> 32);
}

COLD int nvme_ioq_create(struct nvme_ctrl *c, struct nvme_queue *q)
{
    memset((void *)q->cq, 0, (size_t)q->entries * NVME_CQE_SIZE);
    q->sq_tail = q->cq_head = 0;
    q->phase = 1;
    q->unsignalled = q->cq_unrung = 0;
    uint32_t sqe[16] = { 0 };
    uint16_t st = 0;
    sqe[NVME_SQE_CDW0] = NVME_ADM_CREATE_CQ;
    put_addr(sqe, NVME_SQE_PRP1, q->cq_phys);
    sqe[NVME_SQE_CDW10] = q->qid | (uint32_t)(q->entries - 1) << 16;
    /* With MSI-X, interrupts always on (MSI-X entry = qid); poll mode masks the entry. */
    sqe[NVME_SQE_CDW11] = NVME_Q_PC | (q->vector ? NVME_CQ_IEN | (uint32_t)q->qid << 16 : 0);
    int err = nvme_admin(c, sqe, NULL, &st);
    if (!err) {
        memset(sqe, 0, sizeof sqe);
        sqe[NVME_SQE_CDW0] = NVME_ADM_CREATE_SQ;
        put_addr(sqe, NVME_SQE_PRP1, q->sq_phys);
        sqe[NVME_SQE_CDW10] = q->qid | (uint32_t)(q->entries - 1) << 16;
        sqe[NVME_SQE_CDW11] = NVME_Q_PC | (uint32_t)q->qid << 16;
        err = nvme_admin(c, sqe, NULL, &st);
    }
    if (err == NVME_ESTATUS) {
        char msg[100];
        klog("nvme%u: create queue %u: %s\n", c->index, q->qid, nvme_status_format(st, msg, sizeof msg));
    }
    return err;
}

/* ---- submission ------------------------------------------------------------------------- */

static void ring_sq(struct nvme_queue *q)
{
    if (!q->unsignalled)
        return;
    nvme_doorbell(q->c, q->qid, 0, q->sq_tail);
    q->sq_doorbells++;
    q->unsignalled = 0;
}

static void ring_cq(struct nvme_queue *q)
{
    if (!q->cq_unrung)
        return;
    nvme_doorbell(q->c, q->qid, 1, q->cq_head);
    q->cq_doorbells++;
    q->cq_unrung = 0;
}

/* Before one more command goes in flight: make sure the controller will have a CQ entry
 * to post its completion in (see the header comment). */
static void ring_cq_for(struct nvme_queue *q)
{
    if (q->cq_unrung && q->inflight + 1u + q->cq_unrung > q->entries - 1u)
        ring_cq(q);
}

static void push_sqe(struct nvme_queue *q, const uint32_t *sqe)
{
    memcpy(q->sq + (size_t)q->sq_tail * 16, sqe, NVME_SQE_SIZE);
    if (++q->sq_tail == q->entries)
        q->sq_tail = 0;
    q->unsignalled++;
}

static struct nvme_slot *alloc_slot(struct nvme_queue *q, uint16_t *cid)
{
    if (q->inflight >= q->nslots)
        return NULL;
    for (unsigned n = 0; n < q->nslots; n++) {
        unsigned i = (q->free_hint + n) % q->nslots;
        if (!q->slot[i].req) {
            q->free_hint = (uint16_t)((i + 1) % q->nslots);
            *cid = (uint16_t)i;
            return &q->slot[i];
        }
    }
    return NULL;
}

static void set_error(struct nvme_ns *ns, struct blk_req *req, int status, const char *msg)
{
    if (req->status == BLK_OK)
        req->status = status;
    snprintf(ns->last_error, sizeof ns->last_error, "%s", msg);
}

/* Issue the next piece of REQ; false when no slot is free. */
static bool issue_piece(struct nvme_queue *q, struct nvme_ns *ns, struct blk_req *req)
{
    uint16_t cid;
    struct nvme_slot *s = alloc_slot(q, &cid);
    if (!s)
        return false;
    uint32_t *sqe = s->sqe;
    memset(sqe, 0, NVME_SQE_SIZE);
    uint32_t done = ISSUED(req), count = 0;
    if (req->op == BLK_FLUSH) {
        sqe[NVME_SQE_CDW0] = NVME_CMD_FLUSH;
    } else {
        count = req->count - done;
        if (count > ns->max_sectors)
            count = ns->max_sectors;
        uint64_t lba = req->lba + done;
        uint64_t addr = (uint64_t)(uintptr_t)req->buf + (uint64_t)done * ns->blk.sector_size;
        uint64_t prp1, prp2;
        struct nvme_prp_lists lists = { s->list_virt, s->list_phys, NVME_MAX_LISTS };
        int err = nvme_prp_build(addr, (uint64_t)count * ns->blk.sector_size, q->c->page, &lists,
                                 &prp1, &prp2);
        if (err) {
            /* Checked in submit(); reaching here is a broken invariant of ours, reported
             * as an error on the request rather than sent to the device. */
            set_error(ns, req, BLK_EINVAL, nvme_prp_strerror(err));
            req->priv[0] = (uint64_t)total(req) | (uint64_t)PIECES(req) << PIECES_SHIFT;
            return true;
        }
        sqe[NVME_SQE_CDW0] = req->op == BLK_READ ? NVME_CMD_READ : NVME_CMD_WRITE;
        put_addr(sqe, NVME_SQE_PRP1, prp1);
        put_addr(sqe, NVME_SQE_PRP2, prp2);
        put_addr(sqe, NVME_SQE_CDW10, lba);
        sqe[NVME_SQE_CDW12] = count - 1;
        s->lba = lba;
    }
    sqe[NVME_SQE_CDW0] |= (uint32_t)cid << 16;
    sqe[NVME_SQE_NSID] = ns->nsid;
    s->req = req;
    s->ns = ns;
    s->count = count;
    s->tries = s->st_tries = 0;
    s->reset_write = s->parked = false;
    s->covers = ns->reset_writes == 0;
    if (req->op != BLK_READ)
        ns->unflushed = req->op == BLK_WRITE;
    s->deadline = clock_mono_ns() + (uint64_t)q->c->io_timeout_ms * 1000000u;
    ring_cq_for(q);
    q->inflight++;
    q->inflight_bytes += (uint64_t)count * ns->blk.sector_size;
    q->cmds++;
    uint32_t issued = req->op == BLK_FLUSH ? 1 : done + count;
    req->priv[0] = issued | (uint64_t)(PIECES(req) + 1) << PIECES_SHIFT;
    push_sqe(q, sqe);
    return true;
}

static bool fully_issued(struct blk_req *req)
{
    return ISSUED(req) >= total(req);
}

/* Issue pieces of ns's pending requests while slots last. */
static void feed_ns(struct nvme_queue *q, struct nvme_ns *ns)
{
    while (ns->pend_head) {
        struct blk_req *r = ns->pend_head;
        if (r->status != BLK_OK) {
            /* A piece failed: issue no more of it. */
            r->priv[0] = (uint64_t)total(r) | (uint64_t)PIECES(r) << PIECES_SHIFT;
        }
        while (!fully_issued(r))
            if (!issue_piece(q, ns, r))
                return;
        ns->pend_head = NEXT(r);
        if (!ns->pend_head)
            ns->pend_tail = NULL;
        if (PIECES(r) == 0)
            r->done = true;
    }
}

static void feed(struct nvme_queue *q)
{
    struct nvme_ctrl *c = q->c;
    for (unsigned i = 0; i < c->nns; i++)
        if (c->ns[i].q == q && c->ns[i].pend_head)
            feed_ns(q, &c->ns[i]);
}

static int nvme_submit(struct blkdev *dev, struct blk_req *req)
{
    struct nvme_ns *ns = dev->ctx;
    struct nvme_queue *q = ns->q;
    if (ns->c->dead)
        return BLK_ENODEV;
    if (req->op != BLK_FLUSH && ((uintptr_t)req->buf & 3))
        return BLK_EINVAL; /* PRP1 must be dword-aligned */
    uint64_t flags = irq_save();
    if (q->inflight >= q->nslots || ns->pend_head) {
        irq_restore(flags);
        return BLK_EAGAIN;
    }
    req->priv[0] = 0;
    NEXT(req) = NULL;
    req->status = BLK_OK;
    req->done = false;
    ns->pend_head = ns->pend_tail = req;
    feed_ns(q, ns);
    if (q->unsignalled >= q->entries / 4)
        ring_sq(q);
    irq_restore(flags);
    return BLK_OK;
}

/* ---- completion ---------------------------------------------------------------------------- */

static const char *op_name(uint32_t opc)
{
    return opc == NVME_CMD_READ ? "read" : opc == NVME_CMD_WRITE ? "write" : "flush";
}

/* Put slot S's command on the queue again, with a fresh deadline. */
static void repush(struct nvme_queue *q, struct nvme_slot *s)
{
    s->deadline = clock_mono_ns() + ((uint64_t)q->c->io_timeout_ms << s->tries) * 1000000u;
    s->parked = false;
    ring_cq(q); /* its earlier completion is among the unannounced ones (cold path) */
    push_sqe(q, s->sqe);
}

/* The writes a reset resubmitted on NS have all completed: flushes waiting for them go. */
COLD static void unpark(struct nvme_queue *q, struct nvme_ns *ns)
{
    for (unsigned i = 0; i < q->nslots; i++)
        if (q->slot[i].req && q->slot[i].ns == ns && q->slot[i].parked) {
            q->slot[i].covers = true;
            repush(q, &q->slot[i]);
        }
}

static void finish_slot(struct nvme_queue *q, struct nvme_slot *s, int blk_status, const char *msg)
{
    struct blk_req *req = s->req;
    struct nvme_ns *ns = s->ns;
    if (blk_status != BLK_OK) {
        char line[112];
        uint32_t opc = s->sqe[NVME_SQE_CDW0] & 0xff;
        if (opc == NVME_CMD_FLUSH)
            snprintf(line, sizeof line, "flush: %s", msg);
        else
            snprintf(line, sizeof line, "%s of %u blocks at LBA %llu: %s", op_name(opc), s->count,
                     (unsigned long long)s->lba, msg);
        klog("%s: %s\n", ns->blk.name, line);
        set_error(ns, req, blk_status, line);
        q->c->io_errors++;
    }
    if (s->reset_write && --ns->reset_writes == 0)
        unpark(q, ns);
    s->req = NULL;
    q->inflight--;
    q->inflight_bytes -= (uint64_t)s->count * ns->blk.sector_size;
    uint32_t pieces = PIECES(req) - 1;
    req->priv[0] = ISSUED(req) | (uint64_t)pieces << PIECES_SHIFT;
    /* A request still on the pending list is finished by feed_ns. */
    if (pieces == 0 && fully_issued(req) && ns->pend_head != req)
        req->done = true;
}

/* A completion that does not finish its request yet: an error the device says may pass on
 * a retry (DNR=0), bounded; or a flush that must wait for writes a reset resubmitted.
 * Returns true if it resubmitted or parked the command. */
static COLD bool held(struct nvme_queue *q, struct nvme_slot *s, uint16_t st)
{
    struct nvme_ns *ns = s->ns;
    char msg[100];
    uint32_t opc = s->sqe[NVME_SQE_CDW0] & 0xff;
    if (st && !nvme_status_decode(st).dnr && s->st_tries < NVME_MAX_RETRIES) {
        s->st_tries++;
        klog("%s: %s at LBA %llu: %s; retry %u of %u\n", ns->blk.name, op_name(opc),
             (unsigned long long)s->lba, nvme_status_format(st, msg, sizeof msg), s->st_tries,
             NVME_MAX_RETRIES);
        repush(q, s);
        return true;
    }
    if (st || opc != NVME_CMD_FLUSH)
        return false;
    if (s->covers) {
        ns->reflush = false;
        klog("%s: flush after the controller reset covers every resubmitted write\n", ns->blk.name);
        return false;
    }
    /* Pushed while writes resubmitted by a reset were outstanding: it may not cover them,
     * so it is issued again once they have all completed. */
    klog("%s: flush raced writes resubmitted by a reset; flushing again after them\n", ns->blk.name);
    s->parked = true;
    s->deadline = clock_mono_ns() + (uint64_t)q->c->io_timeout_ms * 1000000u;
    if (!ns->reset_writes)
        unpark(q, ns);
    return true;
}

static void complete(struct nvme_queue *q, uint32_t dw3)
{
    uint16_t cid = NVME_CQE_CID(dw3);
    if (cid >= q->nslots || !q->slot[cid].req) {
        klog("nvme%u: queue %u: completion for idle command id %u ignored\n", q->c->index, q->qid, cid);
        return;
    }
    struct nvme_slot *s = &q->slot[cid];
    uint16_t st = NVME_CQE_STATUS(dw3);
    char msg[100];
    if ((st || s->ns->reflush) && held(q, s, st))
        return;
    finish_slot(q, s, nvme_status_blk(st), st ? nvme_status_format(st, msg, sizeof msg) : "");
}

/* Consume every posted completion; one head doorbell for the batch. */
static unsigned reap(struct nvme_queue *q)
{
    unsigned n = 0;
    for (;;) {
        volatile uint32_t *e = q->cq + (size_t)q->cq_head * 4;
        uint32_t dw3 = e[3];
        if (NVME_CQE_PHASE(dw3) != q->phase)
            break;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        complete(q, dw3);
        if (++q->cq_head == q->entries) {
            q->cq_head = 0;
            q->phase ^= 1;
        }
        n++;
    }
    if (n) {
        q->reaped += n;
        q->cq_unrung = (uint16_t)(q->cq_unrung + n);
        if (q->cq_unrung >= q->entries / 4)
            ring_cq(q);
    }
    return n;
}

/* Deadlines and controller fatal status, at most every NVME_CHECK_INTERVAL_MS. */
static void check_health(struct nvme_queue *q)
{
    struct nvme_ctrl *c = q->c;
    uint64_t now = clock_mono_ns();
    if (!q->inflight || now < q->check_at || c->recovering)
        return;
    q->check_at = now + NVME_CHECK_INTERVAL_MS * 1000000ull;
    if (nvme_rd32(c, NVME_REG_CSTS) & NVME_CSTS_CFS) {
        nvme_recover(c, "controller fatal status (CSTS.CFS)");
        return;
    }
    for (unsigned i = 0; i < q->nslots; i++) {
        struct nvme_slot *s = &q->slot[i];
        if (s->req && now > s->deadline) {
            char why[96];
            c->timeouts++;
            snprintf(why, sizeof why, "queue %u command %u (%s LBA %llu) timed out after %u ms",
                     q->qid, i, op_name(s->sqe[NVME_SQE_CDW0] & 0xff), (unsigned long long)s->lba,
                     c->io_timeout_ms << s->tries);
            nvme_recover(c, why);
            return;
        }
    }
}

/* Should a wait on Q now sleep on the interrupt (true) or poll?  Sets the vector's mask
 * to match, writing it only when that changes.  (A message the device sends while its
 * vector is masked is held pending and delivered on unmask; the handler then finds
 * nothing or a little to reap, which is harmless.) */
static bool want_irq(struct nvme_queue *q)
{
    uint8_t mode = q->c->mode;
    bool on = q->vector && (mode == NVME_MODE_IRQ ||
                            (mode == NVME_MODE_ADAPTIVE && q->inflight_bytes > NVME_ADAPTIVE_POLL_BYTES));
    if (on != q->irq_on) {
        pci_msix_mask(q->c->pci, q->qid, !on);
        q->irq_on = on;
    }
    return on;
}

static void service(struct nvme_queue *q)
{
    ring_sq(q);
    if (!want_irq(q))
        reap(q);
    feed(q);
    ring_sq(q);
    check_health(q);
}

static int nvme_poll(struct blkdev *dev)
{
    struct nvme_ns *ns = dev->ctx;
    struct nvme_queue *q = ns->q;
    uint64_t flags = irq_save();
    uint64_t before = q->reaped;
    service(q);
    int n = (int)(q->reaped - before);
    irq_restore(flags);
    return n;
}

const struct blkdev_ops nvme_blk_ops = { nvme_submit, nvme_poll, nvme_wait };

void nvme_ns_attach(struct nvme_ns *ns) { ns->pend_head = ns->pend_tail = NULL; }

uint64_t nvme_halted_tsc;
static uint64_t halt_since;   /* TSC when nvme_wait halted, 0 when running */

/* The CPU is running again: charge the halt to nvme_halted_tsc. */
static void halt_end(void)
{
    if (halt_since) {
        nvme_halted_tsc += rdtsc() - halt_since;
        halt_since = 0;
    }
}

static int first_done(const struct blk_req *reqs, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (reqs[i].done)
            return (int)i;
    return -1;
}

unsigned nvme_wait_any(struct blkdev *dev, struct blk_req *reqs, unsigned n)
{
    struct nvme_ns *ns = dev->ctx;
    int i;
    /* One done already (reaped with an earlier batch): return without touching the
     * device, so the caller's next submissions pile up for one doorbell. */
    while ((i = first_done(reqs, n)) < 0) {
        uint64_t flags = irq_save();
        service(ns->q);
        if (ns->q->irq_on && first_done(reqs, n) < 0) {
            /* Sleeping on the interrupt: halt until the next one (the MSI-X one, or the
             * timer tick that lets service() check deadlines).  sti;hlt is atomic, so a
             * completion cannot slip in between. */
            halt_since = rdtsc();
            irq_enable_and_halt();
            irq_disable();
            halt_end();
        }
        irq_restore(flags);
    }
    return (unsigned)i;
}

int nvme_wait(struct blkdev *dev, struct blk_req *req)
{
    nvme_wait_any(dev, req, 1);
    return req->status;
}

/* ---- interrupts ----------------------------------------------------------------------------- */

static void nvme_isr(struct trap_frame *tf, void *ctx)
{
    (void)tf;
    struct nvme_queue *q = ctx;
    halt_end(); /* the handler's work is CPU cost, not idle time */
    q->interrupts++;
    reap(q);
    feed(q);
    ring_sq(q);
}

COLD void nvme_ioq_setup_irq(struct nvme_queue *q)
{
    struct nvme_ctrl *c = q->c;
    unsigned v = irq_alloc_vector();
    if (!v) {
        c->msix = false;
        return;
    }
    irq_register(v, nvme_isr, q);
    if (pci_msix_enable(c->pci, q->qid, v) != 0) {
        c->msix = false;
        return;
    }
    q->vector = v;
    pci_msix_mask(c->pci, q->qid, true);   /* want_irq() unmasks it when a wait needs it */
    q->irq_on = false;
}

/* ---- recovery helpers -------------------------------------------------------------------- */

void nvme_ioq_reset(struct nvme_queue *q)
{
    q->unsignalled = 0;
    q->cq_unrung = 0;
}

COLD void nvme_ioq_resubmit(struct nvme_queue *q, bool bump)
{
    struct nvme_ctrl *c = q->c;
    uint64_t now = clock_mono_ns();
    /* Writes cached or in flight across the reset make the next flush suspect. */
    for (unsigned i = 0; i < c->nns; i++)
        if (c->ns[i].q == q) {
            c->ns[i].reflush |= c->ns[i].unflushed;
            c->ns[i].reset_writes = 0;
        }
    for (unsigned i = 0; i < q->nslots; i++) {
        struct nvme_slot *s = &q->slot[i];
        if (!s->req)
            continue;
        if (bump && now > s->deadline) {
            if (++s->tries > NVME_MAX_RETRIES) {
                char msg[64];
                snprintf(msg, sizeof msg, "no completion after %u attempts", s->tries);
                s->reset_write = false;
                finish_slot(q, s, BLK_ETIMEDOUT, msg);
                continue;
            }
        }
        s->reset_write = (s->sqe[NVME_SQE_CDW0] & 0xff) == NVME_CMD_WRITE;
        s->ns->reset_writes += s->reset_write;
        s->ns->reflush |= s->reset_write;
    }
    for (unsigned i = 0; i < q->nslots; i++) {
        struct nvme_slot *s = &q->slot[i];
        if (!s->req)
            continue;
        s->covers = s->ns->reset_writes == 0;
        /* Each retry gets twice the time of the one before (repush). */
        repush(q, s);
    }
    q->check_at = 0;
    feed(q);
    ring_sq(q);
}

COLD void nvme_ioq_fail_all(struct nvme_queue *q, int status)
{
    for (unsigned i = 0; i < q->nslots; i++)
        if (q->slot[i].req) {
            q->slot[i].reset_write = false;
            finish_slot(q, &q->slot[i], status, "controller failed");
        }
    struct nvme_ctrl *c = q->c;
    for (unsigned i = 0; i < c->nns; i++) {
        struct nvme_ns *ns = &c->ns[i];
        if (ns->q != q)
            continue;
        while (ns->pend_head) {
            struct blk_req *r = ns->pend_head;
            ns->pend_head = NEXT(r);
            set_error(ns, r, status, "controller failed");
            r->priv[0] = (uint64_t)total(r) | (uint64_t)PIECES(r) << PIECES_SHIFT;
            if (PIECES(r) == 0)
                r->done = true;
        }
        ns->pend_tail = NULL;
    }
}

/* ---- mode -------------------------------------------------------------------------------- */

COLD void nvme_set_ctrl_mode(struct nvme_ctrl *c, enum nvme_mode mode)
{
    uint64_t flags = irq_save();
    c->mode = (uint8_t)mode;
    for (unsigned k = 0; k < c->nioq; k++) {
        reap(c->ioq[k]);     /* anything that completed while switching */
        want_irq(c->ioq[k]); /* the vector's mask as the new mode wants it now */
    }
    irq_restore(flags);
}

COLD int nvme_set_mode(enum nvme_mode mode)
{
    for (unsigned i = 0; i < nvme_nctrl; i++)
        if (mode != NVME_MODE_POLL && !nvme_ctrls[i]->msix)
            return -1;
    for (unsigned i = 0; i < nvme_nctrl; i++)
        nvme_set_ctrl_mode(nvme_ctrls[i], mode);
    return 0;
}

enum nvme_mode nvme_mode(void)
{
    return nvme_nctrl > 0 ? (enum nvme_mode)nvme_ctrls[0]->mode : NVME_MODE_POLL;
}

const char *nvme_mode_name(enum nvme_mode mode)
{
    switch (mode) {
    case NVME_MODE_POLL: return "poll";
    case NVME_MODE_IRQ: return "irq (MSI-X)";
    case NVME_MODE_ADAPTIVE: return "adaptive";
    }
    return "?";
}
