/* The file allocation table: entry access for the three widths, chain steps, allocation
 * and freeing.  All access goes through the block cache in class BC_FAT; the cache's
 * write hook copies each FAT block to every FAT, so the copies never diverge on disk.
 * Invariant: every walk is bounded by the cluster count and rejects links outside
 * 2 .. clusters+1, so a cyclic or wild chain ends in FAT_ECORRUPT, not a hang.
 * Freed clusters of a live volume are not reusable until the next sync (see
 * fat_defer_free), which is what makes the crash ordering in docs/FAT.md hold. */
#include "fs/fat_int.h"

int err_from_bc(int e) { return e == BC_OK ? FAT_OK : e == BC_ENOMEM ? FAT_ENOMEM : FAT_EIO; }

static int byte_at(struct fat_volume *v, uint32_t off, uint8_t **p)
{
    uint8_t *b;
    int err = bcache_get(&v->cache, v->fat_start + off / v->bps, true, &b);
    if (err)
        return err_from_bc(err);
    *p = b + off % v->bps;
    return FAT_OK;
}

int fat_get(struct fat_volume *v, uint32_t c, uint32_t *val)
{
    uint8_t *p = NULL;
    int err;
    if (c >= v->clusters + 2)
        return FAT_ECORRUPT;
    if (v->type == 32) {
        if ((err = byte_at(v, c * 4, &p))) return err;
        *val = ld32(p) & 0x0FFFFFFF;
    } else if (v->type == 16) {
        if ((err = byte_at(v, c * 2, &p))) return err;
        *val = ld16(p);
    } else {
        uint32_t off = c + c / 2;   /* 12-bit entries may straddle two sectors */
        if ((err = byte_at(v, off, &p))) return err;
        uint32_t lo = *p;
        if ((err = byte_at(v, off + 1, &p))) return err;
        uint32_t w = lo | (uint32_t)*p << 8;
        *val = c & 1 ? w >> 4 : w & 0xFFF;
    }
    return FAT_OK;
}

int fat_set(struct fat_volume *v, uint32_t c, uint32_t val)
{
    uint8_t *p = NULL;
    int err;
    if (c >= v->clusters + 2)
        return FAT_ECORRUPT;
    if (v->type == 32) {
        if ((err = byte_at(v, c * 4, &p))) return err;
        st32(p, (ld32(p) & 0xF0000000) | (val & 0x0FFFFFFF));   /* top bits are reserved */
        bcache_dirty(&v->cache, p, BC_FAT);
    } else if (v->type == 16) {
        if ((err = byte_at(v, c * 2, &p))) return err;
        st16(p, (uint16_t)val);
        bcache_dirty(&v->cache, p, BC_FAT);
    } else {
        uint32_t off = c + c / 2;
        val &= 0xFFF;
        if ((err = byte_at(v, off, &p))) return err;
        *p = (uint8_t)(c & 1 ? (*p & 0x0F) | (val << 4 & 0xF0) : val);
        bcache_dirty(&v->cache, p, BC_FAT);
        if ((err = byte_at(v, off + 1, &p))) return err;
        *p = (uint8_t)(c & 1 ? val >> 4 : (*p & 0xF0) | (val >> 8));
        bcache_dirty(&v->cache, p, BC_FAT);
    }
    return FAT_OK;
}

bool fat_is_eoc(const struct fat_volume *v, uint32_t val)
{
    return v->type == 32 ? val >= 0x0FFFFFF8 : v->type == 16 ? val >= 0xFFF8 : val >= 0xFF8;
}

int fat_next(struct fat_volume *v, uint32_t c, uint32_t *next)
{
    uint32_t val;
    int err = fat_get(v, c, &val);
    if (err)
        return err;
    if (fat_is_eoc(v, val))
        *next = 0;
    else if (clus_ok(v, val))
        *next = val;
    else
        return FAT_ECORRUPT;
    return FAT_OK;
}

static int alloc_once(struct fat_volume *v, uint32_t hint, uint32_t prev, uint32_t *out)
{
    if (v->free_known && v->free_count == 0)
        return FAT_ENOSPC;
    uint32_t c = clus_ok(v, hint) ? hint : clus_ok(v, v->next_free) ? v->next_free : 2;
    for (uint32_t n = 0; n < v->clusters; n++, c++) {
        if (!clus_ok(v, c))
            c = 2;
        uint32_t val;
        int err = fat_get(v, c, &val);
        if (err)
            return err;
        if (val != 0)
            continue;
        if ((err = fat_set(v, c, FAT_EOC)) || (prev && (err = fat_set(v, prev, c))))
            return err;
        if (v->free_known)
            v->free_count--;
        v->next_free = c + 1;
        v->dirty = true;
        *out = c;
        return FAT_OK;
    }
    v->free_known = true;
    v->free_count = 0;
    return FAT_ENOSPC;
}

int fat_alloc(struct fat_volume *v, uint32_t hint, uint32_t prev, uint32_t *out)
{
    int err = alloc_once(v, hint, prev, out);
    /* Chains detached since the last sync (a deleted file) are free space the caller
     * expects to reuse: sync, which frees them in the safe order, and try again. */
    if (err == FAT_ENOSPC && v->npending && !(err = fat_sync(v)))
        err = alloc_once(v, hint, prev, out);
    return err;
}

int fat_free_chain(struct fat_volume *v, uint32_t c)
{
    for (uint32_t n = 0; n < v->clusters && clus_ok(v, c); n++) {
        uint32_t val;
        int err = fat_get(v, c, &val);
        if (err)
            return err;
        if (val == 0)
            break;   /* already free: a cross-linked or damaged chain; stop here */
        if ((err = fat_set(v, c, 0)))
            return err;
        if (v->free_known)
            v->free_count++;
        v->dirty = true;
        c = fat_is_eoc(v, val) ? 0 : val;
    }
    return FAT_OK;
}

int fat_defer_free(struct fat_volume *v, uint32_t c)
{
    if (!clus_ok(v, c))
        return FAT_OK;
    if (v->npending == FAT_PENDING) {
        int err = fat_sync(v);
        if (err)
            return err;
    }
    v->pending[v->npending++] = c;
    v->dirty = true;
    return FAT_OK;
}

int fat_apply_pending(struct fat_volume *v)
{
    while (v->npending) {
        int err = fat_free_chain(v, v->pending[v->npending - 1]);
        if (err)
            return err;
        v->npending--;
    }
    return FAT_OK;
}

int fat_count_free(struct fat_volume *v, uint32_t *n)
{
    uint32_t count = 0;
    for (uint32_t c = 2; c < v->clusters + 2; c++) {
        uint32_t val;
        int err = fat_get(v, c, &val);
        if (err)
            return err;
        count += val == 0;
    }
    *n = count;
    return FAT_OK;
}
