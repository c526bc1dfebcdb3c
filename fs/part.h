/* fs/part: finds the partitions of a block device through its GPT (header and entry-array
 * CRCs checked, backup header used when the primary is damaged) or its MBR (the four
 * primary entries; extended/logical partitions are not followed).
 *
 * Interface: part_probe(dev, scratch, parts, max, &n) fills up to MAX entries, in table
 * order, with each partition's start and length in device sectors.  SCRATCH is one device
 * sector of caller memory.  A device whose sector 0 is a FAT boot sector (no table) gives
 * PART_ENOTABLE, so a caller can fall back to "the whole device is the volume".
 * Invariant: every returned partition lies entirely inside the device. */
#ifndef FS_PART_H
#define FS_PART_H
#include "lib/blkdev.h"

enum part_err {
    PART_OK = 0,
    PART_EIO,       /* the device failed a read */
    PART_ENOTABLE,  /* neither a GPT nor an MBR partition table */
    PART_EBADGPT,   /* GPT signature present, but both headers or the entry array fail CRC */
    PART_ERANGE,    /* the requested partition does not exist */
};

enum part_scheme { PART_SCHEME_MBR = 1, PART_SCHEME_GPT = 2 };

struct part_info {
    uint64_t lba;          /* first sector */
    uint64_t sectors;      /* length */
    uint8_t scheme;        /* enum part_scheme */
    uint8_t mbr_type;      /* MBR system id (0 for GPT) */
    uint8_t type_guid[16]; /* GPT partition type (zero for MBR) */
};

int part_probe(struct blkdev *dev, void *scratch, struct part_info *parts, int max, int *count);
/* Convenience: partition number N (1-based, as in table order). */
int part_find(struct blkdev *dev, void *scratch, int n, struct part_info *out);
const char *part_strerror(int err);

#endif
