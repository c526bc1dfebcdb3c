/* drivers/nvme/nvme.h: the NVMe driver as the rest of the kernel sees it.
 *
 * nvme_init_all() (once, from devices_init after pci_init) takes over every NVMe controller
 * the PCI layer found (class 01/08/02) from whatever state the firmware left it in, and
 * registers one block device per active namespace, named nvme<C>n<NSID> ("nvme0n1").
 * Clients use them only through lib/blkdev.h: nvme_blkdev_count()/nvme_blkdev(i) list them,
 * nvme_blkdev_find(name) looks one up.
 *
 * Completion is by MSI-X interrupts (default where the controller has MSI-X) or by
 * polling: nvme_set_irq_mode().  In
 * interrupt mode nvme_wait() halts the CPU until the request is done; blk_wait() works in
 * both modes. */
#ifndef DRIVERS_NVME_NVME_H
#define DRIVERS_NVME_NVME_H
#include <stdbool.h>
#include "lib/blkdev.h"

void nvme_init_all(void);
unsigned nvme_blkdev_count(void);
struct blkdev *nvme_blkdev(unsigned index);
struct blkdev *nvme_blkdev_find(const char *name);

/* Switch every controller to interrupt (true) or polled (false) completion; returns 0, or
 * -1 if a controller has no MSI-X. */
int nvme_set_irq_mode(bool irq);
bool nvme_irq_mode(void);
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
