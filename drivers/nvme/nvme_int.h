/* drivers/nvme/nvme_int.h: the NVMe driver's private state, shared by its files:
 *   nvme.c        controller bring-up, admin commands, reset and recovery
 *   nvme_io.c     I/O queues, the block-device provider, completion (poll or MSI-X)
 *   nvme_shell.c  the `nvme` and `disk` commands
 *
 * Invariants: one struct nvme_ctrl per controller, allocated from pmm pages and never freed;
 * every DMA structure of a controller is allocated once at bring-up (c->mem_bytes counts
 * them) and reused across resets, so the I/O path never allocates.  A slot's list pages
 * belong to it alone.  Queue state is changed only with interrupts off (the MSI-X handler
 * reaps the same queues). */
#ifndef DRIVERS_NVME_NVME_INT_H
#define DRIVERS_NVME_NVME_INT_H
#include <stdbool.h>
#include <stdint.h>
#include "drivers/nvme/nvme.h"
#include "drivers/nvme/nvme_spec.h"
#include "lib/blkdev.h"

struct pci_dev;

/* Fixed limits, all in one place. */
enum {
    NVME_MAX_CTRL = 8,
    NVME_MAX_NS = 8,              /* namespaces per controller we attach */
    NVME_MAX_IOQ = 2,             /* I/O queue pairs we ask for (fewer if granted fewer) */
    NVME_IOQ_ENTRIES = 64,        /* per I/O queue (capped by CAP.MQES) */
    NVME_AQ_ENTRIES = 16,         /* admin queue: one command at a time */
    NVME_MAX_XFER = 3u << 20,     /* our per-command cap when MDTS allows more (or is 0):
                                     QEMU maps at most 1024 PRP entries (IOV_MAX) a command */
    NVME_MAX_LISTS = 4,           /* PRP list pages a slot can need at NVME_MAX_XFER */
    NVME_MAX_RETRIES = 3,         /* resubmissions of a timed-out command before failing it,
                                     and of one that failed with DNR=0 */
    NVME_IO_TIMEOUT_MS = 3000,    /* default; `nvme timeout MS` changes it */
    NVME_ADMIN_TIMEOUT_MS = 3000,
    NVME_CHECK_INTERVAL_MS = 5,   /* how often poll() looks for expired commands and CFS */
    NVME_ADAPTIVE_POLL_BYTES = 1u << 20, /* adaptive mode polls up to this much data in flight */
};

struct nvme_ctrl;
struct nvme_ns;

struct nvme_slot {
    struct blk_req *req;    /* NULL when free */
    struct nvme_ns *ns;
    uint64_t deadline;      /* clock_mono_ns */
    uint64_t lba;           /* for error messages */
    uint32_t count;
    uint8_t tries;          /* resubmissions after timeouts */
    uint8_t st_tries;       /* resubmissions after a retryable (DNR=0) error status */
    bool reset_write;       /* a write that was in flight across a controller reset */
    bool covers;            /* a flush pushed when no such write was outstanding */
    bool parked;            /* a flush waiting for those writes before it is re-issued */
    uint32_t sqe[16];       /* kept for resubmission after a reset */
    uint64_t *list_virt[NVME_MAX_LISTS];
    uint64_t list_phys[NVME_MAX_LISTS];
};

struct nvme_queue {
    struct nvme_ctrl *c;
    uint16_t qid, entries, nslots;
    uint32_t *sq;                 /* entries x 64 bytes */
    volatile uint32_t *cq;        /* entries x 16 bytes */
    uint64_t sq_phys, cq_phys;
    uint16_t sq_tail, cq_head;
    uint8_t phase;                /* phase tag of the next valid entry */
    uint16_t unsignalled;         /* SQ entries written but not yet rung */
    uint16_t cq_unrung;           /* CQ entries consumed but not yet announced by doorbell */
    uint16_t inflight;
    uint64_t inflight_bytes;      /* data moved by the commands in flight */
    uint16_t free_hint;
    unsigned vector;              /* CPU vector of its MSI-X entry, 0 if none */
    bool irq_on;                  /* that entry unmasked: the ISR reaps, waits may halt */
    uint64_t check_at;            /* next timeout/CFS check */
    uint64_t cmds, sq_doorbells, cq_doorbells, interrupts, reaped;
    struct nvme_slot slot[NVME_IOQ_ENTRIES - 1];
};

struct nvme_ns {
    struct blkdev blk;
    struct nvme_ctrl *c;
    struct nvme_queue *q;
    uint32_t nsid;
    uint32_t max_sectors;         /* per command */
    uint8_t flbas, nlbaf;
    uint64_t nsze;
    struct blk_req *pend_head, *pend_tail;   /* accepted, not all pieces issued yet */
    /* Durability across resets: a write issued since the last flush was issued
     * (unflushed) may be lost or reordered by a reset, so the next flush may report
     * success only if it was pushed after every write resubmitted by the reset had
     * completed (reflush; reset_writes counts those still outstanding). */
    bool unflushed, reflush;
    uint16_t reset_writes;
    char last_error[112];
};

struct nvme_ctrl {
    unsigned index;
    struct pci_dev *pci;
    uintptr_t regs;
    uint64_t cap;
    uint32_t vs;
    uint32_t page;                /* CC.MPS page size in bytes */
    uint32_t stride;              /* doorbell stride in bytes */
    uint32_t ready_ms;            /* CAP.TO */
    uint32_t max_xfer;            /* bytes per command */
    uint32_t io_timeout_ms;
    char sn[NVME_IDC_SN_LEN + 1], mn[NVME_IDC_MN_LEN + 1], fr[NVME_IDC_FR_LEN + 1];
    uint8_t mdts, vwc;
    uint32_t nn;
    uint16_t granted_sq, granted_cq;  /* from Set Features / Number of Queues */
    /* Admin queue (polled). */
    uint32_t *asq;
    volatile uint32_t *acq;
    uint64_t asq_phys, acq_phys;
    uint16_t asq_tail, acq_head, admin_cid;
    uint8_t aphase;
    uint8_t *idbuf;               /* one page for Identify data */
    uint64_t idbuf_phys;
    unsigned nioq;
    struct nvme_queue *ioq[NVME_MAX_IOQ];
    unsigned nns;
    struct nvme_ns ns[NVME_MAX_NS];
    uint64_t mem_bytes;
    uint8_t mode;                 /* enum nvme_mode */
    bool dead, recovering, msix;
    uint64_t resets, timeouts, io_errors, failed_resets;
    uint64_t init_ns;             /* takeover to ready with I/O queues */
};

enum nvme_err {
    NVME_OK = 0,
    NVME_ETIMEDOUT,   /* the controller did not answer within its time budget */
    NVME_EFATAL,      /* CSTS.CFS: controller fatal status */
    NVME_ESTATUS,     /* the command completed with an error status */
    NVME_ENOMEM,
    NVME_EUNSUPP,     /* the controller lacks something we need (NVM command set, 4 KiB pages) */
};
const char *nvme_strerror(int err);

extern struct nvme_ctrl *nvme_ctrls[NVME_MAX_CTRL];
extern unsigned nvme_nctrl;
extern uint64_t nvme_first_read_ns;   /* takeover start to the first completed read */
extern uint64_t nvme_halted_tsc;      /* TSC cycles nvme_wait spent halted (CPU cost) */

/* nvme.c */
uint32_t nvme_rd32(struct nvme_ctrl *c, uint32_t reg);
void nvme_wr32(struct nvme_ctrl *c, uint32_t reg, uint32_t v);
void nvme_doorbell(struct nvme_ctrl *c, unsigned qid, int cq, uint32_t value);
/* Run one admin command synchronously; *dw0 gets its result, *status its status field. */
int nvme_admin(struct nvme_ctrl *c, uint32_t sqe[16], uint32_t *dw0, uint16_t *status);
/* Reset the controller and rebuild its queues, then resubmit what was outstanding. */
void nvme_recover(struct nvme_ctrl *c, const char *why);
uint64_t nvme_dma_alloc(struct nvme_ctrl *c, uint64_t bytes);

/* nvme_io.c */
int nvme_ioq_alloc(struct nvme_ctrl *c, unsigned qid);
int nvme_ioq_create(struct nvme_ctrl *c, struct nvme_queue *q);  /* admin commands */
void nvme_ioq_reset(struct nvme_queue *q);                       /* empty it (after a reset) */
void nvme_ioq_resubmit(struct nvme_queue *q, bool timed_out_only_bumps);
void nvme_ioq_fail_all(struct nvme_queue *q, int status);
void nvme_ioq_setup_irq(struct nvme_queue *q);
void nvme_set_ctrl_mode(struct nvme_ctrl *c, enum nvme_mode mode);
void nvme_ns_attach(struct nvme_ns *ns);
extern const struct blkdev_ops nvme_blk_ops;

#endif
