/* tests/sitemap/test_hotfile.c: the block cache (fs/hotfile.h) on a RAM copy of an
 * mkfs.fat + mtools image, with a live sitemap and a lib/cas cache.  Checks: every read,
 * at any offset and length, returns the file's bytes (compared with the source); a second
 * pass hits the cache; two files with the same content share entries; a budget smaller
 * than the working set evicts and reads stay right; after a write, a rename over a name
 * or a truncate through the FAT core the next read returns the new bytes (straight from
 * the volume until the sitemap is refreshed, from the cache after); a byte changed on the
 * image behind the filesystem is refused (HOT_ECORRUPT, the block named) while blocks
 * cached before stay served; without a tree, or a detached one, reads go straight. */
#define _GNU_SOURCE
#include "fs/hotfile.h"
#include "lib/host/blk_file.h"
#include "tests/check.h"
#include <stdlib.h>
#include <string.h>

static uint8_t *img;
static size_t img_size;
static struct blk_ram ram;
static uint8_t fatmem[1 << 20], tree_mem[1 << 20];
static _Alignas(4096) uint8_t cas_mem[256 << 10];
static struct fat_volume vol;
static struct sitemap sm;
static struct cas cache;
static struct hotfile h;
static uint8_t big[20000], other[9000];
static const char *IMG = "build/tests/hotfile.img";

static int setup(void)
{
    srand(11);
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)rand();
    for (size_t i = 0; i < sizeof other; i++)
        other[i] = (uint8_t)(rand() >> 3);
    FILE *fp = fopen("build/tests/hotfile.big", "wb");
    if (!fp) return -1;
    fwrite(big, 1, sizeof big, fp);
    fclose(fp);
    if (system("set -e; f=build/tests/hotfile.img; rm -f $f; mkfs.fat -F 12 -s 16 -C $f 8192 "
               ">/dev/null; mmd -i $f ::/d; mcopy -i $f build/tests/hotfile.big ::/big.bin;"
               "mcopy -i $f build/tests/hotfile.big ::/d/twin.bin") != 0)
        return -1;
    fp = fopen(IMG, "rb");
    if (!fp) return -1;
    fseek(fp, 0, SEEK_END);
    img_size = (size_t)ftell(fp);
    rewind(fp);
    img = malloc(img_size);
    size_t got = fread(img, 1, img_size, fp);
    fclose(fp);
    if (got != img_size) return -1;
    blk_ram_init(&ram, img, 512, img_size / 512);
    return fat_mount(&vol, &ram.dev, 0, 0, fatmem, sizeof fatmem, 0);
}

/* Reads all of PATH through the cache into OUT; the error. */
static int read_all(const char *path, uint8_t *out, size_t cap, size_t *got)
{
    return hotfile_read(&h, path, 0, out, cap, got);
}

static struct cas_stats blocks(void)
{
    struct cas_stats st;
    cas_get_kind_stats(&cache, CAS_KIND_BLOCK, &st);
    return st;
}

static void write_at(const char *path, uint32_t off, const void *data, uint32_t n)
{
    struct fat_file f;
    if (fat_open(&vol, &f, path, FAT_O_WRITE) == FAT_OK) {
        fat_seek(&f, off);
        fat_write(&f, data, n);
        fat_close(&f);
    }
}

int main(void)
{
    static uint8_t buf[32768];
    size_t got;
    if (setup() != FAT_OK) {
        check(0, "make and mount the test image");
        return 1;
    }
    cas_init(&cache, cas_mem, sizeof cas_mem, 4096);
    h.vol = &vol;
    h.cache = &cache;

    /* No tree: straight from the volume. */
    check(read_all("/big.bin", buf, sizeof buf, &got) == HOT_OK && got == sizeof big &&
              !memcmp(buf, big, sizeof big) && h.reads_cold == 1 && blocks().misses == 0,
          "without a sitemap: read straight from the volume");

    check(sitemap_init(&sm, &vol, tree_mem, sizeof tree_mem) == SM_OK &&
              sitemap_build(&sm) == SM_OK, "build the sitemap");
    h.sm = &sm;
    check(hotfile_node(&sm, &vol, "/BIG.BIN") != SM_NONE, "a clean file node is usable");
    check(hotfile_node(&sm, &vol, "/d") == SM_NONE, "a directory is not");

    /* First pass: 5 misses; second pass: 5 hits. */
    check(read_all("/big.bin", buf, sizeof buf, &got) == HOT_OK && got == sizeof big &&
              !memcmp(buf, big, sizeof big), "first pass: right bytes");
    struct cas_stats st = blocks();
    check(st.misses == 5 && st.hits == 0 && st.entries == 5 && st.bytes == sizeof big,
          "first pass: 5 blocks missed and cached (%llu misses, %u entries)",
          (unsigned long long)st.misses, st.entries);
    memset(buf, 0, sizeof buf);
    check(read_all("/big.bin", buf, sizeof buf, &got) == HOT_OK && got == sizeof big &&
              !memcmp(buf, big, sizeof big) && blocks().hits == 5 && blocks().misses == 5,
          "second pass: 5 hits, right bytes");
    check(read_all("/d/twin.bin", buf, sizeof buf, &got) == HOT_OK && got == sizeof big &&
              !memcmp(buf, big, sizeof big) && blocks().hits == 10 && blocks().entries == 5,
          "identical file: served from the same 5 entries");

    /* Any offset and length. */
    int bad = 0;
    for (int i = 0; i < 300; i++) {
        uint64_t off = (uint64_t)rand() % (sizeof big + 100);
        size_t len = (size_t)rand() % 9000;
        size_t want = off >= sizeof big ? 0 : (sizeof big - off < len ? sizeof big - off : len);
        if (hotfile_read(&h, "/big.bin", off, buf, len, &got) != HOT_OK || got != want ||
            memcmp(buf, big + (off < sizeof big ? off : 0), want))
            bad++;
    }
    CHECK_EQ_U64(bad, 0, "random offsets and lengths: right bytes");

    /* A budget of 2 blocks under a 5-block working set: LRU evictions, right bytes. */
    cas_set_budget(&cache, 2 * 4096);
    uint64_t ev0 = blocks().evictions;
    bad = 0;
    for (int pass = 0; pass < 3; pass++)
        if (read_all("/big.bin", buf, sizeof buf, &got) || got != sizeof big ||
            memcmp(buf, big, sizeof big))
            bad++;
    st = blocks();
    check(!bad && st.evictions >= ev0 + 12 && st.entries <= 2,
          "budget smaller than the file: evicts (%llu), right bytes",
          (unsigned long long)(st.evictions - ev0));
    cas_set_budget(&cache, sizeof cas_mem);

    /* A write through the FAT core: the next read has the new bytes (straight), and
     * after a refresh they come through the cache again. */
    read_all("/big.bin", buf, sizeof buf, &got);
    memcpy(big + 9000, "written through the FAT core", 28);
    write_at("/big.bin", 9000, big + 9000, 28);
    uint64_t cold = h.reads_cold;
    check(hotfile_node(&sm, &vol, "/big.bin") == SM_NONE, "written file: node not usable");
    check(read_all("/big.bin", buf, sizeof buf, &got) == HOT_OK && got == sizeof big &&
              !memcmp(buf, big, sizeof big) && h.reads_cold == cold + 1,
          "after a write: new bytes, read straight from the volume");
    check(read_all("/d/twin.bin", buf, sizeof buf, &got) == HOT_OK &&
              memcmp(buf + 9000, "written", 7) != 0, "the twin still has its own bytes");
    uint64_t miss = blocks().misses, hits = blocks().hits;
    sitemap_refresh(&sm);
    check(read_all("/big.bin", buf, sizeof buf, &got) == HOT_OK && !memcmp(buf, big, sizeof big) &&
              blocks().misses == miss + 1 && blocks().hits == hits + 4,
          "after the refresh: the changed block misses, 4 hit, right bytes");

    /* Another file renamed over the name: the directory is relisted first. */
    struct fat_file f;
    if (fat_open(&vol, &f, "/new.bin", FAT_O_WRITE | FAT_O_CREATE) == FAT_OK) {
        fat_write(&f, other, sizeof other);
        fat_close(&f);
    }
    fat_unlink(&vol, "/big.bin");
    fat_rename(&vol, "/new.bin", "/big.bin");
    check(read_all("/big.bin", buf, sizeof buf, &got) == HOT_OK && got == sizeof other &&
              !memcmp(buf, other, sizeof other), "renamed over: the new file's bytes");
    sitemap_refresh(&sm);
    check(read_all("/big.bin", buf, sizeof buf, &got) == HOT_OK && got == sizeof other &&
              !memcmp(buf, other, sizeof other) && hotfile_node(&sm, &vol, "/big.bin") != SM_NONE,
          "renamed over, refreshed: through the cache, right bytes");

    /* Truncate: the old tail is never served. */
    if (fat_open(&vol, &f, "/big.bin", FAT_O_WRITE) == FAT_OK) {
        fat_truncate(&f, 100);
        fat_close(&f);
    }
    check(read_all("/big.bin", buf, sizeof buf, &got) == HOT_OK && got == 100 &&
              !memcmp(buf, other, 100), "truncated: 100 bytes");
    sitemap_refresh(&sm);
    check(read_all("/big.bin", buf, sizeof buf, &got) == HOT_OK && got == 100, "and refreshed");

    /* Behind the filesystem's back: twin.bin block 3 changes on the image. */
    cas_clear(&cache);
    read_all("/d/twin.bin", buf, 4096, &got); /* block 0 cached */
    struct fat_dirent e;
    fat_stat(&vol, "/d/twin.bin", &e);
    size_t at = ((size_t)vol.data_start + (size_t)(e.first - 2) * vol.spc) * vol.bps;
    img[at + 3 * 4096 + 7] ^= 0x01;
    img[at + 5] ^= 0x01;
    uint64_t corrupt = h.corrupt;
    int err = read_all("/d/twin.bin", buf, sizeof buf, &got);
    check(err == HOT_ECORRUPT && h.bad_block == 3 && got == 3 * 4096 && h.corrupt == corrupt + 1,
          "a block changed behind the filesystem is refused and named (err %d, block %u)", err,
          h.bad_block);
    check(!memcmp(buf, big, 5) && buf[5] == big[5], "a block cached before is served as the "
          "sitemap describes it");
    check(blocks().entries == 3, "the refused block is not cached");

    /* A tree that stopped listening (remount, detach) is not used. */
    sitemap_detach(&sm);
    cold = h.reads_cold;
    check(read_all("/d/twin.bin", buf, sizeof buf, &got) == HOT_OK && got == sizeof big &&
              buf[3 * 4096 + 7] != big[3 * 4096 + 7] && h.reads_cold == cold + 1,
          "detached tree: straight from the volume");
    check(hotfile_read(&h, "/nope", 0, buf, 1, &got) == HOT_EFAT && h.fat_err == FAT_ENOENT,
          "missing file: HOT_EFAT / FAT_ENOENT");
    return check_exit_status();
}
