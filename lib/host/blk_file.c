/* Image-file and RAM block devices for the host; see blk_file.h.  Both complete every
 * request inside submit, so poll has nothing left to do. */
#define _GNU_SOURCE
#include "lib/host/blk_file.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int file_submit(struct blkdev *dev, struct blk_req *req)
{
    struct blk_file *f = dev->ctx;
    size_t len = (size_t)req->count * dev->sector_size;
    off_t off = (off_t)(f->offset + req->lba * dev->sector_size);
    int status = BLK_OK;
    if (req->op == BLK_READ) {
        for (size_t done = 0; done < len;) {
            ssize_t n = pread(f->fd, (char *)req->buf + done, len - done, off + (off_t)done);
            if (n <= 0) { status = BLK_EIO; break; }
            done += (size_t)n;
        }
    } else if (req->op == BLK_WRITE) {
        for (size_t done = 0; done < len;) {
            ssize_t n = pwrite(f->fd, (char *)req->buf + done, len - done, off + (off_t)done);
            if (n <= 0) { status = BLK_EIO; break; }
            done += (size_t)n;
        }
    } else if (fdatasync(f->fd) != 0 && errno != EINVAL) {
        status = BLK_EIO;
    }
    req->status = status;
    req->done = true;
    return BLK_OK;
}

static int no_poll(struct blkdev *dev)
{
    (void)dev;
    return 0;
}

static const struct blkdev_ops file_ops = { file_submit, no_poll, NULL };

int blk_file_open(struct blk_file *f, const char *path, uint32_t sector_size,
                  uint64_t offset, uint64_t sectors, int read_only)
{
    memset(f, 0, sizeof *f);
    f->fd = open(path, read_only ? O_RDONLY : O_RDWR);
    if (f->fd < 0)
        return errno;
    struct stat st;
    if (fstat(f->fd, &st) != 0) {
        int e = errno;
        close(f->fd);
        return e;
    }
    if ((uint64_t)st.st_size < offset) {
        close(f->fd);
        return EINVAL;
    }
    uint64_t avail = ((uint64_t)st.st_size - offset) / sector_size;
    if (sectors == 0 || sectors > avail)
        sectors = avail;
    f->offset = offset;
    f->dev.ops = &file_ops;
    f->dev.ctx = f;
    f->dev.sector_size = sector_size;
    f->dev.sectors = sectors;
    f->dev.read_only = read_only != 0;
    const char *base = strrchr(path, '/');
    snprintf(f->dev.name, sizeof f->dev.name, "%s", base ? base + 1 : path);
    return 0;
}

void blk_file_close(struct blk_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

static int ram_submit(struct blkdev *dev, struct blk_req *req)
{
    struct blk_ram *r = dev->ctx;
    size_t len = (size_t)req->count * dev->sector_size;
    uint8_t *p = r->mem + req->lba * dev->sector_size;
    if (req->op == BLK_READ)
        memcpy(req->buf, p, len);
    else if (req->op == BLK_WRITE)
        memcpy(p, req->buf, len);
    req->status = BLK_OK;
    req->done = true;
    return BLK_OK;
}

static const struct blkdev_ops ram_ops = { ram_submit, no_poll, NULL };

void blk_ram_init(struct blk_ram *r, void *mem, uint32_t sector_size, uint64_t sectors)
{
    memset(r, 0, sizeof *r);
    r->mem = mem;
    r->dev.ops = &ram_ops;
    r->dev.ctx = r;
    r->dev.sector_size = sector_size;
    r->dev.sectors = sectors;
    snprintf(r->dev.name, sizeof r->dev.name, "ram");
}
