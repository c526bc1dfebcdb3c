/* Synchronous block I/O on top of the asynchronous provider interface; see blkdev.h. */
#include "lib/blkdev.h"

const char *blk_strerror(int err)
{
    switch (err) {
    case BLK_OK: return "success";
    case BLK_EIO: return "I/O error";
    case BLK_ERANGE: return "block address out of range";
    case BLK_EINVAL: return "invalid request";
    case BLK_ETIMEDOUT: return "device timed out";
    case BLK_EAGAIN: return "device queue full";
    case BLK_ENODEV: return "no such device";
    case BLK_EROFS: return "device is read-only";
    case BLK_ENOSPC: return "no space on device";
    }
    return "unknown block-device error";
}

int blk_submit(struct blkdev *dev, struct blk_req *req)
{
    req->done = false;
    req->status = BLK_OK;
    if (req->op != BLK_FLUSH) {
        if (req->count == 0)
            return BLK_EINVAL;
        if (req->lba >= dev->sectors || req->count > dev->sectors - req->lba)
            return BLK_ERANGE;
        if (req->op == BLK_WRITE && dev->read_only)
            return BLK_EROFS;
    }
    for (;;) {
        int err = dev->ops->submit(dev, req);
        if (err != BLK_EAGAIN)
            return err;
        dev->ops->poll(dev);
    }
}

int blk_wait(struct blkdev *dev, struct blk_req *req)
{
    if (dev->ops->wait)
        return dev->ops->wait(dev, req);
    while (!req->done)
        dev->ops->poll(dev);
    return req->status;
}

static int sync_io(struct blkdev *dev, int op, uint64_t lba, uint32_t count, void *buf)
{
    struct blk_req req = { .op = (uint8_t)op, .lba = lba, .count = count, .buf = buf };
    int err = blk_submit(dev, &req);
    if (err)
        return err;
    return blk_wait(dev, &req);
}

int blk_read(struct blkdev *dev, uint64_t lba, uint32_t count, void *buf)
{
    dev->stats.reads++;
    dev->stats.sectors_read += count;
    return sync_io(dev, BLK_READ, lba, count, buf);
}

int blk_write(struct blkdev *dev, uint64_t lba, uint32_t count, const void *buf)
{
    dev->stats.writes++;
    dev->stats.sectors_written += count;
    return sync_io(dev, BLK_WRITE, lba, count, (void *)buf);
}

int blk_flush(struct blkdev *dev)
{
    dev->stats.flushes++;
    return sync_io(dev, BLK_FLUSH, 0, 0, NULL);
}
