/* fs/hotfile.c: reads through the content-addressed block cache; see hotfile.h. */
#include <string.h>
#include "fs/hotfile.h"

#define CHUNK 0x40000000u /* fat_read takes 32-bit counts */

uint32_t hotfile_node(const struct sitemap *sm, const struct fat_volume *vol, const char *path)
{
    /* A tree that is not the volume's change listener has missed changes. */
    if (!sm || !sm->built || sm->overflow || sm->vol != vol || vol->change_ctx != sm)
        return SM_NONE;
    uint32_t i = sitemap_find(sm, path);
    if (i == SM_NONE || sm->nodes[i].kind != SM_FILE ||
        (sm->nodes[i].flags & (SM_F_DATA | SM_F_NEW)))
        return SM_NONE;
    /* A directory to be listed again may hold another file under this name by now. */
    for (uint32_t p = sm->nodes[i].parent; p != SM_NONE; p = sm->nodes[p].parent)
        if (sm->nodes[p].flags & (SM_F_RELIST | SM_F_NEW))
            return SM_NONE;
    return i;
}

static int fat_fail(struct hotfile *h, int err)
{
    h->fat_err = err;
    return HOT_EFAT;
}

/* Straight from the volume, as fat_read does it. */
static int read_cold(struct hotfile *h, const char *path, uint64_t off, uint8_t *buf, size_t len,
                     size_t *got)
{
    struct fat_file f;
    int e = fat_open(h->vol, &f, path, FAT_O_READ);
    if (e)
        return fat_fail(h, e);
    if (off < f.size)
        e = fat_seek(&f, (uint32_t)off);
    while (!e && off < f.size && *got < len) {
        uint32_t want = len - *got > CHUNK ? CHUNK : (uint32_t)(len - *got), n = 0;
        e = fat_read(&f, buf + *got, want, &n);
        *got += n;
        if (n < want)
            break;
    }
    fat_close(&f);
    return e ? fat_fail(h, e) : HOT_OK;
}

int hotfile_read(struct hotfile *h, const char *path, uint64_t off, void *buf, size_t len,
                 size_t *got)
{
    *got = 0;
    uint32_t i = h->cache ? hotfile_node(h->sm, h->vol, path) : SM_NONE;
    if (i == SM_NONE) {
        h->reads_cold++;
        return read_cold(h, path, off, buf, len, got);
    }
    h->reads_hot++;
    const struct sm_node *n = &h->sm->nodes[i];
    const uint8_t *hashes = sitemap_blocks(h->sm, n);
    uint32_t size = n->size;
    if (off >= size)
        return HOT_OK;
    if (len > size - off)
        len = (size_t)(size - off);
    struct fat_file f;
    bool open = false;
    int err = HOT_OK;
    while (*got < len) {
        uint32_t pos = (uint32_t)(off + *got), b = pos / SM_BLOCK, boff = pos % SM_BLOCK;
        uint32_t blen = size - b * SM_BLOCK < SM_BLOCK ? size - b * SM_BLOCK : SM_BLOCK;
        const uint8_t *key = hashes + (size_t)b * SM_HASH;
        size_t vlen = 0;
        const uint8_t *v = cas_get(h->cache, CAS_KIND_BLOCK, key, &vlen, false);
        if (!v || vlen != blen) {
            uint32_t n_read = 0;
            uint8_t sum[SM_HASH];
            if (!open && (err = fat_open(h->vol, &f, path, FAT_O_READ))) {
                err = fat_fail(h, err);
                break;
            }
            open = true;
            if ((err = fat_seek(&f, b * SM_BLOCK)) ||
                (err = fat_read(&f, h->blk, blen, &n_read))) {
                err = fat_fail(h, err);
                break;
            }
            if (n_read == blen)
                sha256(h->blk, blen, sum);
            if (n_read != blen || memcmp(sum, key, SM_HASH)) {
                h->bad_block = b;
                h->corrupt++;
                err = HOT_ECORRUPT;
                break;
            }
            cas_put(h->cache, CAS_KIND_BLOCK, key, h->blk, blen); /* too big: just not kept */
            v = h->blk;
        }
        size_t k = blen - boff < len - *got ? blen - boff : len - *got;
        memcpy((uint8_t *)buf + *got, v + boff, k);
        *got += k;
    }
    if (open)
        fat_close(&f);
    return err;
}
