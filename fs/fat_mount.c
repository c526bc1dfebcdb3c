/* Volume level: boot sector and BPB validation, mount/unmount, sync with the crash-safe
 * write order, FSInfo, the dirty flag, statfs, timestamps and error strings.
 *
 * Sync order (docs/FAT.md): file data (direct writes and cached partial blocks), flush;
 * FAT blocks (every copy), flush; directory blocks, flush; then the chains detached since
 * the last sync are freed in the FAT, flush; then FSInfo.  A directory entry therefore
 * never reaches the disk before the clusters it names, and a cluster is never marked free
 * on disk while an entry on disk still names it. */
#include "lib/civil.h"
#include "fs/fat_int.h"
#include "lib/clock.h"

const char *fat_strerror(int err)
{
    switch (err) {
    case FAT_OK: return "success";
    case FAT_EIO: return "I/O error";
    case FAT_EBADFS: return "not a valid FAT filesystem";
    case FAT_ECORRUPT: return "filesystem structure corrupt";
    case FAT_ENOENT: return "no such file or directory";
    case FAT_EEXIST: return "file exists";
    case FAT_ENOTDIR: return "not a directory";
    case FAT_EISDIR: return "is a directory";
    case FAT_ENOTEMPTY: return "directory not empty";
    case FAT_ENOSPC: return "no space left on volume";
    case FAT_EROFS: return "read-only filesystem";
    case FAT_EINVAL: return "invalid argument";
    case FAT_ENAMETOOLONG: return "file name too long";
    case FAT_EBADNAME: return "invalid file name";
    case FAT_EFBIG: return "file too large";
    case FAT_ENOMEM: return "not enough memory given to the volume";
    case FAT_EBADF: return "file not open for that access";
    case FAT_EBUSY: return "file or directory in use";
    case FAT_EMFILE: return "too many open files";
    }
    return "unknown FAT error";
}

void fat_now(uint16_t *date, uint16_t *time)
{
    int64_t t = clock_unix_time();
    if (t < 315532800)   /* before 1980, or unknown: the FAT epoch */
        t = 315532800;
    int64_t y;
    unsigned m, d, s = (unsigned)(t % 86400);
    civil_from_days(t / 86400, &y, &m, &d);
    if (y > 2107) y = 2107;
    *date = (uint16_t)((y - 1980) << 9 | m << 5 | d);
    *time = (uint16_t)((s / 3600) << 11 | (s / 60 % 60) << 5 | (s % 60) / 2);
}

int64_t fat_to_unix(uint16_t date, uint16_t time)
{
    unsigned m = date >> 5 & 15, d = date & 31;
    if (m < 1 || m > 12) m = 1;
    if (d < 1) d = 1;
    return days_from_civil(1980 + (date >> 9), m, d) * 86400 + (time >> 11) * 3600 +
           (time >> 5 & 63) * 60 + (time & 31) * 2;
}

/* FAT blocks go to every copy, so the copies stay identical on disk. */
static int write_hook(void *ctx, uint64_t blk, const void *data, int cls)
{
    struct fat_volume *v = ctx;
    if (cls == BC_FAT && blk >= v->fat_start && blk < (uint64_t)v->fat_start + v->fat_size) {
        for (uint32_t i = 0; i < v->nfats; i++)
            if (bcache_dev_write(&v->cache, blk + (uint64_t)i * v->fat_size, 1, data))
                return BC_EIO;
        return BC_OK;
    }
    return bcache_dev_write(&v->cache, blk, 1, data);
}

static int refuse(struct fat_volume *v, const char *why)
{
    v->reason = why;
    return FAT_EBADFS;
}

static bool pow2(uint32_t x) { return x && !(x & (x - 1)); }

static int parse_bpb(struct fat_volume *v, const uint8_t *b, uint64_t dev_bytes)
{
    if (ld16(b + BS_SIG) != 0xAA55)
        return refuse(v, "no boot-sector signature");
    if (b[BS_JMP] != 0xEB && b[BS_JMP] != 0xE9)
        return refuse(v, "no jump instruction at the start of the boot sector");
    uint32_t bps = ld16(b + BPB_BPS), spc = b[BPB_SPC], rsvd = ld16(b + BPB_RSVD);
    uint32_t nfats = b[BPB_NFATS], rootent = ld16(b + BPB_ROOTENT);
    uint32_t fatsz = ld16(b + BPB_FATSZ16) ? ld16(b + BPB_FATSZ16) : ld32(b + BPB_FATSZ32);
    uint64_t tot = ld16(b + BPB_TOTSEC16) ? ld16(b + BPB_TOTSEC16) : ld32(b + BPB_TOTSEC32);
    if (!pow2(bps) || bps < 512 || bps > 4096)
        return refuse(v, "bytes per sector not a power of two in 512..4096");
    if (bps < v->dev->sector_size)
        return refuse(v, "logical sector smaller than the device sector");
    if (!pow2(spc))
        return refuse(v, "sectors per cluster not a power of two");
    if (rsvd == 0)
        return refuse(v, "no reserved sectors");
    if (nfats < 1 || nfats > 4)
        return refuse(v, "number of FATs not in 1..4");
    if (fatsz == 0)
        return refuse(v, "FAT size is zero");
    if (tot == 0)
        return refuse(v, "total sector count is zero");
    if (tot * bps > dev_bytes)
        return refuse(v, "volume extends past the end of its partition or device (truncated image?)");
    uint64_t rootsecs = ((uint64_t)rootent * DE_SIZE + bps - 1) / bps;
    uint64_t data = rsvd + (uint64_t)nfats * fatsz + rootsecs;
    if (data >= tot)
        return refuse(v, "FATs and root directory larger than the volume");
    uint64_t clusters = (tot - data) / spc;
    if (clusters == 0)
        return refuse(v, "no data clusters");
    v->type = clusters < 4085 ? 12 : clusters < 65525 ? 16 : 32;
    uint32_t bits = v->type == 12 ? 12 : v->type == 16 ? 16 : 32;
    if ((uint64_t)fatsz * bps * 8 / bits < clusters + 2)
        return refuse(v, "FAT too small for the cluster count");
    if (v->type == 32) {
        if (clusters > 0x0FFFFFF5)
            return refuse(v, "too many clusters for FAT32");
        if (rootent != 0 || ld16(b + BPB_FATSZ16) != 0)
            return refuse(v, "FAT32 boot sector with FAT16 root-directory fields");
        if (ld16(b + BPB_FSVER) != 0)
            return refuse(v, "unknown FAT32 version");
    } else if (rootent == 0) {
        return refuse(v, "FAT12/16 volume without root-directory entries");
    }
    v->bps = bps;
    v->spc = spc;
    v->cluster_bytes = bps * spc;
    v->nfats = (uint8_t)nfats;
    v->fat_start = rsvd;
    v->fat_size = fatsz;
    v->root_start = (uint32_t)(rsvd + (uint64_t)nfats * fatsz);
    v->root_entries = rootent;
    v->data_start = (uint32_t)data;
    v->clusters = (uint32_t)clusters;
    v->vol_sectors = tot;
    v->root_cluster = 0;
    const uint8_t *label = b + (v->type == 32 ? BS32_LABEL : BS16_LABEL);
    v->dirty_off = v->type == 32 ? BS32_STATE : BS16_STATE;
    if (v->type == 32) {
        v->root_cluster = ld32(b + BPB_ROOTCLUS);
        if (!clus_ok(v, v->root_cluster))
            return refuse(v, "FAT32 root cluster out of range");
        uint32_t fsi = ld16(b + BPB_FSINFO);
        v->fsinfo_sector = fsi > 0 && fsi < rsvd ? fsi : 0;
    }
    if (b[v->type == 32 ? 66 : 38] == 0x29) {   /* extended boot signature: label valid */
        memcpy(v->label, label, 11);
        int n = 11;
        while (n > 0 && v->label[n - 1] == ' ') n--;
        v->label[n] = 0;
        if (strcmp(v->label, "NO NAME") == 0) v->label[0] = 0;
    }
    return FAT_OK;
}

static int set_state(struct fat_volume *v, bool dirty)
{
    uint8_t *b;
    int err = bcache_get(&v->cache, 0, true, &b);
    if (err)
        return err_from_bc(err);
    b[v->dirty_off] = (uint8_t)(dirty ? b[v->dirty_off] | STATE_DIRTY
                                      : b[v->dirty_off] & ~STATE_DIRTY);
    bcache_dirty(&v->cache, b, BC_DIR);
    return err_from_bc(bcache_sync(&v->cache));
}

int fat_mount(struct fat_volume *v, struct blkdev *dev, uint64_t part_lba,
              uint64_t part_sectors, void *mem, size_t size, unsigned flags)
{
    memset(v, 0, sizeof *v);
    v->dev = dev;
    v->part_lba = part_lba;
    v->rdonly = (flags & FAT_MOUNT_RDONLY) || dev->read_only;
    v->reason = "";
    if (size < 8 * 4096 + 4096)
        return FAT_ENOMEM;
    if (part_lba >= dev->sectors)
        return refuse(v, "partition starts past the end of the device");
    if (part_sectors == 0 || part_sectors > dev->sectors - part_lba)
        part_sectors = dev->sectors - part_lba;
    if (blk_read(dev, part_lba, 1, mem))
        return FAT_EIO;
    int err = parse_bpb(v, mem, part_sectors * dev->sector_size);
    if (err)
        return err;
    /* One eighth of the memory for the name cache, the rest for blocks. */
    size_t nbytes = size / 8 / (4 * sizeof(struct fat_nslot)) * (4 * sizeof(struct fat_nslot));
    uintptr_t np = ((uintptr_t)mem + size - nbytes) & ~(uintptr_t)7;
    v->names = (struct fat_nslot *)np;
    v->nbuckets = (uint32_t)(((uintptr_t)mem + size - np) / (4 * sizeof(struct fat_nslot)));
    memset(v->names, 0, (size_t)v->nbuckets * 4 * sizeof(struct fat_nslot));
    if ((err = bcache_init(&v->cache, dev, part_lba, v->bps, mem, np - (uintptr_t)mem)))
        return err_from_bc(err);
    v->cache.nblocks = v->vol_sectors;
    v->cache.write_hook = write_hook;
    v->cache.hook_ctx = v;
    v->next_free = 2;
    if (v->fsinfo_sector) {
        uint8_t *b;
        if ((err = bcache_get(&v->cache, v->fsinfo_sector, true, &b)))
            return err_from_bc(err);
        if (ld32(b + FSI_LEAD) == FSI_LEAD_SIG && ld32(b + FSI_STRUC) == FSI_STRUC_SIG &&
            clus_ok(v, ld32(b + FSI_NEXT)))
            v->next_free = ld32(b + FSI_NEXT);   /* a hint: allocation checks the FAT anyway */
    }
    if (!v->rdonly && (err = set_state(v, true)))
        return err;
    return FAT_OK;
}

int fat_sync(struct fat_volume *v)
{
    if (v->rdonly)
        return FAT_OK;
    int err = err_from_bc(bcache_sync(&v->cache));
    if (!err && v->npending && !(err = fat_apply_pending(v)))
        err = err_from_bc(bcache_sync(&v->cache));
    if (err || !v->dirty)
        return err;
    if (v->fsinfo_sector) {
        uint8_t *b;
        if (!v->free_known && !(err = fat_count_free(v, &v->free_count)))
            v->free_known = true;
        if (err || (err = err_from_bc(bcache_get(&v->cache, v->fsinfo_sector, true, &b))))
            return err;
        if (ld32(b + FSI_LEAD) == FSI_LEAD_SIG && ld32(b + FSI_STRUC) == FSI_STRUC_SIG) {
            st32(b + FSI_FREE, v->free_count);
            st32(b + FSI_NEXT, v->next_free);
            bcache_dirty(&v->cache, b, BC_DIR);
            if ((err = err_from_bc(bcache_sync(&v->cache))))
                return err;
        }
    }
    v->dirty = false;
    return FAT_OK;
}

int fat_unmount(struct fat_volume *v)
{
    if (v->rdonly)
        return FAT_OK;
    int err = fat_sync(v);
    if (err)
        return err;
    return set_state(v, false);
}

int fat_statfs(struct fat_volume *v, struct fat_statfs *st)
{
    /* Chains detached since the last sync (deleted files) are free space to the user:
     * free them now, in the safe order, so `rm` then `df` shows the space back. */
    if (v->npending && !v->rdonly) {
        int err = fat_sync(v);
        if (err)
            return err;
    }
    if (!v->free_known) {
        int err = fat_count_free(v, &v->free_count);
        if (err)
            return err;
        v->free_known = true;
    }
    st->type = v->type;
    st->cluster_bytes = v->cluster_bytes;
    st->clusters = v->clusters;
    st->free_clusters = v->free_count;
    st->sector_size = v->bps;
    memcpy(st->label, v->label, sizeof st->label);
    return FAT_OK;
}
