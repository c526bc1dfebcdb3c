/* Host block-device providers: an image file (optionally a window of it) and RAM.
 * Used by the host tools and tests; the kernel never builds these. */
#ifndef LIB_HOST_BLK_FILE_H
#define LIB_HOST_BLK_FILE_H
#include "lib/blkdev.h"

struct blk_file {
    struct blkdev dev;
    int fd;
    uint64_t offset;      /* byte offset of sector 0 inside the file */
};

/* Open PATH as a device of SECTOR_SIZE-byte sectors; sectors = 0 means to the end of the
 * file.  Returns 0 or an errno value. */
int blk_file_open(struct blk_file *f, const char *path, uint32_t sector_size,
                  uint64_t offset, uint64_t sectors, int read_only);
void blk_file_close(struct blk_file *f);

struct blk_ram {
    struct blkdev dev;
    uint8_t *mem;         /* caller-owned, sectors * sector_size bytes */
};

void blk_ram_init(struct blk_ram *r, void *mem, uint32_t sector_size, uint64_t sectors);

#endif
