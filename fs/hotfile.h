/* fs/hotfile: file reads served by content from a bounded block cache - the "hot context"
 * over the volume's "cold storage" (docs/SITEMAP.md, "The block cache").
 *
 * Interface:
 *   hotfile_read(h, path, off, buf, len, &got)   read like fat_read, through the cache
 *   hotfile_node(sm, vol, path)                   the sitemap node whose block hashes are
 *                                                 current for PATH, or SM_NONE
 * The caller fills struct hotfile (volume, live sitemap, cache; the last two may be NULL)
 * and keeps it between calls for its scratch block and counters.
 * How: when the live sitemap (fs/sitemap.h) holds a clean node for the file, each 4 KiB
 * block is looked up in the cache (lib/cas.h) under CAS_KIND_BLOCK and the block's SHA-256
 * B_i from the sitemap.  A hit is copied out; a miss reads the block from the volume, hashes
 * it, and only if the hash is B_i puts it in the cache (identical blocks of any files share
 * one entry).  Otherwise the read goes straight to the volume (fat_read).
 * Invariants: a block is only ever looked up under a hash the sitemap computed from the
 * volume and that no change reported since has invalidated: the node must carry no DATA or
 * NEW flag, no ancestor a RELIST or NEW flag, and the tree must be the volume's current
 * change listener (a remount detaches it).  So a write through the FAT core is never
 * answered with old bytes.  A block whose bytes on the volume do not hash to B_i (changed
 * behind the filesystem's back) is never served or cached: the read fails with
 * HOT_ECORRUPT and h->bad_block names it.  Blocks already cached are served by content, so
 * they return what the sitemap describes.  No allocation; not thread-safe. */
#ifndef FS_HOTFILE_H
#define FS_HOTFILE_H
#include <stddef.h>
#include <stdint.h>
#include "fs/sitemap.h"
#include "lib/cas.h"

enum hot_err {
    HOT_OK = 0,
    HOT_EFAT,       /* the filesystem failed; h->fat_err says how */
    HOT_ECORRUPT,   /* block h->bad_block does not match the sitemap (or is missing) */
};

struct hotfile {
    _Alignas(64) uint8_t blk[SM_BLOCK]; /* one block from the volume (aligned: direct I/O) */
    struct fat_volume *vol;
    struct sitemap *sm;      /* the live tree of VOL, or NULL: every read goes straight */
    struct cas *cache;       /* NULL: every read goes straight */
    int fat_err;             /* with HOT_EFAT */
    uint32_t bad_block;      /* with HOT_ECORRUPT */
    uint64_t reads_hot;      /* reads served through the block cache */
    uint64_t reads_cold;     /* reads that went straight to the volume */
    uint64_t corrupt;        /* blocks refused because their hash did not match */
};

uint32_t hotfile_node(const struct sitemap *sm, const struct fat_volume *vol, const char *path);

/* Up to LEN bytes at OFF of the file at the absolute PATH into BUF; *GOT = bytes copied
 * (short only at the end of the file or on an error). */
int hotfile_read(struct hotfile *h, const char *path, uint64_t off, void *buf, size_t len,
                 size_t *got);

#endif
