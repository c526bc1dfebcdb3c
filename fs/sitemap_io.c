/* fs/sitemap_io.c: the saved sitemap (/SITEMAP.BIN) and the comparison of two trees.
 *
 * Save streams the tree in preorder through a SM_BLOCK buffer into SITEMAP.TMP, then
 * renames it over SITEMAP.BIN and syncs, so a crash leaves the old file or the new one.
 * The format (docs/SITEMAP.md) ends in the SHA-256 of everything before it.  Load reads it
 * into a detached tree (no volume callback) and checks everything it can: sizes against
 * block counts, links, every leaf and directory hash recomputed, the root, the checksum.
 * Diff walks both trees in canonical order and reports per path. */
#include "fs/sitemap.h"
#include <stdio.h>
#include <string.h>

void sm_leaf_hash(uint32_t size, const uint8_t *blocks, uint32_t n, uint8_t out[SM_HASH]);
void sm_dir_hash(const struct sitemap *sm, uint32_t i, uint8_t out[SM_HASH]);
uint32_t sm_node_alloc(struct sitemap *sm);
int sm_pool_alloc(struct sitemap *sm, size_t bytes, uint32_t *off);
void sm_reset(struct sitemap *sm);

/* File layout (little-endian). */
enum {
    HDR_MAGIC = 0,      /* "VSITEMAP" */
    HDR_VERSION = 8,    /* u32, 1 */
    HDR_BLOCK = 12,     /* u32, SM_BLOCK */
    HDR_NODES = 16,     /* u32, records that follow */
    HDR_RESERVED = 20,  /* u32, 0 */
    HDR_BLOCKS = 24,    /* u64, block hashes in all records */
    HDR_ROOT = 32,      /* root hash */
    HDR_SIZE = 64,
    REC_KIND = 0,       /* u8 'F' or 'D' */
    REC_RESERVED = 1,   /* u8, 0 */
    REC_NAME_LEN = 2,   /* u16 */
    REC_PARENT = 4,     /* u32 record index, 0xFFFFFFFF for the root */
    REC_SIZE = 8,       /* u32 file bytes (0 for directories) */
    REC_NBLOCKS = 12,   /* u32 block hashes after the name */
    REC_HASH = 16,      /* leaf or directory hash */
    REC_CONTENT = 48,   /* files: SHA-256 of the content; directories: zeros */
    REC_HDR = 80,       /* then the name, then NBLOCKS x 32 bytes */
    SM_VERSION = 1,
};
static const char magic[8] = { 'V', 'S', 'I', 'T', 'E', 'M', 'A', 'P' };

static void st_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t ld_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* ---- save ---- */

struct writer {
    struct sitemap *sm;
    struct fat_file f;
    uint32_t used;
    sha256_ctx sum;
    int err;
};

static void put(struct writer *w, const void *data, size_t n)
{
    const uint8_t *p = data;
    sha256_update(&w->sum, p, n);
    while (n && !w->err) {
        uint32_t k = SM_BLOCK - w->used < n ? SM_BLOCK - w->used : (uint32_t)n;
        memcpy(w->sm->buf + w->used, p, k);
        w->used += k, p += k, n -= k;
        if (w->used == SM_BLOCK) {
            w->err = fat_write(&w->f, w->sm->buf, w->used);
            w->used = 0;
        }
    }
}

static void put_node(struct writer *w, uint32_t i, uint32_t parent_rec, uint32_t *rec)
{
    const struct sitemap *sm = w->sm;
    const struct sm_node *n = &sm->nodes[i];
    uint8_t r[REC_HDR] = { 0 };
    uint32_t me = (*rec)++;
    r[REC_KIND] = n->kind;
    st_le(r + REC_NAME_LEN, n->name_len, 2);
    st_le(r + REC_PARENT, parent_rec, 4);
    st_le(r + REC_SIZE, n->kind == SM_FILE ? n->size : 0, 4);
    st_le(r + REC_NBLOCKS, n->kind == SM_FILE ? n->blocks : 0, 4);
    memcpy(r + REC_HASH, n->hash, SM_HASH);
    if (n->kind == SM_FILE)
        memcpy(r + REC_CONTENT, n->content, SM_HASH);
    put(w, r, sizeof r);
    put(w, sm->mem + n->name, n->name_len);
    if (n->kind == SM_FILE)
        put(w, sm->mem + n->blk, (size_t)n->blocks * SM_HASH);
    for (uint32_t c = n->child; c != SM_NONE && !w->err; c = sm->nodes[c].next)
        put_node(w, c, me, rec);
}

int sitemap_save(struct sitemap *sm)
{
    int err = sitemap_refresh(sm);
    if (!err)
        err = sitemap_content_all(sm);
    if (err)
        return err;
    struct writer w = { .sm = sm };
    sm->muted = true;   /* the saved file is not part of the tree */
    sha256_init(&w.sum);
    w.err = fat_open(sm->vol, &w.f, "/" SM_TEMP_NAME, FAT_O_WRITE | FAT_O_CREATE | FAT_O_TRUNC);
    if (!w.err) {
        uint8_t h[HDR_SIZE] = { 0 };
        memcpy(h + HDR_MAGIC, magic, sizeof magic);
        st_le(h + HDR_VERSION, SM_VERSION, 4);
        st_le(h + HDR_BLOCK, SM_BLOCK, 4);
        st_le(h + HDR_NODES, sm->files + sm->dirs, 4);
        st_le(h + HDR_BLOCKS, sm->total_blocks, 8);
        memcpy(h + HDR_ROOT, sitemap_root(sm), SM_HASH);
        put(&w, h, sizeof h);
        uint32_t rec = 0;
        put_node(&w, sm->root, SM_NONE, &rec);
        uint8_t sum[SM_HASH];
        sha256_final(&w.sum, sum);
        sha256_init(&w.sum);   /* the trailer is not part of its own sum */
        put(&w, sum, sizeof sum);
        if (!w.err && w.used)
            w.err = fat_write(&w.f, sm->buf, w.used);
        int cerr = fat_close(&w.f);
        if (!w.err)
            w.err = cerr;
    }
    if (!w.err)
        w.err = fat_rename(sm->vol, "/" SM_TEMP_NAME, "/" SM_SAVE_NAME);
    if (!w.err)
        w.err = fat_sync(sm->vol);
    sm->muted = false;
    if (w.err) {
        sm->fat_err = w.err;
        snprintf(sm->path, sizeof sm->path, "/%s", SM_SAVE_NAME);
        return SM_EFAT;
    }
    return SM_OK;
}

/* ---- load ---- */

struct reader {
    struct fat_file f;
    sha256_ctx sum;
    int err;
};

static bool get(struct reader *r, void *data, size_t n)
{
    uint8_t *p = data;
    while (n && !r->err) {
        uint32_t got;
        r->err = fat_read(&r->f, p, n > 0x10000000 ? 0x10000000 : (uint32_t)n, &got);
        if (!r->err && !got)
            r->err = -1;   /* truncated */
        sha256_update(&r->sum, p, got);
        p += got, n -= got;
    }
    return !r->err;
}

static int load_records(struct sitemap *sm, struct reader *r)
{
    uint8_t h[HDR_SIZE];
    if (!get(r, h, sizeof h) || memcmp(h + HDR_MAGIC, magic, sizeof magic) ||
        ld_le(h + HDR_VERSION, 4) != SM_VERSION || ld_le(h + HDR_BLOCK, 4) != SM_BLOCK)
        return SM_EFORMAT;
    uint32_t count = (uint32_t)ld_le(h + HDR_NODES, 4);
    uint64_t blocks = ld_le(h + HDR_BLOCKS, 8), seen_blocks = 0;
    if (count == 0)
        return SM_EFORMAT;
    for (uint32_t k = 0; k < count; k++) {
        uint8_t rec[REC_HDR];
        if (!get(r, rec, sizeof rec))
            return SM_EFORMAT;
        uint8_t kind = rec[REC_KIND];
        uint32_t len = (uint32_t)ld_le(rec + REC_NAME_LEN, 2);
        uint32_t parent = (uint32_t)ld_le(rec + REC_PARENT, 4);
        uint32_t size = (uint32_t)ld_le(rec + REC_SIZE, 4);
        uint32_t nb = (uint32_t)ld_le(rec + REC_NBLOCKS, 4);
        bool root = k == 0;
        if ((kind != SM_FILE && kind != SM_DIR) || (root != (parent == SM_NONE)) ||
            (root && (kind != SM_DIR || len)) || (!root && (!len || len >= FAT_NAME_MAX)) ||
            (!root && (parent >= k || sm->nodes[parent].kind != SM_DIR)) ||
            (kind == SM_FILE && nb != (uint32_t)(((uint64_t)size + SM_BLOCK - 1) / SM_BLOCK)) ||
            (kind == SM_DIR && (size || nb)))
            return SM_EFORMAT;
        uint32_t i = sm_node_alloc(sm), off, boff = 0;
        if (i != k)
            return SM_ENOMEM;
        if (sm_pool_alloc(sm, len + 1, &off) || (nb && sm_pool_alloc(sm, (size_t)nb * SM_HASH, &boff)))
            return SM_ENOMEM;
        struct sm_node *n = &sm->nodes[i];
        n->kind = kind;
        n->name = off;
        n->name_len = (uint16_t)len;
        n->size = size;
        n->blocks = n->cap = nb;
        n->blk = boff;
        n->flags = kind == SM_FILE ? SM_F_CONTENT : 0;
        n->dlo = SM_NONE;   /* during the load: the last child, for appending */
        memcpy(n->hash, rec + REC_HASH, SM_HASH);
        memcpy(n->content, rec + REC_CONTENT, SM_HASH);
        if (!get(r, sm->mem + off, len) || !get(r, sm->mem + boff, (size_t)nb * SM_HASH))
            return SM_EFORMAT;
        sm->mem[off + len] = 0;
        if (!root) {
            struct sm_node *p = &sm->nodes[parent];
            if (p->dlo == SM_NONE)
                p->child = i;
            else
                sm->nodes[p->dlo].next = i;
            p->dlo = i;
            n->parent = parent;
        }
        if (kind == SM_FILE)
            sm->files++;
        else
            sm->dirs++;
        seen_blocks += nb;
    }
    uint8_t want[SM_HASH], got[SM_HASH];
    sha256_final(&r->sum, want);
    sha256_init(&r->sum);
    if (!get(r, got, sizeof got) || memcmp(want, got, SM_HASH) || r->f.pos != r->f.size ||
        seen_blocks != blocks)
        return SM_EFORMAT;
    sm->total_blocks = blocks;
    /* Every stored hash must follow from what it covers (docs/SITEMAP.md). */
    for (uint32_t i = 0; i < count; i++) {
        struct sm_node *n = &sm->nodes[i];
        uint8_t x[SM_HASH];
        if (n->kind == SM_FILE)
            sm_leaf_hash(n->size, sm->mem + n->blk, n->blocks, x);
        else
            sm_dir_hash(sm, i, x);
        if (memcmp(x, n->hash, SM_HASH))
            return SM_EFORMAT;
        n->dlo = 0;
    }
    return memcmp(sm->nodes[0].hash, h + HDR_ROOT, SM_HASH) ? SM_EFORMAT : SM_OK;
}

int sitemap_load(struct sitemap *sm, struct fat_volume *vol, void *mem, size_t size)
{
    int err = sitemap_init(sm, NULL, mem, size);
    if (err)
        return err;
    sm_reset(sm);
    struct reader r = { .err = 0 };
    sha256_init(&r.sum);
    if ((err = fat_open(vol, &r.f, "/" SM_SAVE_NAME, FAT_O_READ))) {
        sm->fat_err = err;
        return err == FAT_ENOENT ? SM_ENOSAVED : SM_EFAT;
    }
    err = load_records(sm, &r);
    fat_close(&r.f);
    if (err == SM_EFORMAT && r.err > 0) {
        sm->fat_err = r.err;
        err = SM_EFAT;
    }
    sm->root = 0;
    sm->built = err == SM_OK;
    return err;
}

/* ---- diff ---- */

struct differ {
    const struct sitemap *a, *b;    /* current, saved */
    sm_report_fn report;
    void *ctx;
    struct sm_diff *counts;
    char path[SM_PATH_MAX];
    char line[SM_PATH_MAX + 200];
};

static uint32_t count_files(const struct sitemap *sm, uint32_t i)
{
    const struct sm_node *n = &sm->nodes[i];
    if (n->kind == SM_FILE)
        return 1;
    uint32_t k = 0;
    for (uint32_t c = n->child; c != SM_NONE; c = sm->nodes[c].next)
        k += count_files(sm, c);
    return k;
}

static void say_entry(struct differ *d, const char *what, const struct sitemap *sm, uint32_t i)
{
    const struct sm_node *n = &sm->nodes[i];
    if (n->kind == SM_FILE)
        snprintf(d->line, sizeof d->line, "%s %s (%u bytes)", what, d->path, n->size);
    else
    {
        uint32_t k = count_files(sm, i);
        snprintf(d->line, sizeof d->line, "%s %s/ (directory, %u file%s)", what, d->path, k,
                 k == 1 ? "" : "s");
    }
    d->report(d->ctx, d->line);
}

static const uint8_t *blk(const struct sitemap *sm, const struct sm_node *n, uint32_t b)
{
    return b < n->blocks ? sm->mem + n->blk + (size_t)b * SM_HASH : NULL;
}

/* "changed /p: blocks 0, 3-4 of 5 (size 10000 -> 17000)" */
static void say_changed(struct differ *d, const struct sm_node *x, const struct sm_node *y)
{
    size_t len = (size_t)snprintf(d->line, sizeof d->line, "changed %s: blocks", d->path);
    uint32_t nb = x->blocks > y->blocks ? x->blocks : y->blocks, shown = 0, ndiff = 0;
    for (uint32_t b = 0; b < nb;) {
        const uint8_t *p = blk(d->a, x, b), *q = blk(d->b, y, b);
        if (p && q && !memcmp(p, q, SM_HASH)) {
            b++;
            continue;
        }
        uint32_t e = b + 1;
        for (; e < nb; e++) {
            p = blk(d->a, x, e), q = blk(d->b, y, e);
            if (p && q && !memcmp(p, q, SM_HASH))
                break;
        }
        ndiff += e - b;
        if (len + 40 < sizeof d->line - 60) {
            len += (size_t)snprintf(d->line + len, sizeof d->line - len, "%s %u", shown ? "," : "", b);
            if (e - b > 1)
                len += (size_t)snprintf(d->line + len, sizeof d->line - len, "-%u", e - 1);
        } else if (shown && d->line[len - 1] != '.') {
            len += (size_t)snprintf(d->line + len, sizeof d->line - len, " ...");
        }
        shown++;
        b = e;
    }
    if (!ndiff)   /* same blocks, different leaf: only the size differs within a block */
        len += (size_t)snprintf(d->line + len, sizeof d->line - len, " (none)");
    len += (size_t)snprintf(d->line + len, sizeof d->line - len, " of %u", x->blocks);
    if (x->size != y->size)
        snprintf(d->line + len, sizeof d->line - len, " (size %u -> %u)", y->size, x->size);
    d->report(d->ctx, d->line);
}

static int cmp_names(const struct sitemap *a, uint32_t i, const struct sitemap *b, uint32_t j)
{
    const struct sm_node *x = &a->nodes[i], *y = &b->nodes[j];
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(a->mem + x->name, b->mem + y->name, n);
    return c ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

static int diff_dir(struct differ *d, uint32_t i, uint32_t j, size_t plen, uint32_t depth)
{
    if (depth > SM_DEPTH_MAX)
        return SM_EDEPTH;
    uint32_t x = d->a->nodes[i].child, y = d->b->nodes[j].child;
    while (x != SM_NONE || y != SM_NONE) {
        int c = x == SM_NONE ? 1 : y == SM_NONE ? -1 : cmp_names(d->a, x, d->b, y);
        const struct sitemap *s = c <= 0 ? d->a : d->b;
        const struct sm_node *n = &s->nodes[c <= 0 ? x : y];
        if (plen + 2 + n->name_len > SM_PATH_MAX)
            return SM_EPATH;
        d->path[plen] = '/';
        memcpy(d->path + plen + 1, s->mem + n->name, n->name_len);
        d->path[plen + 1 + n->name_len] = 0;
        if (c < 0) {
            say_entry(d, "added  ", d->a, x);
            d->counts->added += count_files(d->a, x);
            x = d->a->nodes[x].next;
        } else if (c > 0) {
            say_entry(d, "removed", d->b, y);
            d->counts->removed += count_files(d->b, y);
            y = d->b->nodes[y].next;
        } else {
            const struct sm_node *p = &d->a->nodes[x], *q = &d->b->nodes[y];
            if (p->kind != q->kind) {
                say_entry(d, "removed", d->b, y);
                d->counts->removed += count_files(d->b, y);
                say_entry(d, "added  ", d->a, x);
                d->counts->added += count_files(d->a, x);
            } else if (memcmp(p->hash, q->hash, SM_HASH)) {
                if (p->kind == SM_FILE) {
                    say_changed(d, p, q);
                    d->counts->changed++;
                } else {
                    int err = diff_dir(d, x, y, plen + 1 + p->name_len, depth + 1);
                    if (err)
                        return err;
                }
            }
            x = p->next, y = q->next;
        }
        d->path[plen] = 0;
    }
    return SM_OK;
}

int sitemap_diff(const struct sitemap *cur, const struct sitemap *saved, sm_report_fn report,
                 void *ctx, struct sm_diff *counts)
{
    static const struct sm_diff zero;
    *counts = zero;
    if (!cur->built || !saved->built)
        return SM_ENOTBUILT;
    if (!memcmp(sitemap_root(cur), sitemap_root(saved), SM_HASH))
        return SM_OK;
    struct differ d = { .a = cur, .b = saved, .report = report, .ctx = ctx, .counts = counts };
    d.path[0] = 0;
    return diff_dir(&d, cur->root, saved->root, 0, 0);
}
