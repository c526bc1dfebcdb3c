/* Directories: mapping entry indexes to sectors, assembling long names, the name cache,
 * path resolution, and adding/removing/updating entry sets.
 *
 * A directory is named by its first cluster (0 = the fixed FAT12/16 root).  An entry is
 * named by (directory, index of its short record); its long-name records sit just before.
 * Name cache: a 4-way set-associative table of (directory, folded-name hash) -> index,
 * filled whenever a directory is scanned.  A hit is always verified against the disk
 * entry, so a stale or colliding slot costs a read, never a wrong answer.  A directory
 * whose every entry is in the table is marked complete in a small per-directory record,
 * so a miss there (e.g. "does this new name exist?") costs no I/O; evicting any slot of
 * that directory clears the mark.  The same record keeps a free-slot hint, so creating
 * many files appends instead of rescanning. */
#include "fs/fat_int.h"

#define SLOT_USED 0x80000000u

void dir_iter(struct fat_volume *v, struct fat_dir *d, uint32_t dir)
{
    d->vol = v;
    d->first = dir;
    d->idx = 0;
    d->cur_lc = 0;
    d->cur_pc = dir;
}

static int dir_locate(struct fat_dir *d, uint32_t idx, uint32_t *sec, uint32_t *off)
{
    struct fat_volume *v = d->vol;
    if (idx >= DIR_MAX_ENTRIES)
        return FAT_ENOENT;
    if (d->first == 0) {
        if (v->type == 32 || idx >= v->root_entries)
            return FAT_ENOENT;
        *sec = v->root_start + idx * DE_SIZE / v->bps;
        *off = idx * DE_SIZE % v->bps;
        return FAT_OK;
    }
    uint32_t epc = v->cluster_bytes / DE_SIZE, lc = idx / epc;
    if (lc < d->cur_lc || !clus_ok(v, d->cur_pc)) {
        d->cur_lc = 0;
        d->cur_pc = d->first;
    }
    if (!clus_ok(v, d->cur_pc))
        return FAT_ECORRUPT;
    while (d->cur_lc < lc) {   /* bounded: lc < DIR_MAX_ENTRIES / epc */
        uint32_t next;
        int err = fat_next(v, d->cur_pc, &next);
        if (err)
            return err;
        if (!next)
            return FAT_ENOENT;
        d->cur_pc = next;
        d->cur_lc++;
    }
    uint32_t byte = idx % epc * DE_SIZE;
    *sec = clus_sector(v, d->cur_pc) + byte / v->bps;
    *off = byte % v->bps;
    return FAT_OK;
}

int dir_entry(struct fat_dir *d, uint32_t idx, uint8_t **ent)
{
    uint32_t sec, off;
    int err = dir_locate(d, idx, &sec, &off);
    if (err)
        return err;
    uint8_t *b;
    if ((err = bcache_get(&d->vol->cache, sec, true, &b)))
        return err_from_bc(err);
    *ent = b + off;
    return FAT_OK;
}

void dir_dirty(struct fat_volume *v, uint8_t *ent) { bcache_dirty(&v->cache, ent, BC_DIR); }

uint32_t dirent_cluster(const struct fat_volume *v, const uint8_t *e)
{
    return ld16(e + DE_CLUS_LO) | (v->type == 32 ? (uint32_t)ld16(e + DE_CLUS_HI) << 16 : 0);
}

void dirent_set_cluster(uint8_t *e, uint32_t c)
{
    st16(e + DE_CLUS_HI, (uint16_t)(c >> 16));
    st16(e + DE_CLUS_LO, (uint16_t)c);
}

static const uint8_t lfn_pos[LFN_CHARS] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };

int dir_next(struct fat_dir *d, struct fat_dirent *ent)
{
    struct fat_volume *v = d->vol;
    uint16_t lfn[LFN_MAX_ENTS * LFN_CHARS];
    uint32_t want = 0, total = 0;
    uint8_t csum = 0;
    bool complete = false;
    for (;;) {
        uint8_t *e;
        int err = dir_entry(d, d->idx, &e);
        if (err)
            return err;
        if (e[DE_NAME] == DE_END)
            return FAT_ENOENT;
        uint32_t idx = d->idx++;
        if (e[DE_NAME] == DE_FREE) {
            want = 0, complete = false;
            continue;
        }
        if ((e[DE_ATTR] & 0x3F) == FAT_ATTR_LFN) {
            uint32_t ord = e[LFN_ORD] & LFN_ORD_MASK;
            if (e[LFN_ORD] & LFN_LAST) {
                want = ord, total = ord, csum = e[LFN_CSUM];
                for (uint32_t i = 0; i < sizeof lfn / sizeof lfn[0]; i++) lfn[i] = 0;
            }
            complete = false;
            if (ord == 0 || ord > LFN_MAX_ENTS || ord != want || e[LFN_CSUM] != csum) {
                want = 0;
                continue;
            }
            for (int i = 0; i < LFN_CHARS; i++)
                lfn[(ord - 1) * LFN_CHARS + i] = ld16(e + lfn_pos[i]);
            want = ord - 1;
            complete = ord == 1;
            continue;
        }
        if (e[DE_ATTR] & FAT_ATTR_VOLID) {
            want = 0, complete = false;
            continue;
        }
        uint8_t sfn[11];
        memcpy(sfn, e, 11);
        bool has_lfn = complete && name_lfn_checksum(sfn) == csum && lfn[0] != 0;
        name_short_format(sfn, e[DE_NTRES], ent->short_name, sizeof ent->short_name);
        if (has_lfn) {
            uint32_t n = 0;
            while (n < total * LFN_CHARS && lfn[n] != 0) n++;
            name_from_utf16(lfn, n, ent->name, sizeof ent->name);
        } else {
            strcpy(ent->name, ent->short_name);
        }
        ent->attr = e[DE_ATTR];
        ent->size = ld32(e + DE_FSIZE);
        ent->first = dirent_cluster(v, e);
        ent->mtime = fat_to_unix(ld16(e + DE_MDATE), ld16(e + DE_MTIME));
        ent->idx = idx;
        ent->lfn_count = has_lfn ? total : 0;
        return FAT_OK;
    }
}

/* --- name cache --- */

static struct fat_dirinfo *dinfo(struct fat_volume *v, uint32_t dir, bool create)
{
    struct fat_dirinfo *victim = &v->dirs[0];
    for (int i = 0; i < FAT_DIRINFO; i++) {
        struct fat_dirinfo *di = &v->dirs[i];
        if (di->valid && di->dir == dir) {
            di->stamp = ++v->stamp;
            return di;
        }
        if (!di->valid || (victim->valid && di->stamp < victim->stamp))
            victim = di;
    }
    if (!create)
        return NULL;
    *victim = (struct fat_dirinfo){ .dir = dir, .end = DIR_MAX_ENTRIES, .valid = true,
                                    .stamp = ++v->stamp };
    return victim;
}

void names_forget_dir(struct fat_volume *v, uint32_t dir)
{
    struct fat_dirinfo *di = dinfo(v, dir, false);
    if (di)
        di->valid = false;
}

void names_reset(struct fat_volume *v)
{
    memset(v->names, 0, (size_t)v->nbuckets * 4 * sizeof(struct fat_nslot));
    for (int i = 0; i < FAT_DIRINFO; i++)
        v->dirs[i].valid = false;
}

static void names_insert(struct fat_volume *v, uint32_t dir, uint32_t hash, uint32_t packed)
{
    if (!v->nbuckets)
        return;
    struct fat_nslot *s = &v->names[(size_t)(hash % v->nbuckets) * 4], *free_slot = NULL;
    for (int i = 0; i < 4; i++) {
        if (s[i].idx == packed && s[i].dir == dir && s[i].hash == hash)
            return;
        if (!(s[i].idx & SLOT_USED) && !free_slot)
            free_slot = &s[i];
    }
    if (!free_slot) {
        free_slot = &s[(hash >> 24) & 3];
        struct fat_dirinfo *di = dinfo(v, free_slot->dir, false);
        if (di)
            di->complete = false;
    }
    *free_slot = (struct fat_nslot){ .dir = dir, .hash = hash, .idx = packed };
}

static void names_remove(struct fat_volume *v, uint32_t dir, uint32_t hash, uint32_t idx)
{
    if (!v->nbuckets)
        return;
    struct fat_nslot *s = &v->names[(size_t)(hash % v->nbuckets) * 4];
    for (int i = 0; i < 4; i++)
        if ((s[i].idx & SLOT_USED) && s[i].dir == dir && s[i].hash == hash &&
            (s[i].idx & 0xFFFF) == idx)
            s[i].idx = 0;
}

static uint32_t pack(const struct fat_dirent *e)
{
    return SLOT_USED | e->lfn_count << 16 | e->idx;
}

static void names_add_entry(struct fat_volume *v, uint32_t dir, const struct fat_dirent *e)
{
    uint32_t h1 = name_hash(e->name, strlen(e->name));
    uint32_t h2 = name_hash(e->short_name, strlen(e->short_name));
    names_insert(v, dir, h1, pack(e));
    if (h2 != h1)
        names_insert(v, dir, h2, pack(e));
}

static bool matches(const char *name, size_t len, const struct fat_dirent *e)
{
    return name_eq(name, len, e->name) || name_eq(name, len, e->short_name);
}

int dir_lookup(struct fat_volume *v, uint32_t dir, const char *name, size_t len,
               struct fat_dirent *ent)
{
    uint32_t h = name_hash(name, len);
    struct fat_dir d;
    if (v->nbuckets) {
        struct fat_nslot *s = &v->names[(size_t)(h % v->nbuckets) * 4];
        for (int i = 0; i < 4; i++) {
            if (!(s[i].idx & SLOT_USED) || s[i].dir != dir || s[i].hash != h)
                continue;
            uint32_t idx = s[i].idx & 0xFFFF, nlfn = (s[i].idx >> 16) & 0xFF;
            dir_iter(v, &d, dir);
            d.idx = idx >= nlfn ? idx - nlfn : 0;
            int err = dir_next(&d, ent);
            if (err == FAT_OK && ent->idx == idx && matches(name, len, ent)) {
                v->name_hits++;
                return FAT_OK;
            }
            if (err != FAT_OK && err != FAT_ENOENT)
                return err;
            if (err == FAT_OK && ent->idx == idx)
                continue;   /* another name with the same hash: the slot is still right */
            s[i].idx = 0;   /* stale; the directory may no longer be wholly cached */
            struct fat_dirinfo *di = dinfo(v, dir, false);
            if (di)
                di->complete = false;
        }
    }
    struct fat_dirinfo *di = dinfo(v, dir, true);
    if (di->complete) {
        v->name_hits++;
        return FAT_ENOENT;
    }
    v->name_misses++;
    di->complete = v->nbuckets != 0;   /* cleared by any eviction during the scan */
    bool found = false;
    struct fat_dirent tmp;
    dir_iter(v, &d, dir);
    int err;
    while ((err = dir_next(&d, &tmp)) == FAT_OK) {
        names_add_entry(v, dir, &tmp);
        if (!found && matches(name, len, &tmp)) {
            *ent = tmp;
            found = true;
        }
    }
    di = dinfo(v, dir, true);
    if (err != FAT_ENOENT) {
        di->complete = false;
        return err;
    }
    di->end = d.idx;
    return found ? FAT_OK : FAT_ENOENT;
}

/* --- paths --- */

static void root_ent(struct fat_volume *v, struct fat_dirent *ent)
{
    memset(ent, 0, sizeof *ent);
    strcpy(ent->name, "/");
    strcpy(ent->short_name, "/");
    ent->attr = FAT_ATTR_DIR;
    ent->first = root_dir(v);
    ent->idx = UINT32_MAX;
}

static int resolve_n(struct fat_volume *v, const char *path, size_t plen,
                     struct fat_dirent *ent, uint32_t *parent)
{
    root_ent(v, ent);
    uint32_t up = root_dir(v);
    size_t i = 0;
    for (;;) {
        while (i < plen && path[i] == '/') i++;
        if (i >= plen)
            break;
        size_t j = i;
        while (j < plen && path[j] != '/') j++;
        const char *c = path + i;
        size_t n = j - i;
        i = j;
        if (!(ent->attr & FAT_ATTR_DIR))
            return FAT_ENOTDIR;
        uint32_t cur = ent->first;
        if (n == 1 && c[0] == '.')
            continue;
        if (n == 2 && c[0] == '.' && c[1] == '.') {
            if (cur == root_dir(v))
                continue;
            struct fat_dir d;
            uint8_t *e;
            dir_iter(v, &d, cur);
            int err = dir_entry(&d, 1, &e);
            if (err)
                return err == FAT_ENOENT ? FAT_ECORRUPT : err;
            if (memcmp(e, "..         ", 11) != 0)
                return FAT_ECORRUPT;
            uint32_t p = dirent_cluster(v, e);
            root_ent(v, ent);
            strcpy(ent->name, "..");
            if (p != 0 && p != root_dir(v)) {
                if (!clus_ok(v, p))
                    return FAT_ECORRUPT;
                ent->first = p;
            }
            up = UINT32_MAX;   /* the grandparent is not known without another walk */
            continue;
        }
        int err = dir_lookup(v, cur, c, n, ent);
        if (err)
            return err;
        if ((ent->attr & FAT_ATTR_DIR) && !clus_ok(v, ent->first))
            return FAT_ECORRUPT;
        up = cur;
    }
    if (parent)
        *parent = up;
    return FAT_OK;
}

int path_resolve(struct fat_volume *v, const char *path, struct fat_dirent *ent,
                 uint32_t *parent)
{
    return resolve_n(v, path, strlen(path), ent, parent);
}

int path_parent(struct fat_volume *v, const char *path, uint32_t *dir, const char **name,
                size_t *len)
{
    size_t n = strlen(path);
    while (n > 0 && path[n - 1] == '/') n--;
    size_t s = n;
    while (s > 0 && path[s - 1] != '/') s--;
    *name = path + s;
    *len = n - s;
    if (*len == 0)
        return FAT_EBUSY;   /* the root itself */
    if ((*len == 1 && path[s] == '.') || (*len == 2 && path[s] == '.' && path[s + 1] == '.'))
        return FAT_EINVAL;
    struct fat_dirent ent;
    int err = resolve_n(v, path, s, &ent, NULL);
    if (err)
        return err;
    if (!(ent.attr & FAT_ATTR_DIR))
        return FAT_ENOTDIR;
    *dir = ent.first;
    return FAT_OK;
}

/* --- adding and removing entry sets --- */

/* A unique alias for a long name: BASE~1 .. BASE~4, then two characters plus four hex
 * digits of a hash (as Windows does), so thousands of similar names stay cheap. */
static int make_alias(struct fat_volume *v, uint32_t dir, const uint16_t *u, uint32_t n,
                      uint8_t sfn[11])
{
    uint32_t base_len, h = 0;
    for (uint32_t i = 0; i < n; i++)
        h = h * 31 + u[i];
    for (uint32_t attempt = 1; attempt < 1000; attempt++) {
        name_short_base(u, n, sfn, &base_len);
        if (attempt <= 4) {
            name_short_tail(sfn, base_len, attempt);
        } else {
            static const char hex[] = "0123456789ABCDEF";
            uint32_t x = (h + attempt * 0x9E3779B1u) >> 16;
            uint32_t keep = base_len < 2 ? base_len : 2;
            for (int k = 0; k < 4; k++)
                sfn[keep + (uint32_t)k] = (uint8_t)hex[(x >> (12 - 4 * k)) & 15];
            name_short_tail(sfn, keep + 4, 1);
        }
        char s[40];
        struct fat_dirent tmp;
        name_short_format(sfn, 0, s, sizeof s);
        int err = dir_lookup(v, dir, s, strlen(s), &tmp);
        if (err == FAT_ENOENT)
            return FAT_OK;
        if (err)
            return err;
    }
    return FAT_EEXIST;
}

/* Appends a zeroed cluster to directory D (whose cursor rests on its last cluster). */
static int dir_grow(struct fat_dir *d)
{
    struct fat_volume *v = d->vol;
    if (d->first == 0)
        return FAT_ENOSPC;   /* the fixed root cannot grow */
    uint32_t c;
    int err = fat_alloc(v, d->cur_pc + 1, 0, &c);
    if (err)
        return err;
    /* Zeros reach the disk before the FAT link, or garbage could become entries. */
    if ((err = err_from_bc(bcache_zero_range(&v->cache, clus_sector(v, c), v->spc))))
        return err;
    return fat_set(v, d->cur_pc, c);
}

int dir_add(struct fat_volume *v, uint32_t dir, const char *name, size_t len, uint8_t attr,
            uint32_t first, uint32_t size, struct fat_dirent *out)
{
    uint16_t u[256];
    uint32_t n;
    int err = name_to_utf16(name, len, u, &n);
    if (err)
        return err;
    uint8_t sfn[11], nt = 0;
    bool need_lfn = !name_short_exact(u, n, sfn, &nt);
    if (need_lfn && (err = make_alias(v, dir, u, n, sfn)))
        return err;
    uint32_t nlfn = need_lfn ? (n + LFN_CHARS - 1) / LFN_CHARS : 0, total = nlfn + 1;

    struct fat_dirinfo *di = dinfo(v, dir, true);
    struct fat_dir d;
    dir_iter(v, &d, dir);
    uint32_t pos = di->free_hint, run = 0, first_free = UINT32_MAX, idx;
    for (idx = di->free_hint; run < total; idx++) {
        uint8_t *e;
        err = dir_entry(&d, idx, &e);
        if (err == FAT_ENOENT || (err == FAT_OK && e[DE_NAME] == DE_END)) {
            if (first_free == UINT32_MAX) first_free = idx;
            if (!run) pos = idx;
            break;   /* everything from here on is free (or not yet allocated) */
        }
        if (err)
            return err;
        if (e[DE_NAME] == DE_FREE) {
            if (first_free == UINT32_MAX) first_free = idx;
            if (!run++) pos = idx;
        } else {
            run = 0;
        }
    }
    if (pos + total > DIR_MAX_ENTRIES)
        return FAT_ENOSPC;
    /* Every slot must exist before the first is written: a full fixed root or volume
     * must fail the call cleanly, not leave orphaned long-name records behind. */
    uint8_t *e;
    while ((err = dir_entry(&d, pos + total - 1, &e)) == FAT_ENOENT)
        if ((err = dir_grow(&d)))
            break;
    if (err)
        return err;
    di = dinfo(v, dir, true);
    di->free_hint = first_free;
    uint8_t csum = name_lfn_checksum(sfn);
    uint16_t date, time;
    fat_now(&date, &time);
    for (uint32_t k = 0; k < total; k++) {
        if ((err = dir_entry(&d, pos + k, &e)))
            return err;
        memset(e, 0, DE_SIZE);
        if (k < nlfn) {
            uint32_t ord = nlfn - k;
            e[LFN_ORD] = (uint8_t)(ord | (k == 0 ? LFN_LAST : 0));
            e[LFN_ATTR] = FAT_ATTR_LFN;
            e[LFN_CSUM] = csum;
            for (uint32_t j = 0; j < LFN_CHARS; j++) {
                uint32_t p = (ord - 1) * LFN_CHARS + j;
                st16(e + lfn_pos[j], p < n ? u[p] : p == n ? 0 : 0xFFFF);
            }
        } else {
            memcpy(e + DE_NAME, sfn, 11);
            e[DE_ATTR] = attr;
            e[DE_NTRES] = nt;
            st16(e + DE_CTIME, time), st16(e + DE_CDATE, date);
            st16(e + DE_MTIME, time), st16(e + DE_MDATE, date), st16(e + DE_ADATE, date);
            dirent_set_cluster(e, first);
            st32(e + DE_FSIZE, size);
        }
        dir_dirty(v, e);
    }
    if (di->free_hint == pos)
        di->free_hint = pos + total;
    if (di->end < pos + total || di->end == DIR_MAX_ENTRIES)
        di->end = pos + total;
    name_from_utf16(u, n, out->name, sizeof out->name);
    name_short_format(sfn, nt, out->short_name, sizeof out->short_name);
    out->attr = attr;
    out->size = size;
    out->first = first;
    out->mtime = fat_to_unix(date, time);
    out->idx = pos + nlfn;
    out->lfn_count = nlfn;
    names_add_entry(v, dir, out);
    v->dirty = true;
    fat_notify(v, FAT_CHANGE_DIR, dir, 0, 0, 0);
    return FAT_OK;
}

int dir_remove(struct fat_volume *v, uint32_t dir, const struct fat_dirent *ent)
{
    struct fat_dir d;
    dir_iter(v, &d, dir);
    uint32_t from = ent->idx - ent->lfn_count;
    for (uint32_t i = from; i <= ent->idx; i++) {
        uint8_t *e;
        int err = dir_entry(&d, i, &e);
        if (err)
            return err;
        e[DE_NAME] = DE_FREE;
        dir_dirty(v, e);
    }
    names_remove(v, dir, name_hash(ent->name, strlen(ent->name)), ent->idx);
    names_remove(v, dir, name_hash(ent->short_name, strlen(ent->short_name)), ent->idx);
    struct fat_dirinfo *di = dinfo(v, dir, false);
    if (di && di->free_hint > from)
        di->free_hint = from;
    v->dirty = true;
    fat_notify(v, FAT_CHANGE_DIR, dir, 0, 0, 0);
    return FAT_OK;
}

int dir_update(struct fat_volume *v, uint32_t dir, uint32_t idx, uint32_t first, uint32_t size,
               bool touch)
{
    struct fat_dir d;
    uint8_t *e;
    dir_iter(v, &d, dir);
    int err = dir_entry(&d, idx, &e);
    if (err)
        return err;
    dirent_set_cluster(e, first);
    st32(e + DE_FSIZE, size);
    if (touch) {
        uint16_t date, time;
        fat_now(&date, &time);
        st16(e + DE_MTIME, time), st16(e + DE_MDATE, date), st16(e + DE_ADATE, date);
        e[DE_ATTR] |= FAT_ATTR_ARCHIVE;
    }
    dir_dirty(v, e);
    v->dirty = true;
    return FAT_OK;
}
