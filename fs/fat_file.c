/* Files: open/read/write/seek/truncate/close over a cluster chain.
 *
 * Transfers go to the device as one request per run of contiguous clusters (whole sectors
 * bypass the block cache; only partial sectors go through it).  Each open file keeps up
 * to FAT_RUNS runs it has learned of the chain, so a seek anywhere costs no FAT reads once
 * the run is known, and a walk resumes from the nearest known run instead of the start.
 * Growth allocates next to the previous cluster, so files written sequentially stay
 * contiguous.  Invariant: pos and size fit in 32 bits; the chain holds at least
 * ceil(size / cluster) clusters, or reads report FAT_ECORRUPT. */
#include "fs/fat_int.h"

#define F_MODIFIED 0x80000000u   /* private flag: data changed, touch mtime on close */

static void run_put(struct fat_file *f, struct fat_run r)
{
    for (uint32_t i = 0; i < f->nruns; i++) {
        if (f->runs[i].lc == r.lc) {
            f->runs[i] = r;
            return;
        }
    }
    if (f->nruns < FAT_RUNS)
        f->runs[f->nruns++] = r;
    else
        f->runs[1 + f->run_next++ % (FAT_RUNS - 1)] = r;   /* keep the chain's head */
}

/* Finds file cluster LC: disk cluster *PC and how many clusters from it are contiguous
 * (at least up to WANT when the chain allows).  With ALLOC the chain grows as needed;
 * without, a chain that ends before LC gives FAT_ENOENT. */
static int file_map(struct fat_file *f, uint32_t lc, uint32_t want, bool alloc, uint32_t *pc,
                    uint32_t *contig)
{
    struct fat_volume *v = f->vol;
    int err;
    for (uint32_t i = 0; i < f->nruns; i++) {
        struct fat_run *r = &f->runs[i];
        if (lc >= r->lc && lc - r->lc < r->len && r->len - (lc - r->lc) >= want) {
            *pc = r->pc + (lc - r->lc);
            *contig = r->len - (lc - r->lc);
            return FAT_OK;
        }
    }
    struct fat_run run = { 0, 0, 0 };
    for (uint32_t i = 0; i < f->nruns; i++) {   /* resume from the best known run */
        struct fat_run *r = &f->runs[i];
        if (r->lc <= lc && (!run.len || r->lc + r->len > run.lc + run.len))
            run = *r;
    }
    if (!run.len) {
        if (!f->first) {
            if (!alloc)
                return FAT_ENOENT;
            if ((err = fat_alloc(v, 0, 0, &f->first)))
                return err;
            f->meta_dirty = true;
        }
        if (!clus_ok(v, f->first))
            return FAT_ECORRUPT;
        run = (struct fat_run){ 0, f->first, 1 };
    }
    /* Walk until LC is inside the run and the run covers WANT clusters from it, or the
     * chain turns away.  Bounded: a chain longer than the volume is corrupt, and Brent's
     * method (a cluster saved at power-of-two steps) catches a cycle within a few laps. */
    uint32_t saved = 0, lap = 1, steps = 0;
    for (;;) {
        uint32_t end_lc = run.lc + run.len - 1, end_pc = run.pc + run.len - 1;
        if (end_lc >= lc && end_lc - lc + 1 >= want)
            break;
        if (end_lc > v->clusters)
            return FAT_ECORRUPT;
        uint32_t next;
        if ((err = fat_next(v, end_pc, &next)))
            return err;
        if (!next) {
            if (!alloc) {
                if (end_lc >= lc)
                    break;
                run_put(f, run);
                return FAT_ENOENT;
            }
            /* A full volume: hand back what covers LC, so the caller writes what fits
             * instead of leaving clusters past the file's size. */
            if ((err = fat_alloc(v, end_pc + 1, end_pc, &next))) {
                if (err != FAT_ENOSPC || end_lc < lc)
                    return err;
                break;
            }
        }
        if (next == saved)
            return FAT_ECORRUPT;
        if (++steps == lap) {
            saved = next;
            lap <<= 1;
            steps = 0;
        }
        if (next == end_pc + 1) {
            run.len++;
        } else if (end_lc >= lc) {
            break;   /* the run containing LC ends here */
        } else {
            run_put(f, run);
            run = (struct fat_run){ end_lc + 1, next, 1 };
        }
    }
    run_put(f, run);
    *pc = run.pc + (lc - run.lc);
    *contig = run.len - (lc - run.lc);
    return FAT_OK;
}

enum { DIRECT_ALIGN = 4 };   /* buffer alignment every provider accepts (NVMe PRP: dword) */

/* Moves N bytes between BUF and the file at f->pos (ZERO: write zeros, BUF unused). */
static int transfer(struct fat_file *f, uint8_t *buf, uint32_t n, bool write, bool zero)
{
    struct fat_volume *v = f->vol;
    struct bcache *bc = &v->cache;
    while (n) {
        uint32_t cb = v->cluster_bytes, lc = f->pos / cb, coff = f->pos % cb;
        uint32_t want = (uint32_t)(((uint64_t)coff + n + cb - 1) / cb), pc, contig;
        int err = file_map(f, lc, want, write, &pc, &contig);
        if (err)
            return err == FAT_ENOENT ? FAT_ECORRUPT : err;
        uint64_t avail = (uint64_t)contig * cb - coff;
        uint32_t chunk = avail < n ? (uint32_t)avail : n;
        uint32_t sec = clus_sector(v, pc) + coff / v->bps, soff = coff % v->bps, k;
        /* Direct transfers need a buffer the device can take (blkdev.h: BLK_EINVAL for
         * an unaligned one); otherwise go through the cache a sector at a time. */
        if (soff || chunk < v->bps || ((uintptr_t)buf & (DIRECT_ALIGN - 1))) {
            k = v->bps - soff < chunk ? v->bps - soff : chunk;
            uint8_t *b;
            /* Old bytes matter only if part of the sector lies inside the file. */
            bool fill = !write || f->pos - soff < f->size;
            if ((err = err_from_bc(bcache_get(bc, sec, fill, &b))))
                return err;
            if (write && !fill)
                memset(b, 0, v->bps);
            if (!write)
                memcpy(buf, b + soff, k);
            else if (zero)
                memset(b + soff, 0, k);
            else
                memcpy(b + soff, buf, k);
            if (write)
                bcache_dirty(bc, b, BC_DATA);
        } else {
            k = chunk / v->bps * v->bps;
            uint32_t ns = k / v->bps;
            if (!write) {
                err = bcache_writeback_range(bc, sec, ns);
                if (!err)
                    err = bcache_dev_read(bc, sec, ns, buf);
            } else if (zero) {
                err = bcache_zero_range(bc, sec, ns);
            } else {
                bcache_drop_range(bc, sec, ns);
                err = bcache_dev_write(bc, sec, ns, buf);
                bcache_note_direct(bc);
            }
            if ((err = err_from_bc(err)))
                return err;
        }
        f->pos += k;
        n -= k;
        if (!zero)
            buf += k;
        if (write && f->pos > f->size) {
            f->size = f->pos;
            f->meta_dirty = true;
        }
    }
    return FAT_OK;
}

static int update_entry(struct fat_file *f, bool touch)
{
    int err = dir_update(f->vol, f->dir, f->idx, f->first, f->size, touch);
    if (!err)
        f->meta_dirty = false;
    return err;
}

struct fat_open *open_find(struct fat_volume *v, uint32_t dir, uint32_t idx)
{
    for (uint32_t i = 0; i < FAT_OPEN_MAX; i++) {
        struct fat_open *o = &v->open[i];
        if ((o->readers || o->writers) && o->dir == dir && o->idx == idx)
            return o;
    }
    return NULL;
}

void fat_forget_open(struct fat_volume *v) { memset(v->open, 0, sizeof v->open); }

static struct fat_open *open_free(struct fat_volume *v)
{
    for (uint32_t i = 0; i < FAT_OPEN_MAX; i++)
        if (!v->open[i].readers && !v->open[i].writers)
            return &v->open[i];
    return NULL;
}

static void open_release(struct fat_file *f)
{
    struct fat_open *o = open_find(f->vol, f->dir, f->idx);
    if (o && (f->flags & FAT_O_WRITE))
        o->writers--;
    else if (o)
        o->readers--;
}

int fat_open(struct fat_volume *v, struct fat_file *f, const char *path, unsigned flags)
{
    struct fat_dirent ent;
    uint32_t parent;
    memset(f, 0, sizeof *f);
    if (!(flags & (FAT_O_READ | FAT_O_WRITE)))
        flags |= FAT_O_READ;
    if ((flags & (FAT_O_CREATE | FAT_O_TRUNC | FAT_O_APPEND)) && !(flags & FAT_O_WRITE))
        return FAT_EINVAL;
    if ((flags & FAT_O_WRITE) && v->rdonly)
        return FAT_EROFS;
    int err = path_resolve(v, path, &ent, &parent);
    if (err == FAT_ENOENT && (flags & FAT_O_CREATE)) {
        const char *name;
        size_t len;
        if ((err = path_parent(v, path, &parent, &name, &len)))
            return err;
        if (!open_free(v))
            return FAT_EMFILE;   /* before the entry exists, so a refusal creates nothing */
        if ((err = dir_add(v, parent, name, len, FAT_ATTR_ARCHIVE, 0, 0, &ent)))
            return err;
    } else if (err) {
        return err;
    } else if ((flags & FAT_O_CREATE) && (flags & FAT_O_EXCL)) {
        return FAT_EEXIST;
    }
    if ((ent.attr & FAT_ATTR_DIR) || ent.idx == UINT32_MAX)
        return FAT_EISDIR;
    if (parent == UINT32_MAX)
        return FAT_EINVAL;
    if (ent.first && !clus_ok(v, ent.first))
        return FAT_ECORRUPT;
    /* Two writers would each write their own size and chain into the one entry on close,
     * and the last would orphan the other's clusters. */
    struct fat_open *o = open_find(v, parent, ent.idx);
    if (o && o->writers && (flags & FAT_O_WRITE))
        return FAT_EBUSY;
    if (!o && !(o = open_free(v)))
        return FAT_EMFILE;
    o->dir = parent;
    o->idx = ent.idx;
    if (flags & FAT_O_WRITE)
        o->writers++;
    else
        o->readers++;
    f->vol = v;
    f->first = ent.first;
    f->size = ent.size;
    f->flags = flags;
    f->dir = parent;
    f->idx = ent.idx;
    if ((flags & FAT_O_TRUNC) && (f->size || f->first) && (err = fat_truncate(f, 0))) {
        open_release(f);
        f->vol = NULL;
    }
    return err;
}

int fat_read(struct fat_file *f, void *buf, uint32_t n, uint32_t *got)
{
    *got = 0;
    if (!f->vol || !(f->flags & FAT_O_READ))
        return FAT_EBADF;
    if (f->pos >= f->size)
        return FAT_OK;
    if (n > f->size - f->pos)
        n = f->size - f->pos;
    uint32_t start = f->pos;
    int err = transfer(f, buf, n, false, false);
    *got = f->pos - start;
    return err;
}

int fat_write(struct fat_file *f, const void *buf, uint32_t n)
{
    if (!f->vol || !(f->flags & FAT_O_WRITE))
        return FAT_EBADF;
    if (n == 0)
        return FAT_OK;   /* as write(2): no effect, not even filling a gap past the end */
    if (f->flags & FAT_O_APPEND)
        f->pos = f->size;
    if ((uint64_t)f->pos + n > 0xFFFFFFFFu)
        return FAT_EFBIG;
    int err = FAT_OK;
    uint32_t from = f->pos < f->size ? f->pos : f->size;   /* changed span starts here */
    if (f->pos > f->size) {   /* a gap after a seek past the end reads as zeros */
        uint32_t pos = f->pos;
        f->pos = f->size;
        err = transfer(f, NULL, pos - f->size, true, true);
        f->pos = pos;
    }
    if (!err && n)
        err = transfer(f, (uint8_t *)buf, n, true, false);
    f->meta_dirty = true;
    f->flags |= F_MODIFIED;   /* modified: touch mtime on close */
    if (f->pos > from)
        fat_notify(f->vol, FAT_CHANGE_DATA, f->dir, f->idx, from, f->pos - from);
    return err;
}

int fat_seek(struct fat_file *f, uint32_t pos)
{
    if (!f->vol)
        return FAT_EBADF;
    f->pos = pos;
    return FAT_OK;
}

int fat_truncate(struct fat_file *f, uint32_t size)
{
    struct fat_volume *v = f->vol;
    if (!v || !(f->flags & FAT_O_WRITE))
        return FAT_EBADF;
    int err = FAT_OK;
    uint32_t old_size = f->size;
    if (size > f->size) {
        uint32_t pos = f->pos;
        f->pos = f->size;
        err = transfer(f, NULL, size - f->size, true, true);
        f->pos = pos;
    } else if (size < f->size || f->first) {
        uint32_t keep = (uint32_t)(((uint64_t)size + v->cluster_bytes - 1) / v->cluster_bytes);
        uint32_t tail = 0;
        if (keep == 0) {
            tail = f->first;
            f->first = 0;
        } else {
            uint32_t pc, contig;
            if ((err = file_map(f, keep - 1, 1, false, &pc, &contig)) ||
                (err = fat_next(v, pc, &tail)))
                return err == FAT_ENOENT ? FAT_ECORRUPT : err;
            if (tail && (err = fat_set(v, pc, FAT_EOC)))
                return err;
        }
        f->size = size;
        f->nruns = 0;
        /* The entry must name the shorter chain before the tail may be freed. */
        if ((err = update_entry(f, true)))
            return err;
        err = fat_defer_free(v, tail);
    }
    f->size = size;
    f->meta_dirty = true;
    f->flags |= F_MODIFIED;
    if (size != old_size)
        fat_notify(v, FAT_CHANGE_DATA, f->dir, f->idx, size < old_size ? size : old_size,
                   size < old_size ? old_size - size : size - old_size);
    return err;
}

int fat_close(struct fat_file *f)
{
    int err = FAT_OK;
    if (f->vol && f->meta_dirty)
        err = update_entry(f, (f->flags & F_MODIFIED) != 0);
    if (f->vol)
        open_release(f);
    f->vol = NULL;
    return err;
}

int fat_fsync(struct fat_file *f)
{
    if (!f->vol)
        return FAT_EBADF;
    int err = f->meta_dirty ? update_entry(f, (f->flags & F_MODIFIED) != 0) : FAT_OK;
    return err ? err : fat_sync(f->vol);
}
