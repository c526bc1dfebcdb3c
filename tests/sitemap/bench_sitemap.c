/* tests/sitemap/bench_sitemap.c: `make bench` numbers for the sitemap (docs/SITEMAP.md).
 *   1. SHA-256 throughput: lib/sha256 over 256 MiB in memory, and the host's sha256sum
 *      over the same bytes in a file (a separate process; it reads from the page cache).
 *   2. A full sitemap build of a RAM FAT32 volume holding 1,000 files (10 directories of
 *      100, 1..16 KiB each) made through the FAT core.
 *   3. After a one-byte write through the FAT core: the incremental refresh, its blocks
 *      hashed and its cost as a fraction of the full build (the goal is < 1%).
 *   4. save, and load + diff (what `verify` does after the refresh). */
#define _GNU_SOURCE
#include "fs/sitemap.h"
#include "lib/clock.h"
#include "lib/host/blk_file.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double secs_since(uint64_t t0) { return (double)(clock_mono_ns() - t0) / 1e9; }

static void quiet(void *ctx, const char *line) { (void)ctx, (void)line; }

int main(void)
{
    /* 1. hashing throughput */
    const size_t chunk = 64u << 20, total = 256u << 20;
    uint8_t *data = malloc(chunk);
    if (!data) return 1;
    uint32_t seed = 1;
    for (size_t i = 0; i < chunk; i++) {
        seed = seed * 1103515245u + 12345u;
        data[i] = (uint8_t)(seed >> 16);
    }
    uint8_t d[SM_HASH];
    sha256_ctx c;
    uint64_t t0 = clock_mono_ns();
    sha256_init(&c);
    for (size_t done = 0; done < total; done += chunk) sha256_update(&c, data, chunk);
    sha256_final(&c, d);
    double ours = (double)total / 1e6 / secs_since(t0);
    const char *tmp = "build/bench-sitemap.dat";
    FILE *fp = fopen(tmp, "wb");
    for (size_t done = 0; fp && done < total; done += chunk) fwrite(data, 1, chunk, fp);
    if (fp) fclose(fp);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cat %s >/dev/null; sha256sum %s >/dev/null", tmp, tmp);
    system(cmd);   /* warm the page cache */
    snprintf(cmd, sizeof cmd, "sha256sum %s >/dev/null", tmp);
    t0 = clock_mono_ns();
    int rc = system(cmd);
    double host = rc == 0 ? (double)total / 1e6 / secs_since(t0) : 0;
    remove(tmp);
    printf("sitemap benchmark\n%-48s %12s\n", "SHA-256 throughput (256 MiB)", "MB/s");
    printf("%-48s %12.1f\n", "  lib/sha256 (portable C, in memory)", ours);
    printf("%-48s %12.1f\n", "  host sha256sum (file in page cache)", host);

    /* 2. a volume with 1,000 files */
    const char *img = "build/bench-sitemap.img";
    snprintf(cmd, sizeof cmd, "rm -f %s && mkfs.fat -F 32 -s 1 -C %s 131072 >/dev/null", img, img);
    if (system(cmd)) return 1;
    fp = fopen(img, "rb");
    fseek(fp, 0, SEEK_END);
    size_t size = (size_t)ftell(fp);
    rewind(fp);
    uint8_t *disk = malloc(size);
    if (!disk || fread(disk, 1, size, fp) != size) return 1;
    fclose(fp);
    remove(img);
    struct blk_ram ram;
    blk_ram_init(&ram, disk, 512, size / 512);
    static uint8_t cache[16 << 20];
    static struct fat_volume v;
    if (fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, 0)) return 1;
    uint64_t bytes = 0;
    for (int dir = 0; dir < 10; dir++) {
        char path[64];
        snprintf(path, sizeof path, "/dir%d", dir);
        fat_mkdir(&v, path);
        for (int k = 0; k < 100; k++) {
            struct fat_file f;
            snprintf(path, sizeof path, "/dir%d/file-%03d.dat", dir, k);
            seed = seed * 1103515245u + 12345u;
            uint32_t n = 1024 + (seed >> 8) % (15 * 1024);
            if (fat_open(&v, &f, path, FAT_O_WRITE | FAT_O_CREATE)) return 1;
            fat_write(&f, data + (seed & 0xffff), n);
            fat_close(&f);
            bytes += n;
        }
    }
    fat_sync(&v);
    size_t msize = 8u << 20;
    void *mem = malloc(msize), *smem = malloc(msize);
    static struct sitemap sm, saved;
    sitemap_init(&sm, &v, mem, msize);
    t0 = clock_mono_ns();
    int err = sitemap_build(&sm);
    double full = secs_since(t0);
    struct sm_stats fs = sm.stats;
    printf("\n%-48s %12s %10s %12s\n", "sitemap of 1,000 files (RAM FAT32, 512 B clusters)", "ms", "blocks",
           "MB/s");
    printf("%-48s %12.3f %10llu %12.1f\n", "  full build", full * 1e3,
           (unsigned long long)fs.blocks_hashed, (double)fs.bytes_hashed / 1e6 / full);
    if (err) { printf("build failed: %s\n", sm_strerror(err)); return 1; }

    /* 3. one change, then the incremental refresh */
    struct fat_file f;
    fat_open(&v, &f, "/dir7/file-042.dat", FAT_O_WRITE);
    fat_seek(&f, 700);
    fat_write(&f, "!", 1);
    fat_close(&f);
    t0 = clock_mono_ns();
    sitemap_refresh(&sm);
    double inc = secs_since(t0);
    printf("%-48s %12.3f %10llu %11.2f%%\n", "  refresh after a 1-byte write (vs full build)",
           inc * 1e3, (unsigned long long)sm.stats.blocks_hashed, 100.0 * inc / full);
    t0 = clock_mono_ns();
    sitemap_refresh(&sm);
    printf("%-48s %12.3f %10llu\n", "  refresh with nothing changed", secs_since(t0) * 1e3,
           (unsigned long long)sm.stats.blocks_hashed);

    /* 4. save, then verify = load + diff */
    t0 = clock_mono_ns();
    err = sitemap_save(&sm);
    printf("%-48s %12.3f\n", "  save /SITEMAP.BIN", secs_since(t0) * 1e3);
    fat_open(&v, &f, "/dir3/file-001.dat", FAT_O_WRITE);
    fat_write(&f, "?", 1);
    fat_close(&f);
    t0 = clock_mono_ns();
    struct sm_diff df;
    if (!err) err = sitemap_load(&saved, &v, smem, msize);
    if (!err) err = sitemap_refresh(&sm);
    if (!err) err = sitemap_diff(&sm, &saved, quiet, NULL, &df);
    printf("%-48s %12.3f %10s %s\n", "  verify after one more change (load+refresh+diff)",
           secs_since(t0) * 1e3, "", err ? sm_strerror(err) : "");
    printf("(%llu bytes of files; the goal for the refresh is < 1%% of the full build)\n",
           (unsigned long long)bytes);
    fat_unmount(&v);
    return 0;
}
