/* fs/sitemap.c: building and refreshing the sitemap tree (fs/sitemap.h, docs/SITEMAP.md).
 *
 * The tree lives in one caller buffer: struct sm_node records grow up from the bottom,
 * names and block-hash arrays grow down from the top; freed nodes go on a free list, freed
 * pool bytes are only reclaimed by the next full build (a refresh that runs out of memory
 * falls back to one).  A build lists every directory and hashes every file.  The FAT
 * core's change callback (on_change) only sets flags: RELIST on a directory whose entries
 * changed, DATA with a block range on a file that was written, and BELOW on every
 * ancestor, so a refresh descends only along flagged paths and reads only the flagged
 * blocks.  Memory use per file: one node (~136 bytes), its name, 32 bytes per 4 KiB. */
#include "fs/sitemap.h"
#include <stdio.h>
#include <string.h>

const char *sm_strerror(int err)
{
    switch (err) {
    case SM_OK: return "ok";
    case SM_EFAT: return "filesystem error";
    case SM_ENOMEM: return "sitemap memory exhausted";
    case SM_EDEPTH: return "directories nested too deeply";
    case SM_EPATH: return "path too long";
    case SM_ENOSAVED: return "no saved sitemap";
    case SM_EFORMAT: return "saved sitemap is corrupt";
    case SM_ENOTBUILT: return "sitemap not built";
    }
    return "unknown sitemap error";
}

static struct sm_node *N(const struct sitemap *sm, uint32_t i) { return &sm->nodes[i]; }

static uint32_t blocks_for(uint32_t size) { return (uint32_t)(((uint64_t)size + SM_BLOCK - 1) / SM_BLOCK); }

static int fat_fail(struct sitemap *sm, int err)
{
    sm->fat_err = err;
    return SM_EFAT;
}

/* ---- tree memory ---- */

static uint32_t node_alloc(struct sitemap *sm)
{
    uint32_t i;
    if (sm->free_list != SM_NONE) {
        i = sm->free_list;
        sm->free_list = N(sm, i)->next;
    } else {
        if ((size_t)(sm->nnodes + 1) * sizeof(struct sm_node) > sm->top)
            return SM_NONE;
        i = sm->nnodes++;
    }
    struct sm_node *n = N(sm, i);
    memset(n, 0, sizeof *n);
    n->parent = n->child = n->next = SM_NONE;
    return i;
}

static int pool_alloc(struct sitemap *sm, size_t bytes, uint32_t *off)
{
    size_t floor = (size_t)sm->nnodes * sizeof(struct sm_node);
    if (sm->top < floor || sm->top - floor < bytes)
        return SM_ENOMEM;
    sm->top -= bytes;
    *off = (uint32_t)sm->top;
    return SM_OK;
}

static int name_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

/* Children stay sorted by name bytes: the canonical order of docs/SITEMAP.md. */
static void link_child(struct sitemap *sm, uint32_t p, uint32_t c)
{
    struct sm_node *cn = N(sm, c);
    const uint8_t *name = sm->mem + cn->name;
    uint32_t *link = &N(sm, p)->child;
    while (*link != SM_NONE) {
        struct sm_node *o = N(sm, *link);
        if (name_cmp(sm->mem + o->name, o->name_len, name, cn->name_len) > 0)
            break;
        link = &o->next;
    }
    cn->next = *link;
    cn->parent = p;
    *link = c;
}

static void unlink_child(struct sitemap *sm, uint32_t c)
{
    uint32_t *link = &N(sm, N(sm, c)->parent)->child;
    while (*link != c)
        link = &N(sm, *link)->next;
    *link = N(sm, c)->next;
}

static void free_subtree(struct sitemap *sm, uint32_t i)
{
    struct sm_node *n = N(sm, i);
    for (uint32_t c = n->child, next; c != SM_NONE; c = next) {
        next = N(sm, c)->next;
        free_subtree(sm, c);
    }
    if (n->kind == SM_FILE) {
        sm->files--;
        sm->total_blocks -= n->blocks;
    } else {
        sm->dirs--;
    }
    n->kind = 0;
    n->next = sm->free_list;
    sm->free_list = i;
    if (sm->last_hit == i)
        sm->last_hit = SM_NONE;
}

/* ---- hashing ---- */

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* leaf = SHA-256('F' || size as u64 LE || B_0 || ... || B_{n-1}) */
static void leaf_hash(uint32_t size, const uint8_t *blocks, uint32_t n, uint8_t out[SM_HASH])
{
    uint8_t hdr[9] = { SM_FILE };
    put_le(hdr + 1, size, 8);
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, hdr, sizeof hdr);
    sha256_update(&c, blocks, (size_t)n * SM_HASH);
    sha256_final(&c, out);
}

/* dir = SHA-256('D' || for each child in name order: kind || u16 LE name length || name ||
 * child hash) */
static void dir_hash(const struct sitemap *sm, uint32_t i, uint8_t out[SM_HASH])
{
    sha256_ctx c;
    sha256_init(&c);
    uint8_t k = SM_DIR;
    sha256_update(&c, &k, 1);
    for (uint32_t ch = N(sm, i)->child; ch != SM_NONE; ch = N(sm, ch)->next) {
        const struct sm_node *n = N(sm, ch);
        uint8_t hdr[3] = { n->kind };
        put_le(hdr + 1, n->name_len, 2);
        sha256_update(&c, hdr, sizeof hdr);
        sha256_update(&c, sm->mem + n->name, n->name_len);
        sha256_update(&c, n->hash, SM_HASH);
    }
    sha256_final(&c, out);
}

/* Reads block B of an open file into BUF; *GOT bytes (SM_BLOCK except at the end). */
static int read_block(struct fat_file *f, uint32_t b, uint8_t *buf, uint32_t *got)
{
    int err = fat_seek(f, b * SM_BLOCK);
    uint32_t want = f->size - b * SM_BLOCK < SM_BLOCK ? f->size - b * SM_BLOCK : SM_BLOCK;
    *got = 0;
    while (!err && *got < want) {
        uint32_t n;
        err = fat_read(f, buf + *got, want - *got, &n);
        if (!err && !n)
            err = FAT_ECORRUPT;   /* the chain ended before the size did */
        *got += n;
    }
    return err;
}

int sitemap_file_hash(struct fat_volume *vol, const char *path, uint8_t *buf,
                      uint8_t leaf[SM_HASH], uint8_t content[SM_HASH])
{
    struct fat_file f;
    int err = fat_open(vol, &f, path, FAT_O_READ);
    if (err)
        return err;
    uint32_t nb = blocks_for(f.size);
    sha256_ctx lc, cc;
    uint8_t hdr[9] = { SM_FILE }, h[SM_HASH];
    put_le(hdr + 1, f.size, 8);
    sha256_init(&lc);
    sha256_init(&cc);
    sha256_update(&lc, hdr, sizeof hdr);
    for (uint32_t b = 0; b < nb && !err; b++) {
        uint32_t got;
        if ((err = read_block(&f, b, buf, &got)))
            break;
        sha256(buf, got, h);
        sha256_update(&lc, h, SM_HASH);
        if (content)
            sha256_update(&cc, buf, got);
    }
    fat_close(&f);
    if (err)
        return err;
    sha256_final(&lc, leaf);
    if (content)
        sha256_final(&cc, content);
    return FAT_OK;
}

void sitemap_mem_hash(const void *data, uint32_t len, uint8_t *blocks, uint8_t leaf[SM_HASH])
{
    uint32_t nb = blocks_for(len);
    sha256_ctx lc;
    uint8_t hdr[9] = { SM_FILE }, h[SM_HASH];
    put_le(hdr + 1, len, 8);
    sha256_init(&lc);
    sha256_update(&lc, hdr, sizeof hdr);
    for (uint32_t b = 0; b < nb; b++) {
        uint32_t k = len - b * SM_BLOCK < SM_BLOCK ? len - b * SM_BLOCK : SM_BLOCK;
        sha256((const uint8_t *)data + (size_t)b * SM_BLOCK, k, blocks ? blocks + (size_t)b * SM_HASH : h);
        sha256_update(&lc, blocks ? blocks + (size_t)b * SM_HASH : h, SM_HASH);
    }
    sha256_final(&lc, leaf);
}

static int ensure_cap(struct sitemap *sm, uint32_t i, uint32_t nb)
{
    struct sm_node *n = N(sm, i);
    if (nb <= n->cap)
        return SM_OK;
    uint32_t off;
    int err = pool_alloc(sm, (size_t)nb * SM_HASH, &off);
    if (err)
        return err;
    n = N(sm, i);
    memcpy(sm->mem + off, sm->mem + n->blk, (size_t)n->blocks * SM_HASH);
    n->blk = off;
    n->cap = nb;
    return SM_OK;
}

/* Rehashes blocks [lo, hi) of file node I (all of them when ALL) at PATH.  A whole-file
 * pass also produces the content hash; a partial one keeps it only for files of at most
 * one block (where it equals B_0) and otherwise marks it stale (sitemap_content_all). */
static int hash_file(struct sitemap *sm, uint32_t i, const char *path, bool all)
{
    struct fat_file f;
    int err = fat_open(sm->vol, &f, path, FAT_O_READ);
    if (err)
        return fat_fail(sm, err);
    struct sm_node *n = N(sm, i);
    uint32_t nb = blocks_for(f.size), lo = 0, hi = nb;
    if (!all) {
        lo = n->dlo, hi = n->dhi < nb ? n->dhi : nb;
        if (f.size != n->size) {   /* the old and the new last block are partial */
            uint32_t m = (f.size < n->size ? f.size : n->size) / SM_BLOCK;
            if (m < lo) lo = m;
            hi = nb;
        }
    }
    if ((err = ensure_cap(sm, i, nb))) {
        fat_close(&f);
        return err;
    }
    n = N(sm, i);
    sm->total_blocks += nb;
    sm->total_blocks -= n->blocks;
    n->size = f.size;
    n->blocks = nb;
    n->first = f.first;
    sha256_ctx cc;
    sha256_init(&cc);
    bool content = all && nb > 1;
    for (uint32_t b = lo; b < hi; b++) {
        uint32_t got;
        if ((err = read_block(&f, b, sm->buf, &got))) {
            fat_close(&f);
            return fat_fail(sm, err);
        }
        sha256(sm->buf, got, sm->mem + n->blk + (size_t)b * SM_HASH);
        if (content)
            sha256_update(&cc, sm->buf, got);
        sm->stats.blocks_hashed++;
        sm->stats.bytes_hashed += got;
    }
    fat_close(&f);
    if (content) {
        sha256_final(&cc, n->content);
        n->flags |= SM_F_CONTENT;
    } else if (nb <= 1) {
        if (nb)
            memcpy(n->content, sm->mem + n->blk, SM_HASH);
        else
            sha256("", 0, n->content);
        n->flags |= SM_F_CONTENT;
    } else {
        n->flags &= (uint8_t)~SM_F_CONTENT;
    }
    leaf_hash(n->size, sm->mem + n->blk, nb, n->hash);
    sm->stats.files_hashed++;
    return SM_OK;
}

/* ---- directories ---- */

static bool ieq(const char *a, size_t al, const char *b)
{
    size_t bl = strlen(b);
    if (al != bl)
        return false;
    for (size_t k = 0; k < al; k++) {
        char x = a[k], y = b[k];
        if (x >= 'a' && x <= 'z') x = (char)(x - 32);
        if (y >= 'a' && y <= 'z') y = (char)(y - 32);
        if (x != y)
            return false;
    }
    return true;
}

static const char *fs_path(const char *p) { return p[0] ? p : "/"; }

/* Lists directory I (at PATH) and reconciles its children with the entries: unchanged
 * entries keep their node, new or different ones get a fresh node marked NEW, vanished
 * ones are freed. */
static int sync_dir(struct sitemap *sm, uint32_t i, const char *path)
{
    struct fat_dir d;
    struct fat_dirent e;
    int err = fat_opendir(sm->vol, &d, fs_path(path));
    if (err)
        return fat_fail(sm, err);
    sm->stats.dirs_listed++;
    for (uint32_t c = N(sm, i)->child; c != SM_NONE; c = N(sm, c)->next)
        N(sm, c)->flags &= (uint8_t)~SM_F_SEEN;
    while ((err = fat_readdir(&d, &e)) == FAT_OK) {
        size_t len = strlen(e.name);
        if (i == sm->root && (ieq(e.name, len, SM_SAVE_NAME) || ieq(e.name, len, SM_TEMP_NAME)))
            continue;
        uint8_t kind = (e.attr & FAT_ATTR_DIR) ? SM_DIR : SM_FILE;
        uint32_t c = N(sm, i)->child;
        for (; c != SM_NONE; c = N(sm, c)->next) {
            struct sm_node *o = N(sm, c);
            if (o->name_len == len && memcmp(sm->mem + o->name, e.name, len) == 0)
                break;
        }
        if (c != SM_NONE) {
            struct sm_node *o = N(sm, c);
            bool same = o->kind == kind && o->first == e.first &&
                        (kind == SM_DIR ||
                         (o->idx == e.idx && (o->size == e.size || (o->flags & SM_F_DATA))));
            if (same && !(o->flags & SM_F_SEEN)) {
                o->flags |= SM_F_SEEN;
                o->idx = e.idx;
                continue;
            }
            unlink_child(sm, c);
            free_subtree(sm, c);
        }
        uint32_t nn = node_alloc(sm), off;
        if (nn == SM_NONE || pool_alloc(sm, len + 1, &off))
            return SM_ENOMEM;
        memcpy(sm->mem + off, e.name, len + 1);
        struct sm_node *n = N(sm, nn);
        n->name = off;
        n->name_len = (uint16_t)len;
        n->kind = kind;
        n->flags = SM_F_NEW | SM_F_SEEN;
        n->first = e.first;
        n->size = e.size;
        n->dir = N(sm, i)->first;
        n->idx = e.idx;
        link_child(sm, i, nn);
        if (kind == SM_FILE)
            sm->files++;
        else
            sm->dirs++;
    }
    if (err != FAT_ENOENT)
        return fat_fail(sm, err);
    for (uint32_t c = N(sm, i)->child, next; c != SM_NONE; c = next) {
        next = N(sm, c)->next;
        if (!(N(sm, c)->flags & SM_F_SEEN)) {
            unlink_child(sm, c);
            free_subtree(sm, c);
        }
    }
    return SM_OK;
}

enum { DIRTY = SM_F_RELIST | SM_F_DATA | SM_F_NEW | SM_F_BELOW };

/* Brings node I (whose path is sm->path, PLEN bytes) up to date. */
static int process(struct sitemap *sm, uint32_t i, size_t plen, uint32_t depth)
{
    struct sm_node *n = N(sm, i);
    int err;
    if (n->kind == SM_FILE) {
        if (n->flags & (SM_F_NEW | SM_F_DATA))
            if ((err = hash_file(sm, i, sm->path, (n->flags & SM_F_NEW) != 0)))
                return err;
        N(sm, i)->flags &= (uint8_t)~DIRTY;
        return SM_OK;
    }
    if (depth > SM_DEPTH_MAX)
        return SM_EDEPTH;
    if ((n->flags & (SM_F_NEW | SM_F_RELIST)) && (err = sync_dir(sm, i, sm->path)))
        return err;
    for (uint32_t c = N(sm, i)->child; c != SM_NONE; c = N(sm, c)->next) {
        struct sm_node *cn = N(sm, c);
        if (!(cn->flags & DIRTY))
            continue;
        if (plen + 1 + cn->name_len + 1 > SM_PATH_MAX)
            return SM_EPATH;
        sm->path[plen] = '/';
        memcpy(sm->path + plen + 1, sm->mem + cn->name, cn->name_len);
        sm->path[plen + 1 + cn->name_len] = 0;
        if ((err = process(sm, c, plen + 1 + cn->name_len, depth + 1)))
            return err;
        sm->path[plen] = 0;
    }
    n = N(sm, i);
    dir_hash(sm, i, n->hash);
    n->flags &= (uint8_t)~DIRTY;
    sm->stats.dirs_hashed++;
    return SM_OK;
}

/* ---- change events ---- */

static void mark_up(struct sitemap *sm, uint32_t i)
{
    for (uint32_t p = N(sm, i)->parent; p != SM_NONE; p = N(sm, p)->parent) {
        if (N(sm, p)->flags & SM_F_BELOW)
            break;
        N(sm, p)->flags |= SM_F_BELOW;
    }
}

static uint32_t find_event_node(struct sitemap *sm, const struct fat_change *c)
{
    uint8_t kind = c->kind == FAT_CHANGE_DIR ? SM_DIR : SM_FILE;
    uint32_t h = sm->last_hit;
    for (uint32_t k = 0; k <= sm->nnodes; k++) {
        uint32_t i = k == 0 ? h : k - 1;
        if (i == SM_NONE || (k > 0 && i == h))
            continue;
        struct sm_node *n = N(sm, i);
        if (n->kind == kind && (kind == SM_DIR ? n->first == c->dir
                                               : n->dir == c->dir && n->idx == c->idx))
            return sm->last_hit = i;
    }
    return SM_NONE;
}

/* A change the FAT core reports.  Events for entries the tree does not hold are dropped:
 * such an entry was created after the last listing of its directory, whose own event
 * makes the refresh list it and hash the new entry whole. */
static void on_change(void *ctx, const struct fat_change *c)
{
    struct sitemap *sm = ctx;
    if (sm->muted || !sm->built)
        return;
    uint32_t i = find_event_node(sm, c);
    if (i == SM_NONE)
        return;
    struct sm_node *n = N(sm, i);
    if (c->kind == FAT_CHANGE_DIR) {
        n->flags |= SM_F_RELIST;
    } else {
        uint32_t lo = c->off / SM_BLOCK;
        uint32_t hi = (uint32_t)(((uint64_t)c->off + c->len + SM_BLOCK - 1) / SM_BLOCK);
        if (!(n->flags & SM_F_DATA)) {
            n->dlo = lo, n->dhi = hi;
        } else {
            if (lo < n->dlo) n->dlo = lo;
            if (hi > n->dhi) n->dhi = hi;
        }
        n->flags |= SM_F_DATA;
    }
    mark_up(sm, i);
}

/* ---- public ---- */

int sitemap_init(struct sitemap *sm, struct fat_volume *vol, void *mem, size_t size)
{
    uintptr_t a = (uintptr_t)mem, aligned = (a + 7) & ~(uintptr_t)7;
    if (size < aligned - a + 2 * sizeof(struct sm_node) || size - (aligned - a) > 0xFFFFFFFFu)
        return SM_ENOMEM;
    memset(sm, 0, sizeof *sm);
    sm->vol = vol;
    sm->mem = (uint8_t *)aligned;
    sm->size = size - (aligned - a);
    sm->nodes = (struct sm_node *)sm->mem;
    sm->root = 0;
    sm->last_hit = SM_NONE;
    if (vol) {
        vol->on_change = on_change;
        vol->change_ctx = sm;
    }
    return SM_OK;
}

void sitemap_detach(struct sitemap *sm)
{
    if (sm->vol && sm->vol->change_ctx == sm) {
        sm->vol->on_change = NULL;
        sm->vol->change_ctx = NULL;
    }
}

void sitemap_invalidate(struct sitemap *sm) { sm->built = false; }

static void reset(struct sitemap *sm)
{
    sm->nnodes = 0;
    sm->free_list = SM_NONE;
    sm->top = sm->size;
    sm->files = sm->dirs = 0;
    sm->total_blocks = 0;
    sm->built = sm->overflow = false;
    sm->last_hit = SM_NONE;
    memset(&sm->stats, 0, sizeof sm->stats);
}

int sitemap_build(struct sitemap *sm)
{
    if (!sm->vol)
        return SM_ENOTBUILT;
    reset(sm);
    sm->stats.full = true;
    uint32_t r = node_alloc(sm), off;
    if (r == SM_NONE || pool_alloc(sm, 1, &off))
        return SM_ENOMEM;
    sm->mem[off] = 0;
    struct sm_node *n = N(sm, r);
    n->kind = SM_DIR;
    n->name = off;
    n->first = sm->vol->root_cluster;
    n->flags = SM_F_NEW;
    sm->root = r;
    sm->dirs = 1;
    sm->path[0] = 0;
    int err = process(sm, r, 0, 0);
    sm->built = err == SM_OK;
    return err;
}

int sitemap_refresh(struct sitemap *sm)
{
    if (!sm->built || sm->overflow)
        return sitemap_build(sm);
    memset(&sm->stats, 0, sizeof sm->stats);
    if (!(N(sm, sm->root)->flags & DIRTY))
        return SM_OK;   /* nothing was reported since the last refresh */
    sm->path[0] = 0;
    int err = process(sm, sm->root, 0, 0);
    if (err == SM_ENOMEM)
        return sitemap_build(sm);   /* the pool is fragmented: start over */
    if (err)
        sm->built = false;          /* flags may be half cleared: next time rebuild */
    return err;
}

int sitemap_path(const struct sitemap *sm, uint32_t n, char *out, size_t outsz)
{
    uint32_t chain[SM_DEPTH_MAX + 2], depth = 0;
    for (uint32_t i = n; i != sm->root && i != SM_NONE; i = N(sm, i)->parent) {
        if (depth == SM_DEPTH_MAX + 2)
            return SM_EDEPTH;
        chain[depth++] = i;
    }
    size_t len = 0;
    if (outsz < 2)
        return SM_EPATH;
    out[0] = '/', out[1] = 0;
    while (depth--) {
        const struct sm_node *c = N(sm, chain[depth]);
        if (len + 1 + c->name_len + 1 > outsz)
            return SM_EPATH;
        out[len++] = '/';
        memcpy(out + len, sm->mem + c->name, c->name_len);
        len += c->name_len;
        out[len] = 0;
    }
    return SM_OK;
}

uint32_t sitemap_find(const struct sitemap *sm, const char *path)
{
    if (!sm->built)
        return SM_NONE;
    uint32_t i = sm->root;
    while (*path) {
        while (*path == '/')
            path++;
        size_t len = 0;
        while (path[len] && path[len] != '/')
            len++;
        if (!len)
            break;
        if (len == 1 && path[0] == '.') {
        } else if (len == 2 && path[0] == '.' && path[1] == '.') {
            if (i != sm->root)
                i = N(sm, i)->parent;
        } else {
            uint32_t c = N(sm, i)->child;
            for (; c != SM_NONE; c = N(sm, c)->next) {
                const struct sm_node *n = N(sm, c);
                char nm[FAT_NAME_MAX];
                memcpy(nm, sm->mem + n->name, n->name_len);
                nm[n->name_len] = 0;
                if (ieq(path, len, nm))
                    break;
            }
            if (c == SM_NONE)
                return SM_NONE;
            i = c;
        }
        path += len;
    }
    return i;
}

static void walk(const struct sitemap *sm, uint32_t i, char *path, size_t plen, sm_walk_fn fn,
                 void *ctx)
{
    fn(ctx, sm, i, plen ? path : "/");
    for (uint32_t c = N(sm, i)->child; c != SM_NONE; c = N(sm, c)->next) {
        const struct sm_node *n = N(sm, c);
        if (plen + 2 + n->name_len > SM_PATH_MAX)
            continue;
        path[plen] = '/';
        memcpy(path + plen + 1, sm->mem + n->name, n->name_len);
        path[plen + 1 + n->name_len] = 0;
        walk(sm, c, path, plen + 1 + n->name_len, fn, ctx);
        path[plen] = 0;
    }
}

void sitemap_walk(const struct sitemap *sm, sm_walk_fn fn, void *ctx)
{
    char path[SM_PATH_MAX];
    path[0] = 0;
    if (sm->built)
        walk(sm, sm->root, path, 0, fn, ctx);
}

static int content_walk(struct sitemap *sm, uint32_t i, size_t plen)
{
    struct sm_node *n = N(sm, i);
    if (n->kind == SM_FILE) {
        if (n->flags & SM_F_CONTENT)
            return SM_OK;
        uint8_t leaf[SM_HASH];
        int err = sitemap_file_hash(sm->vol, sm->path, sm->buf, leaf, n->content);
        if (err)
            return fat_fail(sm, err);
        n->flags |= SM_F_CONTENT;
        sm->stats.content_bytes += n->size;
        return SM_OK;
    }
    for (uint32_t c = n->child; c != SM_NONE; c = N(sm, c)->next) {
        struct sm_node *cn = N(sm, c);
        if (plen + 2 + cn->name_len > SM_PATH_MAX)
            return SM_EPATH;
        sm->path[plen] = '/';
        memcpy(sm->path + plen + 1, sm->mem + cn->name, cn->name_len);
        sm->path[plen + 1 + cn->name_len] = 0;
        int err = content_walk(sm, c, plen + 1 + cn->name_len);
        if (err)
            return err;
        sm->path[plen] = 0;
    }
    return SM_OK;
}

int sitemap_content_all(struct sitemap *sm)
{
    if (!sm->built)
        return SM_ENOTBUILT;
    sm->path[0] = 0;
    return content_walk(sm, sm->root, 0);
}

/* Shared with sitemap_io.c. */
void sm_leaf_hash(uint32_t size, const uint8_t *blocks, uint32_t n, uint8_t out[SM_HASH])
{
    leaf_hash(size, blocks, n, out);
}
void sm_dir_hash(const struct sitemap *sm, uint32_t i, uint8_t out[SM_HASH]) { dir_hash(sm, i, out); }
uint32_t sm_node_alloc(struct sitemap *sm) { return node_alloc(sm); }
int sm_pool_alloc(struct sitemap *sm, size_t bytes, uint32_t *off) { return pool_alloc(sm, bytes, off); }
void sm_reset(struct sitemap *sm) { reset(sm); }

void sitemap_node_line(const struct sitemap *sm, uint32_t i, const char *path, char line[SM_LINE_MAX])
{
    const struct sm_node *n = &sm->nodes[i];
    char h[65], c[65];
    sha256_hex(n->hash, h);
    if (n->kind == SM_FILE) {
        sha256_hex(n->content, c);
        snprintf(line, SM_LINE_MAX, "F %s %s %u %s", h, c, (unsigned)n->size, path);
    } else {
        snprintf(line, SM_LINE_MAX, "D %s - - %s%s", h, path, path[1] ? "/" : "");
    }
}
