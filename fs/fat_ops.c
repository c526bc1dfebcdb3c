/* Namespace operations on paths: stat, directory listing, unlink, mkdir, rmdir, rename.
 * Each keeps the crash order of docs/FAT.md: new clusters are zeroed (or filled) before
 * the FAT links them, entries are written after the FAT, and clusters an old entry named
 * are only handed to fat_defer_free, which frees them after the entry's removal is on
 * disk. */
#include "fs/fat_int.h"

int fat_stat(struct fat_volume *v, const char *path, struct fat_dirent *ent)
{
    return path_resolve(v, path, ent, NULL);
}

int fat_opendir(struct fat_volume *v, struct fat_dir *d, const char *path)
{
    struct fat_dirent ent;
    int err = path_resolve(v, path, &ent, NULL);
    if (err)
        return err;
    if (!(ent.attr & FAT_ATTR_DIR))
        return FAT_ENOTDIR;
    dir_iter(v, d, ent.first);
    return FAT_OK;
}

static bool is_dot(const struct fat_dirent *e)
{
    return strcmp(e->short_name, ".") == 0 || strcmp(e->short_name, "..") == 0;
}

int fat_readdir(struct fat_dir *d, struct fat_dirent *ent)
{
    int err;
    while ((err = dir_next(d, ent)) == FAT_OK)
        if (!is_dot(ent))
            return FAT_OK;
    return err;
}

/* Resolves the last component of PATH inside its parent. */
static int find(struct fat_volume *v, const char *path, uint32_t *dir, struct fat_dirent *ent)
{
    const char *name;
    size_t len;
    int err = path_parent(v, path, dir, &name, &len);
    return err ? err : dir_lookup(v, *dir, name, len, ent);
}

/* find() for an operation that will change the entry: refused on a read-only volume. */
static int find_to_change(struct fat_volume *v, const char *path, uint32_t *dir,
                          struct fat_dirent *ent)
{
    return v->rdonly ? FAT_EROFS : find(v, path, dir, ent);
}

int fat_unlink(struct fat_volume *v, const char *path)
{
    uint32_t dir;
    struct fat_dirent ent;
    int err = find_to_change(v, path, &dir, &ent);
    if (err)
        return err;
    if (ent.attr & FAT_ATTR_DIR)
        return FAT_EISDIR;
    if (open_find(v, dir, ent.idx))
        return FAT_EBUSY;   /* its clusters would be freed under the open object */
    if ((err = dir_remove(v, dir, &ent)))
        return err;
    return fat_defer_free(v, ent.first);
}

static void dot_entry(uint8_t *e, const char *name, uint32_t clus, uint16_t date, uint16_t time)
{
    memset(e, 0, DE_SIZE);
    memset(e, ' ', 11);
    memcpy(e, name, strlen(name));
    e[DE_ATTR] = FAT_ATTR_DIR;
    st16(e + DE_CTIME, time), st16(e + DE_CDATE, date);
    st16(e + DE_MTIME, time), st16(e + DE_MDATE, date), st16(e + DE_ADATE, date);
    dirent_set_cluster(e, clus);
}

int fat_mkdir(struct fat_volume *v, const char *path)
{
    const char *name;
    size_t len;
    uint32_t dir, c;
    struct fat_dirent ent;
    if (v->rdonly)
        return FAT_EROFS;
    int err = path_parent(v, path, &dir, &name, &len);
    if (err)
        return err;
    if ((err = dir_lookup(v, dir, name, len, &ent)) != FAT_ENOENT)
        return err ? err : FAT_EEXIST;
    if ((err = fat_alloc(v, 0, 0, &c)))
        return err;
    uint32_t sec = clus_sector(v, c);
    uint8_t *b;
    uint16_t date, time;
    fat_now(&date, &time);
    /* The new cluster's contents count as data: on disk before the FAT names it. */
    if (!(err = err_from_bc(bcache_zero_range(&v->cache, sec, v->spc))) &&
        !(err = err_from_bc(bcache_get(&v->cache, sec, false, &b)))) {
        memset(b, 0, v->bps);
        dot_entry(b, ".", c, date, time);
        dot_entry(b + DE_SIZE, "..", dir == root_dir(v) ? 0 : dir, date, time);
        bcache_dirty(&v->cache, b, BC_DATA);
        err = dir_add(v, dir, name, len, FAT_ATTR_DIR, c, 0, &ent);
    }
    if (err)
        fat_free_chain(v, c);   /* nothing on disk names it yet */
    return err;
}

static int dir_empty(struct fat_volume *v, uint32_t dir)
{
    struct fat_dir d;
    struct fat_dirent e;
    int err;
    dir_iter(v, &d, dir);
    while ((err = dir_next(&d, &e)) == FAT_OK)
        if (!is_dot(&e))
            return FAT_ENOTEMPTY;
    return err == FAT_ENOENT ? FAT_OK : err;
}

int fat_rmdir(struct fat_volume *v, const char *path)
{
    uint32_t dir;
    struct fat_dirent ent;
    int err = find_to_change(v, path, &dir, &ent);
    if (err)
        return err;
    if (!(ent.attr & FAT_ATTR_DIR))
        return FAT_ENOTDIR;
    if ((err = dir_empty(v, ent.first)) || (err = dir_remove(v, dir, &ent)))
        return err;
    names_forget_dir(v, ent.first);
    return fat_defer_free(v, ent.first);
}

/* True if directory ANC is DIR or one of its ancestors (walking ".." up to the root). */
static int is_ancestor(struct fat_volume *v, uint32_t anc, uint32_t dir, bool *yes)
{
    *yes = false;
    for (uint32_t depth = 0; depth < 4096; depth++) {
        if (dir == anc) {
            *yes = true;
            return FAT_OK;
        }
        if (dir == root_dir(v))
            return FAT_OK;
        struct fat_dir d;
        uint8_t *e;
        dir_iter(v, &d, dir);
        int err = dir_entry(&d, 1, &e);
        if (err)
            return err == FAT_ENOENT ? FAT_ECORRUPT : err;
        uint32_t up = dirent_cluster(v, e);
        dir = up == 0 ? root_dir(v) : up;
        if (dir != root_dir(v) && !clus_ok(v, dir))
            return FAT_ECORRUPT;
    }
    return FAT_ECORRUPT;   /* a ".." cycle */
}

int fat_rename(struct fat_volume *v, const char *from, const char *to)
{
    uint32_t sdir, ddir;
    struct fat_dirent src, dst, out;
    const char *name;
    size_t len;
    if (v->rdonly)
        return FAT_EROFS;
    int err = find(v, from, &sdir, &src);
    if (err || (err = path_parent(v, to, &ddir, &name, &len)))
        return err;
    if (open_find(v, sdir, src.idx))
        return FAT_EBUSY;   /* the open object would write back to the old entry */
    bool is_dir = src.attr & FAT_ATTR_DIR, inside, replace = false;
    if (is_dir && ddir != sdir) {
        if ((err = is_ancestor(v, src.first, ddir, &inside)))
            return err;
        if (inside)
            return FAT_EINVAL;
    }
    err = dir_lookup(v, ddir, name, len, &dst);
    if (err == FAT_OK) {
        if (ddir == sdir && dst.idx == src.idx) {
            if (strlen(src.name) == len && memcmp(src.name, name, len) == 0)
                return FAT_OK;   /* same name: nothing to do */
        } else if (is_dir || (dst.attr & FAT_ATTR_DIR)) {
            return FAT_EEXIST;
        } else if (open_find(v, ddir, dst.idx)) {
            return FAT_EBUSY;
        } else {
            replace = true;
        }
    } else if (err != FAT_ENOENT) {
        return err;
    }
    /* Keep the original timestamps and attributes: read the old short record. */
    uint8_t old[DE_SIZE], *e;
    struct fat_dir d;
    dir_iter(v, &d, sdir);
    if ((err = dir_entry(&d, src.idx, &e)))
        return err;
    memcpy(old, e, DE_SIZE);
    /* Replacing a file: its slots are freed first so a full directory can take the new
     * name, but remembered, so a failed add (no room) puts the target back intact; its
     * clusters are only handed over for freeing once the new entry exists. */
    uint8_t mark[LFN_MAX_ENTS + 1];
    dir_iter(v, &d, ddir);
    for (uint32_t i = 0; replace && i <= dst.lfn_count; i++) {
        if ((err = dir_entry(&d, dst.idx - dst.lfn_count + i, &e)))
            return err;
        mark[i] = e[DE_NAME];
    }
    if (replace && (err = dir_remove(v, ddir, &dst)))
        return err;
    if ((err = dir_add(v, ddir, name, len, src.attr, src.first, src.size, &out))) {
        dir_iter(v, &d, ddir);
        for (uint32_t i = 0; replace && i <= dst.lfn_count; i++) {
            if (dir_entry(&d, dst.idx - dst.lfn_count + i, &e) == FAT_OK) {
                e[DE_NAME] = mark[i];
                dir_dirty(v, e);
            }
        }
        names_forget_dir(v, ddir);   /* the name cache was told the target was gone */
        return err;
    }
    if (replace && (err = fat_defer_free(v, dst.first)))
        return err;
    dir_iter(v, &d, ddir);
    if ((err = dir_entry(&d, out.idx, &e)))
        return err;
    memcpy(e + DE_CTIME_CS, old + DE_CTIME_CS, DE_CLUS_HI - DE_CTIME_CS);
    memcpy(e + DE_MTIME, old + DE_MTIME, 4);
    dir_dirty(v, e);
    if ((err = dir_remove(v, sdir, &src)))
        return err;
    if (is_dir && ddir != sdir) {
        dir_iter(v, &d, src.first);
        if ((err = dir_entry(&d, 1, &e)))
            return err;
        if (memcmp(e, "..         ", 11) == 0) {
            dirent_set_cluster(e, ddir == root_dir(v) ? 0 : ddir);
            dir_dirty(v, e);
        }
    }
    return FAT_OK;
}
