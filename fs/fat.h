/* fs/fat: a FAT12/16/32 filesystem with VFAT long names, in caller-owned memory.
 *
 * Interface (every call returns enum fat_err; FAT_OK = 0):
 *   fat_mount(vol, dev, part_lba, mem, size, flags)  mount the volume that starts at device
 *       sector PART_LBA (0 for a bare volume; fs/part.h finds partitions).  MEM/SIZE is the
 *       memory for the block cache and the name cache; the volume uses nothing else.
 *   fat_open / fat_read / fat_write / fat_seek / fat_truncate / fat_close    files
 *   fat_opendir / fat_readdir / fat_stat                                     directories
 *   fat_unlink / fat_mkdir / fat_rmdir / fat_rename                           namespace
 *   fat_sync / fat_unmount / fat_statfs / fat_fsck / fat_strerror
 * Paths are UTF-8, '/'-separated, relative to the root (a leading '/' is optional), with
 * "." and ".." resolved against the directory tree on disk; lookup is case-insensitive.
 * Invariants: no allocation; nothing is written outside [part_lba, part_lba + volume size);
 * a corrupt volume yields FAT_ECORRUPT (or a repairable fsck report), never a hang: every
 * chain walk is bounded by the cluster count.  Several files and directories may be open;
 * an open file's object is the only holder of its position and size, so the same file
 * opened twice for writing is not coherent (as with FatFs).  Not thread-safe: the caller
 * serialises calls on one volume.  See docs/FAT.md. */
#ifndef FS_FAT_H
#define FS_FAT_H
#include "fs/bcache.h"
#include "lib/blkdev.h"
#include <stdbool.h>
#include <stdint.h>

enum fat_err {
    FAT_OK = 0,
    FAT_EIO,           /* the block device failed */
    FAT_EBADFS,        /* not a FAT volume, or a BPB value out of range (see vol->reason) */
    FAT_ECORRUPT,      /* on-disk structure inconsistent (bad chain, bad entry) */
    FAT_ENOENT,        /* no such file or directory */
    FAT_EEXIST,        /* the name already exists */
    FAT_ENOTDIR,       /* a path component is not a directory */
    FAT_EISDIR,        /* a directory where a file was required */
    FAT_ENOTEMPTY,     /* rmdir of a directory that still holds entries */
    FAT_ENOSPC,        /* no free cluster, or the directory cannot grow */
    FAT_EROFS,         /* write to a volume mounted read-only */
    FAT_EINVAL,        /* bad argument (e.g. moving a directory into itself) */
    FAT_ENAMETOOLONG,  /* component longer than 255 UTF-16 units */
    FAT_EBADNAME,      /* a character FAT cannot store, or an empty component */
    FAT_EFBIG,         /* file would exceed 4 GiB - 1 */
    FAT_ENOMEM,        /* the memory given to fat_mount is too small */
    FAT_EBADF,         /* file not open for that access */
    FAT_EBUSY,         /* removing the root; a file open for writing twice, or removed
                          or renamed while open */
    FAT_EMFILE,        /* FAT_OPEN_MAX files already open on the volume */
};

const char *fat_strerror(int err);

enum { FAT_NAME_MAX = 255 * 3 + 1 };   /* UTF-8 bytes of the longest name, with NUL */

enum fat_attr {
    FAT_ATTR_RDONLY = 0x01, FAT_ATTR_HIDDEN = 0x02, FAT_ATTR_SYSTEM = 0x04,
    FAT_ATTR_VOLID = 0x08, FAT_ATTR_DIR = 0x10, FAT_ATTR_ARCHIVE = 0x20,
    FAT_ATTR_LFN = 0x0F,
};

enum fat_mount_flags { FAT_MOUNT_RDONLY = 1 };

/* Name cache slot: (directory, name hash) -> position of the entry's short record. */
struct fat_nslot {
    uint32_t dir, hash, idx;
};

/* What the name cache knows about one directory. */
struct fat_dirinfo {
    uint32_t dir;          /* first cluster (0 = fixed FAT12/16 root) */
    uint32_t end;          /* index of the first never-used entry, as last seen */
    uint32_t free_hint;    /* no free run exists below this index */
    uint32_t stamp;        /* LRU */
    bool complete;         /* every entry of the directory is in the name cache */
    bool valid;
};

enum { FAT_DIRINFO = 8, FAT_PENDING = 32, FAT_OPEN_MAX = 16 };

/* Change notification, for layers that track what changed (fs/sitemap.h).  After a call
 * that changed the volume succeeds in part or whole, the core reports it:
 *   FAT_CHANGE_DIR   entries of directory DIR (first cluster; the root is root_cluster,
 *                    0 on FAT12/16) were added or removed: create, unlink, mkdir, rmdir,
 *                    rename (both directories).
 *   FAT_CHANGE_DATA  bytes [OFF, OFF + LEN) of the file whose entry is IDX in DIR were
 *                    written, zero-filled or cut off (truncate reports the span between
 *                    the old and the new size).
 * fsck repairs are not reported.  The callback must not call back into the volume. */
enum fat_change_kind { FAT_CHANGE_DIR = 1, FAT_CHANGE_DATA = 2 };
struct fat_change {
    uint8_t kind;              /* enum fat_change_kind */
    uint32_t dir, idx;
    uint32_t off, len;
};
typedef void (*fat_change_fn)(void *ctx, const struct fat_change *c);

struct fat_volume {
    struct blkdev *dev;
    struct bcache cache;
    uint64_t part_lba;
    uint64_t vol_sectors;      /* FAT sectors in the volume */
    uint32_t bps;              /* bytes per FAT sector */
    uint32_t spc;              /* sectors per cluster */
    uint32_t cluster_bytes;
    uint8_t type;              /* 12, 16 or 32 */
    uint8_t nfats;
    bool rdonly;
    bool dirty;                /* metadata changed since the last sync */
    uint32_t fat_start, fat_size, root_start, root_entries, data_start;
    uint32_t clusters;         /* data clusters: valid numbers are 2 .. clusters + 1 */
    uint32_t root_cluster;     /* FAT32 root (0 on FAT12/16: the fixed root) */
    uint32_t fsinfo_sector;    /* 0 when absent */
    uint32_t free_count;       /* valid when free_known */
    bool free_known;
    uint32_t next_free;
    uint8_t dirty_off;         /* boot-sector byte that carries the dirty flag */
    uint32_t pending[FAT_PENDING];   /* detached chains to free at the next sync */
    uint32_t npending;
    struct fat_nslot *names;   /* name cache, carved from the mount memory */
    uint32_t nbuckets;
    struct fat_dirinfo dirs[FAT_DIRINFO];
    uint32_t stamp;
    uint64_t name_hits, name_misses;
    const char *reason;        /* why mount refused the volume */
    char label[12];
    fat_change_fn on_change;   /* NULL (fat_mount's default), or set after mounting */
    void *change_ctx;
    /* Entries of the files open now (fat_open .. fat_close): one writer at a time, and no
     * unlink or rename under an open file, whose object would write a stale entry. */
    struct fat_open {
        uint32_t dir, idx;
        uint16_t readers, writers;
    } open[FAT_OPEN_MAX];
};

/* A cluster run cached in an open file: file clusters [lc, lc+len) are disk clusters
 * [pc, pc+len). */
struct fat_run {
    uint32_t lc, pc, len;
};
enum { FAT_RUNS = 8 };

enum fat_open_flags {
    FAT_O_READ = 1, FAT_O_WRITE = 2, FAT_O_CREATE = 4, FAT_O_TRUNC = 8, FAT_O_APPEND = 16,
    FAT_O_EXCL = 32,
};

struct fat_file {
    struct fat_volume *vol;
    uint32_t first;            /* first cluster, 0 when empty */
    uint32_t size, pos;
    uint32_t flags;
    uint32_t dir;              /* directory holding the entry, and the entry's index */
    uint32_t idx;
    uint32_t nclusters;        /* chain length when known, else 0 */
    uint32_t last;             /* last cluster of the chain when nclusters != 0 */
    bool meta_dirty;           /* size/first/mtime to write back to the entry */
    struct fat_run runs[FAT_RUNS];
    uint32_t nruns, run_next;
};

struct fat_dir {
    struct fat_volume *vol;
    uint32_t first;            /* directory's first cluster (0 = fixed root) */
    uint32_t idx;              /* next entry index */
    uint32_t cur_lc, cur_pc;   /* cursor: cluster cur_lc of the chain is cur_pc */
};

struct fat_dirent {
    char name[FAT_NAME_MAX];   /* long name when present, else the 8.3 name */
    char short_name[40];       /* 8.3 name as UTF-8 (code page 850 decoded) */
    uint8_t attr;
    uint32_t size;
    uint32_t first;            /* first cluster */
    int64_t mtime;             /* Unix seconds (UTC; FAT stores no zone) */
    uint32_t idx;              /* index of the short entry in its directory */
    uint32_t lfn_count;        /* long-name entries before it */
};

struct fat_statfs {
    uint8_t type;
    uint32_t cluster_bytes, clusters, free_clusters;
    uint32_t sector_size;
    char label[12];
};

/* The volume starts at sector PART_LBA of DEV and must fit in PART_SECTORS sectors from
 * there (0: up to the end of the device), so a hostile boot sector cannot make the core
 * write into the next partition. */
int fat_mount(struct fat_volume *vol, struct blkdev *dev, uint64_t part_lba,
              uint64_t part_sectors, void *mem, size_t size, unsigned flags);
int fat_sync(struct fat_volume *vol);
int fat_unmount(struct fat_volume *vol);
int fat_statfs(struct fat_volume *vol, struct fat_statfs *st);

int fat_open(struct fat_volume *vol, struct fat_file *f, const char *path, unsigned flags);
int fat_read(struct fat_file *f, void *buf, uint32_t n, uint32_t *got);
int fat_write(struct fat_file *f, const void *buf, uint32_t n);
int fat_seek(struct fat_file *f, uint32_t pos);
int fat_truncate(struct fat_file *f, uint32_t size);
int fat_close(struct fat_file *f);   /* writes size and mtime back; not a sync */
int fat_fsync(struct fat_file *f);   /* entry written back, then fat_sync */

int fat_opendir(struct fat_volume *vol, struct fat_dir *d, const char *path);
/* FAT_OK with *ENT filled, or FAT_ENOENT at the end.  "." and ".." are skipped. */
int fat_readdir(struct fat_dir *d, struct fat_dirent *ent);
int fat_stat(struct fat_volume *vol, const char *path, struct fat_dirent *ent);

int fat_unlink(struct fat_volume *vol, const char *path);
int fat_mkdir(struct fat_volume *vol, const char *path);
int fat_rmdir(struct fat_volume *vol, const char *path);
int fat_rename(struct fat_volume *vol, const char *from, const char *to);

/* Consistency check.  REPORT gets one line per finding (may be NULL).  With REPAIR the
 * damage is fixed: bad FAT copy rewritten from the good one, sizes corrected, chains cut
 * at the first bad link, entries that loop back to an ancestor removed, and lost chains
 * saved as /FSCKnnnn.REC files (never freed).  *PROBLEMS (may be NULL) counts findings. */
typedef void (*fat_report_fn)(void *ctx, const char *msg);
/* SCRATCH holds two sectors, the directory path being walked and bitmaps of clusters.
 * fat_fsck_scratch() bytes give one pass over the tree and let repair save lost chains;
 * with less (but at least 2 sectors + 8 KiB + 8 bytes) the tree is walked once per window
 * of clusters that fit, and lost chains are reported but left in place. */
size_t fat_fsck_scratch(const struct fat_volume *vol);
/* Forgets every open-file record (fat_open .. fat_close), for an embedder whose open file
 * objects died unclosed with their caller (a command stopped by a CPU exception): without
 * this they would count against FAT_OPEN_MAX and block their files until unmount.  What
 * those objects had not written back (a grown size) is lost, as in a crash. */
void fat_forget_open(struct fat_volume *vol);
int fat_fsck(struct fat_volume *vol, bool repair, void *scratch, size_t scratch_size,
             fat_report_fn report, void *ctx, uint32_t *problems);

#endif
