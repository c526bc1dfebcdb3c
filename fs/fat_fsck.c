/* Consistency check and repair.
 *
 * Pass 1 compares every FAT copy sector by sector; where they differ, the copy with fewer
 * impossible entries wins (copy 0 on a tie) and, with repair, is written over the others.
 *
 * Pass 2 walks the directory tree depth first, keeping only the current path (one
 * directory iterator per level, FSCK_DEPTH levels, in the caller's scratch memory), so a
 * directory may hold any number of subdirectories.  It follows every chain with a bound:
 * it cuts chains at a bad link, at a cluster already used (cross-link or cycle) and past
 * the length the size needs; it fixes sizes larger than the chain and wrong "." / ".."
 * entries, and drops directory entries that point at one of their own ancestors.  Used
 * clusters are marked in a bitmap in the scratch memory; when that holds fewer bits than
 * clusters, the tree is walked once per window of clusters.
 *
 * Pass 3 finds allocated clusters no walk reached: lost chains.  Repair never frees them
 * (they may be all that is left of a file): each is saved as FSCKnnnn.REC in the root
 * directory, as fsck.fat does, from its head - a lost cluster no other lost cluster links
 * to - so a chain is saved whole; lost cycles, which have no head, are cut where they are
 * entered.  Finding heads needs a second bitmap of the whole volume; with less scratch
 * memory than that, or when part of the tree could not be walked (so "lost" may not be
 * lost), lost clusters are reported and left in place.  Every finding is reported. */
#include "fs/fat_int.h"
#include <stdio.h>

enum { FSCK_DEPTH = 256, REC_MAX = 10000 };

struct level {                /* one directory on the current path */
    struct fat_dir d;         /* iterator, resumed after a subdirectory is done */
    uint32_t parent;
};

struct fsck {
    struct fat_volume *v;
    bool repair;
    fat_report_fn report;
    void *ctx;
    uint32_t problems;
    struct level *path;       /* FSCK_DEPTH levels */
    uint8_t *bits;            /* used clusters of the window */
    uint8_t *pred;            /* whole-volume window only: lost clusters with a lost predecessor */
    uint32_t lo, n;           /* bitmap window: clusters [lo, lo + n) */
    bool first_pass;          /* report and repair per-entry problems only once */
    bool incomplete;          /* some directory was not walked: unreached is not lost */
    uint32_t visited;         /* directories walked this pass: bounds what the bitmap misses */
    uint32_t rec_next;        /* next FSCKnnnn.REC number to try */
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

static bool bit_test(const uint8_t *bits, uint32_t i) { return bits[i / 8] & (1 << (i % 8)); }
static void bit_set(uint8_t *bits, uint32_t i) { bits[i / 8] |= (uint8_t)(1 << (i % 8)); }

/* Marks C; false if it was already marked (so it is shared). */
static bool mark(struct fsck *k, uint32_t c)
{
    if (c < k->lo || c - k->lo >= k->n)
        return true;
    if (bit_test(k->bits, c - k->lo))
        return false;
    bit_set(k->bits, c - k->lo);
    return true;
}

static bool marked(const struct fsck *k, uint32_t c) { return bit_test(k->bits, c - k->lo); }

static uint32_t bad_mark(const struct fat_volume *v)
{
    return v->type == 32 ? 0x0FFFFFF7 : v->type == 16 ? 0xFFF7 : 0xFF7;
}

static bool plausible(const struct fat_volume *v, uint32_t val)
{
    return val == 0 || clus_ok(v, val) || val >= bad_mark(v);
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

/* Follows the chain of the entry named NAME from FIRST, cutting it where it goes wrong,
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

/* Checks entry E of the directory at path level L; *CHILD is set to a subdirectory to
 * walk next (0 if none). */
static int check_entry(struct fsck *k, uint32_t depth, struct fat_dirent *e, uint32_t *child)
{
    struct fat_volume *v = k->v;
    uint32_t dir = k->path[depth].d.first, parent = k->path[depth].parent;
    int err;
    *child = 0;
    if (!strcmp(e->short_name, ".") || !strcmp(e->short_name, "..")) {
        bool dot = e->short_name[1] == 0;
        uint32_t want = dot ? dir : parent == root_dir(v) ? 0 : parent;
        if (dir != root_dir(v) && e->first != want && k->first_pass) {
            note(k, "directory at cluster %u: bad \"%s\" entry (cluster %u, should be %u)%s",
                 dir, e->short_name, e->first, want, k->repair ? ", fixed" : "");
            if (k->repair && (err = dir_update(v, dir, e->idx, want, 0, false)))
                return err;
        }
        return FAT_OK;
    }
    bool is_dir = e->attr & FAT_ATTR_DIR;
    if (is_dir && e->first == 0) {
        if (k->first_pass)
            note(k, "%s: directory without a cluster%s", e->name, k->repair ? ", removed" : "");
        return k->repair ? dir_remove(v, dir, e) : FAT_OK;
    }
    if (is_dir) {
        /* An entry naming a directory on the path above it would make the walk endless;
         * the bitmap catches that only inside its window, this check everywhere. */
        for (uint32_t i = 0; i <= depth; i++) {
            if (k->path[i].d.first != e->first)
                continue;
            if (k->first_pass)
                note(k, "%s: entry points at its own ancestor directory (cluster %u)%s",
                     e->name, e->first, k->repair ? ", removed" : "");
            return k->repair ? dir_remove(v, dir, e) : FAT_OK;
        }
    }
    uint32_t cb = v->cluster_bytes;
    uint32_t need = is_dir ? UINT32_MAX : (uint32_t)(((uint64_t)e->size + cb - 1) / cb);
    uint32_t count;
    bool cut_first;
    if ((err = walk_chain(k, e->name, e->first, need, &count, &cut_first)))
        return err;
    if (is_dir) {
        if (cut_first)
            return k->repair ? dir_remove(v, dir, e) : FAT_OK;
        *child = e->first;
        return FAT_OK;
    }
    uint32_t first = cut_first ? 0 : e->first;
    if (cut_first)
        count = 0;
    if ((uint64_t)count * cb < e->size || first != e->first) {
        uint32_t size = (uint64_t)count * cb < e->size ? count * cb : e->size;
        if (k->first_pass)
            note(k, "%s: size %u but chain holds %u bytes%s", e->name, e->size, count * cb,
                 k->repair ? ", size corrected" : "");
        if (k->repair && (err = dir_update(v, dir, e->idx, first, size, false)))
            return err;
    }
    return FAT_OK;
}

static int walk_tree(struct fsck *k)
{
    struct fat_volume *v = k->v;
    int err;
    if (v->root_cluster) {
        uint32_t count;
        bool cut;
        if ((err = walk_chain(k, "/", v->root_cluster, UINT32_MAX, &count, &cut)))
            return err;
    }
    uint32_t depth = 0;
    dir_iter(v, &k->path[0].d, root_dir(v));
    k->path[0].parent = root_dir(v);
    k->visited = 0;
    for (;;) {
        struct fat_dirent e;
        err = dir_next(&k->path[depth].d, &e);
        if (err == FAT_ENOENT) {
            if (depth-- == 0)
                return FAT_OK;
            continue;
        }
        uint32_t child;
        if (err || (err = check_entry(k, depth, &e, &child)))
            return err;
        if (!child)
            continue;
        if (depth + 1 == FSCK_DEPTH || ++k->visited > v->clusters) {
            if (k->first_pass)
                note(k, "%s: %s, not checked", e.name, depth + 1 == FSCK_DEPTH ?
                     "directories nested too deep" : "more directories than clusters");
            k->incomplete = true;
            continue;
        }
        depth++;
        dir_iter(v, &k->path[depth].d, child);
        k->path[depth].parent = k->path[depth - 1].d.first;
    }
}

/* The first free FSCKnnnn.REC name in the root. */
static int rec_name(struct fsck *k, char name[16])
{
    struct fat_dirent tmp;
    for (; k->rec_next < REC_MAX; k->rec_next++) {
        snprintf(name, 16, "FSCK%04u.REC", (unsigned)k->rec_next);
        int err = dir_lookup(k->v, root_dir(k->v), name, 12, &tmp);
        if (err == FAT_ENOENT)
            return FAT_OK;
        if (err)
            return err;
    }
    return FAT_ENOSPC;
}

/* Saves the lost chain from HEAD as a file in the root: follows it, marking each cluster,
 * until its end or a link that leaves the lost clusters (to a used, claimed, free, bad or
 * impossible cluster), which is cut; then writes the directory entry.  The cut reaches the
 * FAT before the entry names the chain (the cache writes FAT sectors first). */
static int save_chain(struct fsck *k, uint32_t head, uint32_t *count)
{
    struct fat_volume *v = k->v;
    uint32_t c = head, n = 1, max = UINT32_MAX / v->cluster_bytes;
    bool cut = false;
    mark(k, head);
    for (;;) {
        uint32_t val, nv;
        int err = fat_get(v, c, &val);
        if (err)
            return err;
        if (fat_is_eoc(v, val))
            break;
        cut = n == max || !clus_ok(v, val) || marked(k, val);
        if (!cut) {
            if ((err = fat_get(v, val, &nv)))
                return err;
            cut = nv == 0 || nv == bad_mark(v);
        }
        if (cut)
            break;
        mark(k, val);
        c = val;
        n++;
    }
    *count = n;
    char name[16];
    struct fat_dirent ent;
    int err = rec_name(k, name);
    if (!err && cut)
        err = fat_set(v, c, FAT_EOC);
    if (!err)
        err = dir_add(v, root_dir(v), name, 12, FAT_ATTR_ARCHIVE, head, n * v->cluster_bytes, &ent);
    if (err)
        return err;
    note(k, "lost chain of %u cluster(s) from cluster %u saved as /%s", n, head, name);
    /* Growing the root allocates clusters this pass must not take for lost ones. */
    for (uint32_t r = v->root_cluster, i = 0; r && i < v->clusters; i++) {
        mark(k, r);
        if ((err = fat_next(v, r, &r)))
            return err;
    }
    return FAT_OK;
}

/* Saves every lost chain: first from each head, then what is left (lost cycles). */
static int salvage(struct fsck *k, uint32_t *left)
{
    struct fat_volume *v = k->v;
    uint32_t bad = bad_mark(v);
    memset(k->pred, 0, (k->n + 7) / 8);
    for (uint32_t c = 2; c < v->clusters + 2; c++) {
        uint32_t val;
        int err = fat_get(v, c, &val);
        if (err)
            return err;
        /* Repair cut every used chain at a link it did not follow, so whatever links to
         * an unreached cluster is itself lost. */
        if (clus_ok(v, val) && !marked(k, val))
            bit_set(k->pred, val - k->lo);
    }
    bool full = false;   /* the root is full (or out of names): keep the rest as they are */
    *left = 0;
    for (int round = 0; round < 2; round++) {
        for (uint32_t c = 2; c < v->clusters + 2; c++) {
            uint32_t val, n = 0;
            int err = fat_get(v, c, &val);
            if (err)
                return err;
            if (val == 0 || val == bad || marked(k, c) || (round == 0 && bit_test(k->pred, c - k->lo)))
                continue;
            if (!full) {
                if ((err = save_chain(k, c, &n)) == FAT_OK)
                    continue;
                if (err != FAT_ENOSPC)
                    return err;
                full = true;
                *left += n;   /* followed and marked, but not saved */
                continue;
            }
            *left += round == 1;
        }
    }
    return FAT_OK;
}

size_t fat_fsck_scratch(const struct fat_volume *v)
{
    return 8 + 2 * (size_t)v->bps + FSCK_DEPTH * sizeof(struct level) +
           2 * (((size_t)v->clusters + 7) / 8 + 8);
}

int fat_fsck(struct fat_volume *v, bool repair, void *scratch, size_t scratch_size,
             fat_report_fn report, void *ctx, uint32_t *problems)
{
    struct fsck k = { .v = v, .repair = repair && !v->rdonly, .report = report, .ctx = ctx };
    if (repair && v->rdonly)
        return FAT_EROFS;
    uint8_t *mem = (uint8_t *)(((uintptr_t)scratch + 7) & ~(uintptr_t)7);
    size_t fixed = 2 * (size_t)v->bps + FSCK_DEPTH * sizeof(struct level);
    if (scratch_size < (size_t)(mem - (uint8_t *)scratch) + fixed + 8)
        return FAT_ENOMEM;
    size_t bitmap = scratch_size - (size_t)(mem - (uint8_t *)scratch) - fixed;
    int err = fat_sync(v);
    if (err)
        return err;
    if ((err = check_copies(&k, mem, mem + v->bps)))
        return err;
    if (k.repair && (err = fat_sync(v)))
        return err;
    k.path = (struct level *)(mem + 2 * v->bps);
    k.bits = mem + fixed;
    /* Salvage needs both bitmaps over the whole volume at once. */
    size_t whole = ((size_t)v->clusters + 7) / 8;
    bool one_window = bitmap >= 2 * whole;
    if (one_window)
        k.pred = k.bits + whole;
    uint64_t window = one_window ? v->clusters : bitmap * 8 < v->clusters ? bitmap * 8 : v->clusters;
    uint32_t lost = 0, free_count = 0, bad = bad_mark(v);
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
            free_count += val == 0;
            lost += val != 0 && val != bad && !marked(&k, c);
        }
    }
    v->free_count = free_count;
    v->free_known = true;
    if (lost && k.repair && one_window && !k.incomplete) {
        uint32_t left;
        if ((err = salvage(&k, &left)))
            return err;
        if (left)
            note(&k, "%u lost cluster(s) left in place: no room for more FSCKnnnn.REC files "
                 "in the root directory", left);
    } else if (lost) {
        note(&k, "%u lost cluster(s) in no file%s", lost, !k.repair ? "" : k.incomplete ?
             ", left in place: part of the tree was not checked" :
             ", left in place: saving them needs more scratch memory (fat_fsck_scratch)");
    }
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
