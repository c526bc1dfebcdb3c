/* Block cache; see bcache.h.  Buffers are found through a chained hash on the block number
 * and kept on one LRU list; eviction takes the least recently used buffer and writes it
 * back first when dirty, honouring the class order. */
#include "fs/bcache.h"
#include <string.h>

#define NIL 0xFFFFFFFFu

/* The last line of defence against a corrupt volume steering I/O outside itself. */
static bool in_range(const struct bcache *bc, uint64_t blk, uint64_t n)
{
    return !bc->nblocks || (blk < bc->nblocks && n <= bc->nblocks - blk);
}

int bcache_dev_read(struct bcache *bc, uint64_t blk, uint64_t n, void *buf)
{
    if (!in_range(bc, blk, n))
        return BC_EIO;
    while (n) {
        uint64_t k = n > 0x10000 ? 0x10000 : n;   /* keep count within 32 bits */
        if (blk_read(bc->dev, bc->base_lba + blk * bc->dev_per_block,
                     (uint32_t)(k * bc->dev_per_block), buf))
            return BC_EIO;
        blk += k, n -= k, buf = (uint8_t *)buf + k * bc->block_size;
    }
    return BC_OK;
}

int bcache_dev_write(struct bcache *bc, uint64_t blk, uint64_t n, const void *buf)
{
    if (!in_range(bc, blk, n))
        return BC_EIO;
    while (n) {
        uint64_t k = n > 0x10000 ? 0x10000 : n;
        if (blk_write(bc->dev, bc->base_lba + blk * bc->dev_per_block,
                      (uint32_t)(k * bc->dev_per_block), buf))
            return BC_EIO;
        blk += k, n -= k, buf = (const uint8_t *)buf + k * bc->block_size;
    }
    return BC_OK;
}

int bcache_init(struct bcache *bc, struct blkdev *dev, uint64_t base_lba, uint32_t block_size,
                void *mem, size_t size)
{
    memset(bc, 0, sizeof *bc);
    if (block_size < dev->sector_size || block_size % dev->sector_size)
        return BC_ENOMEM;
    bc->dev = dev;
    bc->base_lba = base_lba;
    bc->block_size = block_size;
    bc->dev_per_block = block_size / dev->sector_size;
    uintptr_t p = ((uintptr_t)mem + 63) & ~(uintptr_t)63, end = (uintptr_t)mem + size;
    size_t per = block_size + sizeof(struct bcache_buf) + 2 * sizeof(uint32_t);
    if (end < p || (end - p) / per < 4)
        return BC_ENOMEM;
    uint32_t n = (uint32_t)((end - p) / per), h = 1;
    while (h < n)
        h <<= 1;
    bc->data = (uint8_t *)p;   /* data first: block-aligned buffers suit DMA */
    bc->bufs = (struct bcache_buf *)(p + (size_t)n * block_size);
    bc->hash = (uint32_t *)(bc->bufs + n);
    while ((uintptr_t)(bc->hash + h) > end)
        n--;                   /* the power-of-two hash may not fit: give up buffers */
    bc->bufs = (struct bcache_buf *)(p + (size_t)n * block_size);
    bc->hash = (uint32_t *)(bc->bufs + n);
    bc->nbufs = n;
    bc->hmask = h - 1;
    for (uint32_t i = 0; i <= bc->hmask; i++)
        bc->hash[i] = NIL;
    for (uint32_t i = 0; i < n; i++)
        bc->bufs[i] = (struct bcache_buf){ .hnext = NIL, .prev = i ? i - 1 : NIL,
                                           .next = i + 1 < n ? i + 1 : NIL };
    bc->lru_head = 0;
    bc->lru_tail = n - 1;
    return BC_OK;
}

static uint32_t hslot(const struct bcache *bc, uint64_t blk)
{
    return (uint32_t)((blk * 0x9E3779B97F4A7C15ull) >> 32) & bc->hmask;
}

static uint32_t find(const struct bcache *bc, uint64_t blk)
{
    for (uint32_t i = bc->hash[hslot(bc, blk)]; i != NIL; i = bc->bufs[i].hnext)
        if (bc->bufs[i].blk == blk && bc->bufs[i].valid)
            return i;
    return NIL;
}

static void unhash(struct bcache *bc, uint32_t i)
{
    if (!bc->bufs[i].valid)
        return;
    uint32_t *pp = &bc->hash[hslot(bc, bc->bufs[i].blk)];
    while (*pp != i)
        pp = &bc->bufs[*pp].hnext;
    *pp = bc->bufs[i].hnext;
    bc->bufs[i].valid = 0;
}

static void lru_unlink(struct bcache *bc, uint32_t i)
{
    struct bcache_buf *b = &bc->bufs[i];
    if (b->prev != NIL) bc->bufs[b->prev].next = b->next; else bc->lru_head = b->next;
    if (b->next != NIL) bc->bufs[b->next].prev = b->prev; else bc->lru_tail = b->prev;
}

static void lru_front(struct bcache *bc, uint32_t i)
{
    lru_unlink(bc, i);
    bc->bufs[i].prev = NIL;
    bc->bufs[i].next = bc->lru_head;
    if (bc->lru_head != NIL) bc->bufs[bc->lru_head].prev = i;
    bc->lru_head = i;
    if (bc->lru_tail == NIL) bc->lru_tail = i;
}

static void lru_back(struct bcache *bc, uint32_t i)
{
    lru_unlink(bc, i);
    bc->bufs[i].next = NIL;
    bc->bufs[i].prev = bc->lru_tail;
    if (bc->lru_tail != NIL) bc->bufs[bc->lru_tail].next = i;
    bc->lru_tail = i;
    if (bc->lru_head == NIL) bc->lru_head = i;
}

static int flush(struct bcache *bc)
{
    bc->need_barrier = false;
    return blk_flush(bc->dev) ? BC_EIO : BC_OK;
}

static int write_one(struct bcache *bc, uint32_t i)
{
    struct bcache_buf *b = &bc->bufs[i];
    uint8_t *d = bc->data + (size_t)i * bc->block_size;
    int err = bc->write_hook ? bc->write_hook(bc->hook_ctx, b->blk, d, b->cls)
                             : bcache_dev_write(bc, b->blk, 1, d);
    if (err)
        return BC_EIO;
    bc->ndirty[b->cls]--;
    b->dirty = 0;
    bc->writebacks++;
    return BC_OK;
}

static int write_class(struct bcache *bc, int cls)
{
    for (uint32_t i = 0; i < bc->nbufs && bc->ndirty[cls]; i++)
        if (bc->bufs[i].dirty && bc->bufs[i].cls == cls && write_one(bc, i))
            return BC_EIO;
    return BC_OK;
}

/* Everything of a lower class (and every direct write) must be durable before CLS goes. */
static int order_before(struct bcache *bc, int cls)
{
    bool wrote = false;
    for (int c = 0; c < cls; c++) {
        if (bc->ndirty[c]) {
            if (write_class(bc, c))
                return BC_EIO;
            wrote = true;
        }
    }
    if (cls > BC_DATA && (wrote || bc->need_barrier))
        return flush(bc);
    return BC_OK;
}

static int writeback(struct bcache *bc, uint32_t i)
{
    if (!bc->bufs[i].dirty)
        return BC_OK;
    if (order_before(bc, bc->bufs[i].cls))
        return BC_EIO;
    return write_one(bc, i);
}

int bcache_sync(struct bcache *bc)
{
    for (int c = 0; c < BC_NCLASS; c++) {
        bool any = bc->ndirty[c] != 0;
        if (write_class(bc, c))
            return BC_EIO;
        if ((any || bc->need_barrier) && flush(bc))
            return BC_EIO;
    }
    return BC_OK;
}

/* A buffer to reuse: the least recently used one, written back if needed. */
static int take(struct bcache *bc, uint32_t *out)
{
    uint32_t i = bc->lru_tail;
    if (writeback(bc, i))
        return BC_EIO;
    unhash(bc, i);
    *out = i;
    return BC_OK;
}

int bcache_get(struct bcache *bc, uint64_t blk, bool fill, uint8_t **out)
{
    uint32_t i = find(bc, blk);
    if (i != NIL) {
        bc->hits++;
    } else {
        bc->misses++;
        if (take(bc, &i))
            return BC_EIO;
        uint8_t *d = bc->data + (size_t)i * bc->block_size;
        if (fill && bcache_dev_read(bc, blk, 1, d)) {
            lru_back(bc, i);
            return BC_EIO;
        }
        struct bcache_buf *b = &bc->bufs[i];
        b->blk = blk;
        b->valid = 1;
        b->dirty = 0;
        uint32_t h = hslot(bc, blk);
        b->hnext = bc->hash[h];
        bc->hash[h] = i;
    }
    lru_front(bc, i);
    *out = bc->data + (size_t)i * bc->block_size;
    return BC_OK;
}

void bcache_dirty(struct bcache *bc, const uint8_t *p, int cls)
{
    uint32_t i = (uint32_t)((size_t)(p - bc->data) / bc->block_size);
    struct bcache_buf *b = &bc->bufs[i];
    if (b->dirty) {
        if (cls <= b->cls)
            return;
        bc->ndirty[b->cls]--;
    }
    b->dirty = 1;
    b->cls = (uint8_t)cls;
    bc->ndirty[cls]++;
}

/* Visits the cached blocks of [blk, blk+n): by lookup when the range is small, else by
 * scanning every buffer, whichever is cheaper. */
#define FOR_RANGE(bc, blk, n, i, body)                                                   \
    do {                                                                                 \
        if ((n) <= (bc)->nbufs) {                                                        \
            for (uint64_t b_ = 0; b_ < (n); b_++) {                                      \
                uint32_t i = find((bc), (blk) + b_);                                     \
                if (i != NIL) { body }                                                   \
            }                                                                            \
        } else {                                                                         \
            for (uint32_t i = 0; i < (bc)->nbufs; i++)                                   \
                if ((bc)->bufs[i].valid && (bc)->bufs[i].blk >= (blk) &&                 \
                    (bc)->bufs[i].blk - (blk) < (n)) { body }                            \
        }                                                                                \
    } while (0)

int bcache_writeback_range(struct bcache *bc, uint64_t blk, uint64_t n)
{
    if (!bc->ndirty[BC_DATA] && !bc->ndirty[BC_FAT] && !bc->ndirty[BC_DIR])
        return BC_OK;
    int err = BC_OK;
    FOR_RANGE(bc, blk, n, i, { if (!err && bc->bufs[i].dirty) err = writeback(bc, i); });
    return err;
}

void bcache_drop_range(struct bcache *bc, uint64_t blk, uint64_t n)
{
    FOR_RANGE(bc, blk, n, i, {
        if (bc->bufs[i].dirty) {
            bc->ndirty[bc->bufs[i].cls]--;
            bc->bufs[i].dirty = 0;
        }
        unhash(bc, i);
        lru_back(bc, i);
    });
}

int bcache_zero_range(struct bcache *bc, uint64_t blk, uint64_t n)
{
    bcache_drop_range(bc, blk, n);
    uint32_t i;
    if (take(bc, &i))
        return BC_EIO;
    uint8_t *d = bc->data + (size_t)i * bc->block_size;
    memset(d, 0, bc->block_size);
    lru_back(bc, i);   /* stays unhashed: a scratch buffer, free for the next taker */
    for (uint64_t k = 0; k < n; k++)
        if (bcache_dev_write(bc, blk + k, 1, d))
            return BC_EIO;
    bc->need_barrier = true;
    /* A small range (a new directory cluster) is about to be filled: keep it cached as
     * clean zeros, which is exactly what the device now holds. */
    for (uint64_t k = 0; n <= bc->nbufs / 4 && k < n; k++) {
        uint8_t *z;
        if (bcache_get(bc, blk + k, false, &z))
            return BC_EIO;
        memset(z, 0, bc->block_size);
    }
    return BC_OK;
}
