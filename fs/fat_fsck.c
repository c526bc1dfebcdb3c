/* Consistency check and repair.
 *
 * Pass 1 compares every FAT copy sector by sector; where they differ, the copy with fewer
 * impossible entries wins (copy 0 on a tie) and, with repair, is written over the others.
 * Pass 2 walks the directory tree from the root with an explicit stack (depth FSCK_DEPTH),
 * following every chain with a bound: it cuts chains at a bad link, at a cluster already
 * used (cross-link or cycle) and past the length the size needs; it fixes sizes larger
 * than the chain and wrong "." / ".." entries.  Used clusters are marked in a bitmap in
 * the caller's scratch memory; when that holds fewer bits than clusters, the tree is
 * walked once per window of clusters.  Pass 3 frees allocated clusters no walk reached
 * (lost chains) and corrects the free count.  Every finding is reported. */
#include "fs/fat_int.h"
#include <stdio.h>

enum { FSCK_DEPTH = 64 };

struct fsck {
    struct fat_volume *v;
    bool repair;
    fat_report_fn report;
    void *ctx;
    uint32_t problems;
    uint8_t *bits;
    uint32_t lo, n;       /* bitmap window: clusters [lo, lo + n) */
    bool first_pass;      /* report and repair per-entry problems only once */
    uint32_t visited;     /* directories walked this pass: bounds loops the bitmap misses */
};

__attribute__((format(printf, 2, 3))) static void note(struct fsck *k, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    k->problems++;
    if (k->report)
        k->report(k->ctx, msg);
}

/* Marks C; false if it was already marked (so it is shared). */
static bool mark(struct fsck *k, uint32_t c)
{
    if (c < k->lo || c - k->lo >= k->n)
        return true;
    uint32_t i = c - k->lo;
    if (k->bits[i / 8] & (1 << (i % 8)))
        return false;
    k->bits[i / 8] |= (uint8_t)(1 << (i % 8));
    return true;
}

static bool marked(const struct fsck *k, uint32_t c)
{
    uint32_t i = c - k->lo;
    return k->bits[i / 8] & (1 << (i % 8));
}

static bool plausible(const struct fat_volume *v, uint32_t val)
{
    uint32_t bad = v->type == 32 ? 0x0FFFFFF7 : v->type == 16 ? 0xFFF7 : 0xFF7;
    return val == 0 || clus_ok(v, val) || val >= bad;
}

static int check_copies(struct fsck *k, uint8_t *a, uint8_t *b)
{
    struct fat_volume *v = k->v;
    struct bcache *bc = &v->cache;
    for (uint32_t s = 0; s < v->fat_size; s++) {
        if (bcache_dev_read(bc, v->fat_start + s, 1, a))
            return FAT_EIO;
        for (uint32_t i = 1; i < v->nfats; i++) {
            uint64_t si = v->fat_start + (uint64_t)i * v->fat_size + s;
            if (bcache_dev_read(bc, si, 1, b))
                return FAT_EIO;
            if (memcmp(a, b, v->bps) == 0)
                continue;
            uint32_t bad_a = 0, bad_b = 0, w = v->type == 32 ? 4 : 2;
            if (v->type != 12) {
                for (uint32_t o = 0; o < v->bps; o += w) {
                    uint32_t c = (s * v->bps + o) / w;
                    if (c < 2 || c >= v->clusters + 2) continue;
                    uint32_t va = w == 4 ? ld32(a + o) & 0x0FFFFFFF : ld16(a + o);
                    uint32_t vb = w == 4 ? ld32(b + o) & 0x0FFFFFFF : ld16(b + o);
                    bad_a += !plausible(v, va);
                    bad_b += !plausible(v, vb);
                }
            }
            bool use_b = bad_b < bad_a;
            note(k, "FAT copies 1 and %u differ in sector %u%s: copy %u is taken as good", i + 1,
                 s, k->repair ? ", repaired" : "", use_b ? i + 1 : 1);
            if (!k->repair)
                continue;
            const uint8_t *good = use_b ? b : a;
            for (uint32_t j = 0; j < v->nfats; j++) {
                uint64_t sj = v->fat_start + (uint64_t)j * v->fat_size + s;
                bcache_drop_range(bc, sj, 1);
                if (bcache_dev_write(bc, sj, 1, good))
                    return FAT_EIO;
            }
            if (use_b)
                memcpy(a, b, v->bps);
        }
    }
    return FAT_OK;
}

/* Follows the chain of the entry at (DIR, IDX) named NAME, cutting it where it goes wrong,
 * and returns in *COUNT the clusters it keeps. */
static int walk_chain(struct fsck *k, const char *name, uint32_t first, uint32_t limit,
                      uint32_t *count, bool *cut_first)
{
    struct fat_volume *v = k->v;
    uint32_t c = first, prev = 0, n = 0;
    *cut_first = false;
    if (limit > v->clusters)
        limit = v->clusters;   /* no chain is longer than the volume: ends cycles too */
    while (c) {
        const char *why = NULL;
        if (!clus_ok(v, c))
            why = "points outside the data area";
        else if (n >= limit)
            why = "is longer than its size needs";
        else if (!mark(k, c))
            why = "shares a cluster with another chain (cross-link or cycle)";
        uint32_t next = 0;
        int err = FAT_OK;
        if (!why) {
            uint32_t val;
            if ((err = fat_get(v, c, &val)))
                return err;
            if (val == 0)
                why = "runs into a free cluster";
            else if (!fat_is_eoc(v, val) && !clus_ok(v, val))
                why = "has an invalid link";
            else if (!fat_is_eoc(v, val))
                next = val;
            if (why) {   /* C itself is fine; the link after it is not */
                n++;
                if (k->first_pass || !k->repair)
                    note(k, "%s: chain %s at cluster %u%s", name, why, c, k->repair ? ", cut" : "");
                if (k->repair && (err = fat_set(v, c, FAT_EOC)))
                    return err;
                break;
            }
            n++;
            prev = c;
            c = next;
            continue;
        }
        if (k->first_pass || strstr(why, "shares"))
            note(k, "%s: chain %s at cluster %u%s", name, why, c, k->repair ? ", cut" : "");
        *cut_first = prev == 0;
        if (k->repair && prev && (err = fat_set(v, prev, FAT_EOC)))
            return err;
        break;
    }
    *count = n;
    return FAT_OK;
}

static int check_dir(struct fsck *k, uint32_t dir, uint32_t parent, uint32_t *stack,
                     uint32_t *depth)
{
    struct fat_volume *v = k->v;
    struct fat_dir d;
    struct fat_dirent e;
    int err;
    dir_iter(v, &d, dir);
    while ((err = dir_next(&d, &e)) == FAT_OK) {
        bool dot = strcmp(e.short_name, ".") == 0, dotdot = strcmp(e.short_name, "..") == 0;
        if (dot || dotdot) {
            uint32_t want = dot ? dir : parent == root_dir(v) ? 0 : parent;
            if (dir != root_dir(v) && e.first != want && k->first_pass) {
                note(k, "directory at cluster %u: bad \"%s\" entry (cluster %u, should be %u)%s",
                     dir, e.short_name, e.first, want, k->repair ? ", fixed" : "");
                if (k->repair && (err = dir_update(v, dir, e.idx, want, 0, false)))
                    return err;
            }
            continue;
        }
        bool is_dir = e.attr & FAT_ATTR_DIR;
        uint32_t cb = v->cluster_bytes;
        uint32_t need = is_dir ? UINT32_MAX : (uint32_t)(((uint64_t)e.size + cb - 1) / cb);
        uint32_t count;
        bool cut_first;
        if (is_dir && e.first == 0) {
            if (k->first_pass)
                note(k, "%s: directory without a cluster%s", e.name, k->repair ? ", removed" : "");
            if (k->repair && (err = dir_remove(v, dir, &e)))
                return err;
            continue;
        }
        if ((err = walk_chain(k, e.name, e.first, need, &count, &cut_first)))
            return err;
        uint32_t first = cut_first ? 0 : e.first;
        if (is_dir) {
            if (cut_first) {
                if (k->repair && (err = dir_remove(v, dir, &e)))
                    return err;
                continue;
            }
            if (*depth < FSCK_DEPTH) {
                stack[2 * *depth] = e.first;
                stack[2 * *depth + 1] = dir;
                ++*depth;
            } else if (k->first_pass) {
                note(k, "%s: directory nesting deeper than %d, not checked", e.name, FSCK_DEPTH);
            }
            continue;
        }
        if (cut_first)
            count = 0;
        if ((uint64_t)count * cb < e.size || first != e.first) {
            uint32_t size = (uint64_t)count * cb < e.size ? count * cb : e.size;
            if (k->first_pass)
                note(k, "%s: size %u but chain holds %u bytes%s", e.name, e.size, count * cb,
                     k->repair ? ", size corrected" : "");
            if (k->repair && (err = dir_update(v, dir, e.idx, first, size, false)))
                return err;
        }
    }
    return err == FAT_ENOENT ? FAT_OK : err;
}

static int walk_tree(struct fsck *k)
{
    struct fat_volume *v = k->v;
    uint32_t stack[2 * FSCK_DEPTH], depth = 0;
    if (v->root_cluster) {
        uint32_t count;
        bool cut;
        int err = walk_chain(k, "/", v->root_cluster, UINT32_MAX, &count, &cut);
        if (err)
            return err;
    }
    int err = check_dir(k, root_dir(v), root_dir(v), stack, &depth);
    k->visited = 0;
    while (!err && depth && ++k->visited <= v->clusters) {
        depth--;
        uint32_t dir = stack[2 * depth], parent = stack[2 * depth + 1];
        /* Children were pushed above; check_dir pushes grandchildren the same way. */
        err = check_dir(k, dir, parent, stack, &depth);
    }
    return err;
}

int fat_fsck(struct fat_volume *v, bool repair, void *scratch, size_t scratch_size,
             fat_report_fn report, void *ctx, uint32_t *problems)
{
    struct fsck k = { .v = v, .repair = repair && !v->rdonly, .report = report, .ctx = ctx };
    if (repair && v->rdonly)
        return FAT_EROFS;
    uint8_t *mem = (uint8_t *)(((uintptr_t)scratch + 7) & ~(uintptr_t)7);
    size_t avail = scratch_size - (size_t)(mem - (uint8_t *)scratch);
    if (scratch_size < 64 + 2 * (size_t)v->bps + 8 || avail < 2 * (size_t)v->bps + 64)
        return FAT_ENOMEM;
    int err = fat_sync(v);
    if (err)
        return err;
    if ((err = check_copies(&k, mem, mem + v->bps)))
        return err;
    if (k.repair && (err = fat_sync(v)))
        return err;
    k.bits = mem + 2 * v->bps;
    size_t bitmap = avail - 2 * v->bps;
    uint64_t window = bitmap * 8 < v->clusters ? bitmap * 8 : v->clusters;
    uint32_t lost = 0, free_count = 0;
    k.first_pass = true;
    for (uint64_t lo = 2; lo < (uint64_t)v->clusters + 2; lo += window) {
        k.lo = (uint32_t)lo;
        k.n = (uint32_t)window;
        memset(k.bits, 0, (k.n + 7) / 8);
        if ((err = walk_tree(&k)))
            return err;
        k.first_pass = false;
        for (uint32_t c = k.lo; c - k.lo < k.n && c < v->clusters + 2; c++) {
            uint32_t val;
            if ((err = fat_get(v, c, &val)))
                return err;
            uint32_t bad = v->type == 32 ? 0x0FFFFFF7 : v->type == 16 ? 0xFFF7 : 0xFF7;
            if (val == 0) {
                free_count++;
            } else if (val != bad && !marked(&k, c)) {
                lost++;
                if (k.repair) {
                    if ((err = fat_set(v, c, 0)))
                        return err;
                    free_count++;
                }
            }
        }
    }
    if (lost)
        note(&k, "%u lost cluster(s) in no file%s", lost, k.repair ? ", freed" : "");
    v->free_count = free_count;
    v->free_known = true;
    if (k.repair) {
        v->dirty = true;
        names_reset(v);
        if ((err = fat_sync(v)))
            return err;
    }
    if (problems)
        *problems = k.problems;
    return FAT_OK;
}
