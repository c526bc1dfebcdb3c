/* fs/bcache: an LRU, write-back block cache over a struct blkdev, in caller memory.
 *
 * Interface:
 *   bcache_init(bc, dev, base_lba, block_size, mem, size)  carve MEM into buffers; a block is
 *       block_size bytes (a multiple of the device sector) and block B lives at device LBA
 *       base_lba + B * (block_size / sector_size), so a partition is just a base.
 *   bcache_get(bc, b, fill, &p)   pointer to block B's bytes (read from the device when FILL
 *       and not cached; left undefined otherwise, for blocks about to be overwritten whole).
 *       P stays valid only until the next bcache call.
 *   bcache_dirty(bc, p, cls)      mark the block holding P modified, in write-order class CLS.
 *   bcache_sync(bc)               write every dirty block, class by class, with a device
 *       flush after each class: the crash-ordering barrier.
 *   bcache_writeback_range / bcache_drop_range / bcache_zero_range / bcache_note_direct
 *       keep the cache coherent with I/O that bypasses it (large file transfers).
 * Write ordering: dirty blocks carry a class (BC_DATA < BC_FAT < BC_DIR).  Before a block of
 * class C reaches the device, every dirty block of a lower class, and every direct write,
 * has been written and flushed.  So the device never holds a directory entry whose FAT
 * chain or data is still only in memory, however evictions fall.
 * Counters: hits, misses, writebacks. */
#ifndef FS_BCACHE_H
#define FS_BCACHE_H
#include "lib/blkdev.h"

enum bcache_err { BC_OK = 0, BC_EIO, BC_ENOMEM };
enum bcache_class { BC_DATA = 0, BC_FAT = 1, BC_DIR = 2, BC_NCLASS = 3 };

struct bcache_buf {
    uint64_t blk;
    uint32_t hnext, prev, next;   /* hash chain and LRU list, as buffer indices */
    uint8_t valid, dirty, cls;
};

/* Writes one block (BLK, cache block units) to the device; the default is one blk_write.
 * The FAT layer installs a hook that also writes the mirror copies of FAT blocks. */
typedef int (*bcache_write_fn)(void *ctx, uint64_t blk, const void *data, int cls);

struct bcache {
    struct blkdev *dev;
    uint64_t base_lba;
    uint64_t nblocks;             /* blocks at or past this are refused (0 = no limit) */
    uint32_t block_size, dev_per_block;
    uint32_t nbufs, hmask;
    struct bcache_buf *bufs;
    uint32_t *hash;
    uint8_t *data;
    uint32_t lru_head, lru_tail;  /* head = most recently used */
    uint32_t ndirty[BC_NCLASS];
    bool need_barrier;            /* direct writes not yet flushed */
    uint64_t hits, misses, writebacks;
    bcache_write_fn write_hook;
    void *hook_ctx;
};

int bcache_init(struct bcache *bc, struct blkdev *dev, uint64_t base_lba, uint32_t block_size,
                void *mem, size_t size);
int bcache_get(struct bcache *bc, uint64_t blk, bool fill, uint8_t **out);
void bcache_dirty(struct bcache *bc, const uint8_t *p, int cls);
int bcache_sync(struct bcache *bc);
/* Write back dirty cached blocks in [blk, blk+n) before a direct read of that range. */
int bcache_writeback_range(struct bcache *bc, uint64_t blk, uint64_t n);
/* Forget cached blocks in [blk, blk+n) (dirty or not) because a direct write replaces them. */
void bcache_drop_range(struct bcache *bc, uint64_t blk, uint64_t n);
/* Write zeros to [blk, blk+n) directly, and forget cached copies. */
int bcache_zero_range(struct bcache *bc, uint64_t blk, uint64_t n);
/* Record that data went to the device around the cache (orders it before metadata). */
static inline void bcache_note_direct(struct bcache *bc) { bc->need_barrier = true; }
/* Direct I/O helpers in cache-block units, relative to base_lba. */
int bcache_dev_read(struct bcache *bc, uint64_t blk, uint64_t n, void *buf);
int bcache_dev_write(struct bcache *bc, uint64_t blk, uint64_t n, const void *buf);

#endif
