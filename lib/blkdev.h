/* lib/blkdev: the one interface between storage clients (FAT, sitemap, benchmarks) and
 * storage providers (the NVMe driver in the kernel; an image file or RAM on the host).
 *
 * A provider fills a struct blkdev: geometry plus two operations.
 *   submit(dev, req)  queue one request; returns BLK_OK, or BLK_EAGAIN when the device's
 *                     queue is full (the caller polls and tries again), or an error.
 *   poll(dev)         reap completions: set req->status and req->done for each finished
 *                     request; returns how many finished.  Never blocks.
 *   wait(dev, req)    optional: wait until req is done, in whatever way suits the device
 *                     (e.g. halting until its interrupt); NULL means "poll until done".
 * Requests are caller-owned and must stay alive until done.  lba/count are in the device's
 * sectors (sector_size is 512..4096, a power of two); the provider splits at its own
 * transfer limit, so a client may ask for any count.
 *
 * blk_read/blk_write/blk_flush are the synchronous calls on top, and count every request
 * and sector in dev->stats (the benchmarks read them). */
#ifndef LIB_BLKDEV_H
#define LIB_BLKDEV_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum blk_err {
    BLK_OK = 0,
    BLK_EIO,        /* the device reported a media or transport error */
    BLK_ERANGE,     /* LBA range outside the device */
    BLK_EINVAL,     /* malformed request (zero count, unaligned buffer the device cannot take) */
    BLK_ETIMEDOUT,  /* no completion within the device's time budget, even after recovery */
    BLK_EAGAIN,     /* submission queue full: poll, then submit again */
    BLK_ENODEV,     /* the device is gone (failed reset) */
    BLK_EROFS,      /* write to a read-only device */
    BLK_ENOSPC,     /* simulated: a test device that drops writes reports nothing; kept for providers */
};

const char *blk_strerror(int err);

enum blk_op { BLK_READ, BLK_WRITE, BLK_FLUSH };

struct blk_req {
    uint8_t op;          /* enum blk_op */
    uint64_t lba;
    uint32_t count;      /* sectors */
    void *buf;
    volatile int status; /* enum blk_err, valid once done */
    volatile bool done;
    uintptr_t priv[2];   /* provider's bookkeeping */
};

struct blkdev;
struct blkdev_ops {
    int (*submit)(struct blkdev *dev, struct blk_req *req);
    int (*poll)(struct blkdev *dev);
    int (*wait)(struct blkdev *dev, struct blk_req *req);   /* may be NULL */
};

struct blk_stats {
    uint64_t reads, writes, flushes;         /* requests as clients issued them */
    uint64_t sectors_read, sectors_written;
};

struct blkdev {
    const struct blkdev_ops *ops;
    void *ctx;                /* provider's private state */
    uint32_t sector_size;     /* bytes, power of two, 512..4096 */
    uint64_t sectors;         /* capacity */
    bool read_only;
    char name[24];            /* e.g. "nvme0n1" or an image path's base name */
    struct blk_stats stats;
};

/* Synchronous helpers: submit, then poll until done. */
int blk_read(struct blkdev *dev, uint64_t lba, uint32_t count, void *buf);
int blk_write(struct blkdev *dev, uint64_t lba, uint32_t count, const void *buf);
int blk_flush(struct blkdev *dev);
/* Submit with retry on BLK_EAGAIN (polling in between); does not wait for completion. */
int blk_submit(struct blkdev *dev, struct blk_req *req);
/* Poll until req is done; returns its status. */
int blk_wait(struct blkdev *dev, struct blk_req *req);

#endif
