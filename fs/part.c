/* GPT and MBR probing; see part.h.  Fields are read by named offsets with little-endian
 * loaders, never through packed structs. */
#include "fs/part.h"
#include "lib/crc32.h"
#include <string.h>

enum {
    MBR_SIG_OFF = 510,      /* 0x55 0xAA */
    MBR_TABLE_OFF = 446,    /* four 16-byte entries */
    MBR_ENT_STATUS = 0,     /* 0x00 or 0x80 (bootable) */
    MBR_ENT_TYPE = 4,
    MBR_ENT_LBA = 8,
    MBR_ENT_COUNT = 12,
    MBR_TYPE_GPT = 0xEE,    /* protective entry of a GPT disk */
    MBR_TYPE_EXT_CHS = 0x05,
    MBR_TYPE_EXT_LBA = 0x0F,

    GPT_SIG = 0,            /* "EFI PART" */
    GPT_HDR_SIZE = 12,
    GPT_HDR_CRC = 16,
    GPT_MY_LBA = 24,
    GPT_ALT_LBA = 32,
    GPT_ENTRIES_LBA = 72,
    GPT_NUM_ENTRIES = 80,
    GPT_ENTRY_SIZE = 84,
    GPT_ENTRIES_CRC = 88,
    GPT_MIN_HDR = 92,

    GPTE_TYPE = 0,
    GPTE_FIRST = 32,
    GPTE_LAST = 40,
};

static uint32_t ld32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t ld64(const uint8_t *p) { return ld32(p) | (uint64_t)ld32(p + 4) << 32; }

const char *part_strerror(int err)
{
    switch (err) {
    case PART_OK: return "success";
    case PART_EIO: return "I/O error reading the partition table";
    case PART_ENOTABLE: return "no partition table";
    case PART_EBADGPT: return "GPT damaged (CRC mismatch in both copies)";
    case PART_ERANGE: return "no such partition";
    }
    return "unknown partition error";
}

static bool fits(const struct blkdev *dev, uint64_t lba, uint64_t n)
{
    return n > 0 && lba < dev->sectors && n <= dev->sectors - lba;
}

/* Checks the GPT header at LBA and its entry array; on success fills PARTS. */
static int gpt_read(struct blkdev *dev, uint8_t *buf, uint64_t lba, struct part_info *parts,
                    int max, int *count)
{
    uint32_t ss = dev->sector_size;
    if (blk_read(dev, lba, 1, buf))
        return PART_EIO;
    if (memcmp(buf + GPT_SIG, "EFI PART", 8) != 0)
        return PART_EBADGPT;
    uint32_t hsize = ld32(buf + GPT_HDR_SIZE), want = ld32(buf + GPT_HDR_CRC);
    if (hsize < GPT_MIN_HDR || hsize > ss || ld64(buf + GPT_MY_LBA) != lba)
        return PART_EBADGPT;
    memset(buf + GPT_HDR_CRC, 0, 4);
    if (crc32(buf, hsize) != want)
        return PART_EBADGPT;
    uint64_t elba = ld64(buf + GPT_ENTRIES_LBA);
    uint32_t nent = ld32(buf + GPT_NUM_ENTRIES), esize = ld32(buf + GPT_ENTRY_SIZE);
    uint32_t ecrc = ld32(buf + GPT_ENTRIES_CRC);
    if (esize < 128 || esize > ss || ss % esize || nent > 65536)
        return PART_EBADGPT;
    uint64_t nsec = ((uint64_t)nent * esize + ss - 1) / ss;
    if (!fits(dev, elba, nsec))
        return PART_EBADGPT;
    uint32_t crc = 0, left = nent;
    int n = 0;
    for (uint64_t s = 0; s < nsec; s++) {
        if (blk_read(dev, elba + s, 1, buf))
            return PART_EIO;
        uint32_t here = ss / esize < left ? ss / esize : left;
        crc = crc32_update(crc, buf, (size_t)here * esize);
        for (uint32_t i = 0; i < here; i++) {
            const uint8_t *e = buf + i * esize;
            static const uint8_t zero[16];
            if (memcmp(e + GPTE_TYPE, zero, 16) == 0)
                continue;
            uint64_t first = ld64(e + GPTE_FIRST), last = ld64(e + GPTE_LAST);
            if (last < first || !fits(dev, first, last - first + 1) || n >= max)
                continue;
            parts[n] = (struct part_info){ .lba = first, .sectors = last - first + 1,
                                           .scheme = PART_SCHEME_GPT };
            memcpy(parts[n].type_guid, e + GPTE_TYPE, 16);
            n++;
        }
        left -= here;
    }
    if (crc != ecrc)
        return PART_EBADGPT;
    *count = n;
    return PART_OK;
}

/* A FAT boot sector starts with a jump and has a sane bytes-per-sector field; an MBR has
 * neither, which is how a bare volume is told apart from a partitioned disk. */
static bool looks_like_boot_sector(const uint8_t *b)
{
    uint32_t bps = b[11] | b[12] << 8;
    return (b[0] == 0xEB || b[0] == 0xE9) && bps >= 512 && bps <= 4096 && !(bps & (bps - 1)) &&
           b[13] != 0;
}

int part_probe(struct blkdev *dev, void *scratch, struct part_info *parts, int max, int *count)
{
    uint8_t *buf = scratch;
    *count = 0;
    if (dev->sectors < 2)
        return PART_ENOTABLE;
    if (blk_read(dev, 0, 1, buf))
        return PART_EIO;
    if (buf[MBR_SIG_OFF] != 0x55 || buf[MBR_SIG_OFF + 1] != 0xAA || looks_like_boot_sector(buf))
        return PART_ENOTABLE;
    bool protective = false;
    struct part_info mbr[4];
    int nm = 0;
    for (int i = 0; i < 4; i++) {
        const uint8_t *e = buf + MBR_TABLE_OFF + 16 * i;
        if (e[MBR_ENT_STATUS] != 0 && e[MBR_ENT_STATUS] != 0x80)
            return PART_ENOTABLE;
        uint8_t type = e[MBR_ENT_TYPE];
        if (type == MBR_TYPE_GPT)
            protective = true;
        uint64_t lba = ld32(e + MBR_ENT_LBA), n = ld32(e + MBR_ENT_COUNT);
        if (type == 0 || type == MBR_TYPE_EXT_CHS || type == MBR_TYPE_EXT_LBA ||
            type == MBR_TYPE_GPT)
            continue;
        if (n > dev->sectors - (lba < dev->sectors ? lba : dev->sectors))
            n = lba < dev->sectors ? dev->sectors - lba : 0; /* clip a table that overhangs */
        if (!fits(dev, lba, n))
            continue;
        mbr[nm++] = (struct part_info){ .lba = lba, .sectors = n, .scheme = PART_SCHEME_MBR,
                                        .mbr_type = type };
    }
    if (protective) {
        int err = gpt_read(dev, buf, 1, parts, max, count);
        if (err == PART_EBADGPT)
            err = gpt_read(dev, buf, dev->sectors - 1, parts, max, count);
        return err;
    }
    for (int i = 0; i < nm && i < max; i++)
        parts[(*count)++] = mbr[i];
    return *count ? PART_OK : PART_ENOTABLE;
}

int part_find(struct blkdev *dev, void *scratch, int n, struct part_info *out)
{
    struct part_info parts[16];
    int count, err = part_probe(dev, scratch, parts, 16, &count);
    if (err)
        return err;
    if (n < 1 || n > count)
        return PART_ERANGE;
    *out = parts[n - 1];
    return PART_OK;
}
