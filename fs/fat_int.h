/* fs/fat_int.h: what the fs/fat_*.c files share and nothing outside fs/ may use — the
 * on-disk offsets, byte loaders, and the internal calls between the layers:
 *   fat_table.c  FAT entries, allocation, deferred frees   (clusters)
 *   fat_name.c   UTF-8/UTF-16, 8.3 names, folding, hashes  (names, no I/O)
 *   fat_dir.c    entry slots, lookup, name cache, paths    (directories)
 *   fat_ops.c    mkdir/rmdir/unlink/rename/stat/readdir    (namespace)
 *   fat_file.c   file I/O with cluster runs                (files)
 *   fat_mount.c  BPB, mount, sync, FSInfo, timestamps      (volume)
 *   fat_fsck.c   consistency check and repair */
#ifndef FS_FAT_INT_H
#define FS_FAT_INT_H
#include "fs/fat.h"
#include <string.h>

/* Boot sector / BPB. */
enum {
    BS_JMP = 0, BPB_BPS = 11, BPB_SPC = 13, BPB_RSVD = 14, BPB_NFATS = 16, BPB_ROOTENT = 17,
    BPB_TOTSEC16 = 19, BPB_MEDIA = 21, BPB_FATSZ16 = 22, BPB_TOTSEC32 = 32,
    BS16_STATE = 37, BS16_LABEL = 43,
    BPB_FATSZ32 = 36, BPB_EXTFLAGS = 40, BPB_FSVER = 42, BPB_ROOTCLUS = 44, BPB_FSINFO = 48,
    BS32_STATE = 65, BS32_LABEL = 71,
    BS_SIG = 510,
    FSI_LEAD = 0, FSI_STRUC = 484, FSI_FREE = 488, FSI_NEXT = 492, FSI_TRAIL = 508,
    FSI_LEAD_SIG = 0x41615252, FSI_STRUC_SIG = 0x61417272, FSI_TRAIL_SIG = 0xAA550000,
    STATE_DIRTY = 0x01,   /* boot-sector state bit Linux and fsck.fat use */
};

/* Directory entry (32 bytes). */
enum {
    DE_SIZE = 32,
    DE_NAME = 0, DE_ATTR = 11, DE_NTRES = 12, DE_CTIME_CS = 13, DE_CTIME = 14, DE_CDATE = 16,
    DE_ADATE = 18, DE_CLUS_HI = 20, DE_MTIME = 22, DE_MDATE = 24, DE_CLUS_LO = 26,
    DE_FSIZE = 28,
    DE_FREE = 0xE5, DE_END = 0x00, DE_KANJI_E5 = 0x05,   /* first-name-byte markers */
    NT_LOWER_BASE = 0x08, NT_LOWER_EXT = 0x10,           /* DE_NTRES case flags */
    LFN_ORD = 0, LFN_NAME1 = 1, LFN_ATTR = 11, LFN_TYPE = 12, LFN_CSUM = 13, LFN_NAME2 = 14,
    LFN_CLUS = 26, LFN_NAME3 = 28,
    LFN_LAST = 0x40, LFN_ORD_MASK = 0x1F, LFN_CHARS = 13, LFN_MAX_ENTS = 20,
    DIR_MAX_ENTRIES = 65536,   /* FAT spec limit; also bounds every directory walk */
};

static inline uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t ld32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void st16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static inline void st32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* --- fat_table.c --- */
#define FAT_EOC 0x0FFFFFFFu
static inline bool clus_ok(const struct fat_volume *v, uint32_t c)
{
    return c >= 2 && c - 2 < v->clusters;
}
static inline uint32_t clus_sector(const struct fat_volume *v, uint32_t c)
{
    return v->data_start + (c - 2) * v->spc;
}
static inline uint32_t root_dir(const struct fat_volume *v) { return v->root_cluster; }
/* Reports a change to the volume's change callback, if any (fs/fat.h). */
static inline void fat_notify(struct fat_volume *v, uint8_t kind, uint32_t dir, uint32_t idx,
                              uint32_t off, uint32_t len)
{
    if (v->on_change) {
        struct fat_change c = { kind, dir, idx, off, len };
        v->on_change(v->change_ctx, &c);
    }
}
int fat_get(struct fat_volume *v, uint32_t c, uint32_t *val);   /* raw entry value */
int fat_set(struct fat_volume *v, uint32_t c, uint32_t val);    /* FAT_EOC for end */
bool fat_is_eoc(const struct fat_volume *v, uint32_t val);
/* Next cluster of a chain: *next = 0 at the end; FAT_ECORRUPT on a free, bad or
 * out-of-range link. */
int fat_next(struct fat_volume *v, uint32_t c, uint32_t *next);
/* Allocate one cluster (preferring HINT), mark it end-of-chain, link PREV to it if PREV. */
int fat_alloc(struct fat_volume *v, uint32_t hint, uint32_t prev, uint32_t *out);
/* Free a chain now (bounded by the cluster count; stops at the first bad link). */
int fat_free_chain(struct fat_volume *v, uint32_t c);
/* Free a detached chain at the next sync, once no directory entry on disk names it. */
int fat_defer_free(struct fat_volume *v, uint32_t c);
int fat_apply_pending(struct fat_volume *v);
int fat_count_free(struct fat_volume *v, uint32_t *n);
int err_from_bc(int bc_err);

/* --- fat_name.c --- */
/* A name component as UTF-16; returns FAT_OK, FAT_EBADNAME or FAT_ENAMETOOLONG. */
int name_to_utf16(const char *s, size_t len, uint16_t *out, uint32_t *n);
/* UTF-16 to UTF-8 (NUL-terminated, truncated to cap). */
void name_from_utf16(const uint16_t *u, uint32_t n, char *out, size_t cap);
uint32_t name_fold(uint32_t c);
uint32_t name_hash(const char *s, size_t len);              /* case-insensitive */
bool name_eq(const char *a, size_t alen, const char *b);    /* case-insensitive UTF-8 */
/* 11-byte 8.3 form of NAME if it is a valid short name, with DE_NTRES case flags; false
 * when the name needs a long-name entry. */
bool name_short_exact(const uint16_t *u, uint32_t n, uint8_t sfn[11], uint8_t *ntres);
/* Alias base for a long name: 11 bytes, upper case, invalid characters as '_'; *base_len
 * is the length of the base part (<= 8). */
void name_short_base(const uint16_t *u, uint32_t n, uint8_t sfn[11], uint32_t *base_len);
void name_short_tail(uint8_t sfn[11], uint32_t base_len, uint32_t num);
void name_short_format(const uint8_t sfn[11], uint8_t ntres, char *out, size_t cap);
uint8_t name_lfn_checksum(const uint8_t sfn[11]);

/* --- fat_dir.c --- */
struct fat_loc {
    uint32_t dir, idx, lfn;      /* directory, short-entry index, long-name entries */
};
int dir_entry(struct fat_dir *d, uint32_t idx, uint8_t **ent);  /* FAT_ENOENT past end */
void dir_dirty(struct fat_volume *v, uint8_t *ent);
void dir_iter(struct fat_volume *v, struct fat_dir *d, uint32_t dir);
/* Next live entry (dot entries included); FAT_ENOENT at the end. */
int dir_next(struct fat_dir *d, struct fat_dirent *ent);
int dir_lookup(struct fat_volume *v, uint32_t dir, const char *name, size_t len,
               struct fat_dirent *ent);
int path_resolve(struct fat_volume *v, const char *path, struct fat_dirent *ent,
                 uint32_t *parent);
int path_parent(struct fat_volume *v, const char *path, uint32_t *dir, const char **name,
                size_t *len);
int dir_add(struct fat_volume *v, uint32_t dir, const char *name, size_t len, uint8_t attr,
            uint32_t first, uint32_t size, struct fat_dirent *out);
int dir_remove(struct fat_volume *v, uint32_t dir, const struct fat_dirent *ent);
int dir_update(struct fat_volume *v, uint32_t dir, uint32_t idx, uint32_t first, uint32_t size,
               bool touch);
uint32_t dirent_cluster(const struct fat_volume *v, const uint8_t *e);
void dirent_set_cluster(uint8_t *e, uint32_t c);
void names_forget_dir(struct fat_volume *v, uint32_t dir);
void names_reset(struct fat_volume *v);

/* --- fat_file.c --- */
/* The open-file record of entry (DIR, IDX), or NULL when it is not open. */
struct fat_open *open_find(struct fat_volume *v, uint32_t dir, uint32_t idx);

/* --- fat_mount.c --- */
void fat_now(uint16_t *date, uint16_t *time);
int64_t fat_to_unix(uint16_t date, uint16_t time);

#endif
