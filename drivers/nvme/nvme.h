/* drivers/nvme/nvme.h: the NVMe driver as the rest of the kernel sees it.
 *
 * nvme_init_all() (once, from devices_init after pci_init) takes over every NVMe controller
 * the PCI layer found (class 01/08/02) from whatever state the firmware left it in, and
 * registers one block device per active namespace, named nvme<C>n<NSID> ("nvme0n1").
 * Clients use them only through lib/blkdev.h: nvme_blkdev_count()/nvme_blkdev(i) list them,
 * nvme_blkdev_find(name) looks one up.
 *
 * Completion (nvme_set_mode): polled (spin on the completion queue), interrupt (halt
 * until the queue's MSI-X interrupt), or adaptive (the default with MSI-X): while at most NVME_ADAPTIVE_POLL_BYTES
 * of data are in flight on the queue a wait polls with the queue's vector masked (the
 * wait is latency-bound: the next completion is the one waited for, and an interrupt
 * would add its whole cost to it); with more in flight it halts on the interrupt (the
 * wait is bandwidth-bound: one interrupt reaps many completions, and the idle CPU leaves
 * the memory system - under emulation, the host's cores - to the device).  The vector's
 * mask changes only when a wait crosses that threshold.  blk_wait() and nvme_wait() wait
 * this way in every mode. */
#ifndef DRIVERS_NVME_NVME_H
#define DRIVERS_NVME_NVME_H
#include <stdbool.h>
#include "lib/blkdev.h"

void nvme_init_all(void);
unsigned nvme_blkdev_count(void);
struct blkdev *nvme_blkdev(unsigned index);
struct blkdev *nvme_blkdev_find(const char *name);

enum nvme_mode { NVME_MODE_POLL, NVME_MODE_IRQ, NVME_MODE_ADAPTIVE };
/* Switch every controller's completion mode; returns 0, or -1 if MODE needs interrupts and
 * a controller has no MSI-X. */
int nvme_set_mode(enum nvme_mode mode);
enum nvme_mode nvme_mode(void);
const char *nvme_mode_name(enum nvme_mode mode);   /* "poll", "irq (MSI-X)", "adaptive" */
/* Wait for REQ (submitted on DEV, an NVMe device) in the current mode; returns its status. */
int nvme_wait(struct blkdev *dev, struct blk_req *req);
/* Wait until one of REQS[0..N) is done (at least one must be submitted); returns its index. */
unsigned nvme_wait_any(struct blkdev *dev, struct blk_req *reqs, unsigned n);
/* The message of the last failed command on DEV ("" if none). */
const char *nvme_last_error(struct blkdev *dev);

/* Firmware-side benchmark slots in struct fw_bench (kernel/boot.h), filled by
 * kernel/efi_bench.c before ExitBootServices and printed by `disk bench --firmware`. */
enum nvme_fw_bench_slot {
    NVME_FWB_SEQ_1M, NVME_FWB_SEQ_64K, NVME_FWB_SEQ_4K, NVME_FWB_RAND_4K,
    NVME_FWB_CHECK = 7,   /* ns = FNV-1a of the first 64 KiB read, bytes = 65536 */
};

#endif
