/* FAT benchmark on a RAM-backed FAT32 image (made by mkfs.fat): sequential 256 MiB write
 * and read with 1 MiB buffers, random 4 KiB reads, creating / looking up / deleting 5,000
 * long-named files in one directory.  Prints throughput and the device requests and
 * sectors each phase cost (the numbers that show one request per contiguous run, FAT
 * reads avoided by the run cache, and directory reads avoided by the name cache). */
#define _GNU_SOURCE
#include "fs/fat.h"
#include "lib/clock.h"
#include "lib/host/blk_file.h"
#include <stdio.h>
#include <stdlib.h>

static struct blk_ram ram;
static struct blk_stats s0;
static uint64_t t0;

static void start(void) { s0 = ram.dev.stats; t0 = clock_mono_ns(); }

static void row(const char *what, double amount, const char *unit)
{
    double secs = (double)(clock_mono_ns() - t0) / 1e9;
    struct blk_stats s = ram.dev.stats;
    printf("%-34s %10.1f %-9s %9llu %11llu %9llu %11llu\n", what, amount / secs, unit,
           (unsigned long long)(s.reads - s0.reads),
           (unsigned long long)(s.sectors_read - s0.sectors_read),
           (unsigned long long)(s.writes - s0.writes),
           (unsigned long long)(s.sectors_written - s0.sectors_written));
}

int main(void)
{
    const char *img = "build/bench-fat.img";
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -f %s && mkfs.fat -F 32 -s 8 -C %s 300000 >/dev/null", img, img);
    if (system(cmd)) return 1;
    FILE *fp = fopen(img, "rb");
    fseek(fp, 0, SEEK_END);
    size_t size = (size_t)ftell(fp);
    rewind(fp);
    uint8_t *mem = malloc(size);
    if (!mem || fread(mem, 1, size, fp) != size) return 1;
    fclose(fp);
    remove(img);
    blk_ram_init(&ram, mem, 512, size / 512);
    static uint8_t cache[16 << 20], buf[1 << 20];
    struct fat_volume v;
    int err = fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, 0);
    if (err) { printf("mount: %s\n", fat_strerror(err)); return 1; }
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)i;
    printf("FAT32, 4 KiB clusters, RAM device, %u KiB cache\n", (unsigned)(sizeof cache >> 10));
    printf("%-34s %10s %-9s %9s %11s %9s %11s\n", "operation", "rate", "", "reads", "sect-read",
           "writes", "sect-writ");

    struct fat_file f;
    const uint32_t mib = 256;
    fat_open(&v, &f, "/big.bin", FAT_O_WRITE | FAT_O_CREATE);
    start();
    for (uint32_t i = 0; i < mib; i++) fat_write(&f, buf, sizeof buf);
    fat_close(&f);
    fat_sync(&v);
    row("sequential write 256 MiB (1 MiB)", mib, "MB/s");
    printf("  (%u clusters written)\n", mib * (1 << 20) / v.cluster_bytes);

    fat_open(&v, &f, "/big.bin", FAT_O_READ);
    uint32_t got;
    start();
    for (uint32_t i = 0; i < mib; i++) fat_read(&f, buf, sizeof buf, &got);
    row("sequential read 256 MiB (1 MiB)", mib, "MB/s");

    uint32_t seed = 7, n = 20000;
    start();
    for (uint32_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        fat_seek(&f, (seed >> 4) % (mib << 20) & ~4095u);
        fat_read(&f, buf, 4096, &got);
    }
    row("random 4 KiB reads (20,000)", n, "reads/s");
    printf("  (reads beyond one per 4 KiB read = FAT reads: %lld)\n",
           (long long)(ram.dev.stats.reads - s0.reads) - n);
    fat_close(&f);

    fat_mkdir(&v, "/many");
    char p[128];
    const int files = 5000;
    start();
    for (int i = 0; i < files; i++) {
        snprintf(p, sizeof p, "/many/A long file name for entry number %05d.text", i);
        if (fat_open(&v, &f, p, FAT_O_WRITE | FAT_O_CREATE | FAT_O_EXCL)) break;
        fat_write(&f, p, 100);
        fat_close(&f);
    }
    fat_sync(&v);
    row("create 5,000 small files", files, "files/s");

    fat_unmount(&v);
    fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, 0);
    struct fat_dirent e;
    start();
    fat_stat(&v, "/many/A long file name for entry number 00000.text", &e);
    row("first lookup (reads the directory)", 1, "lookups/s");
    start();
    int found = 0;
    for (int i = 0; i < files; i++) {
        snprintf(p, sizeof p, "/many/a long file name for entry number %05d.TEXT", i);
        found += fat_stat(&v, p, &e) == 0;
    }
    row("5,000 lookups after that", files, "lookups/s");
    printf("  (%d found; sectors read per lookup: %.3f)\n", found,
           (double)(ram.dev.stats.sectors_read - s0.sectors_read) / files);

    start();
    for (int i = 0; i < files; i++) {
        snprintf(p, sizeof p, "/many/A long file name for entry number %05d.text", i);
        fat_unlink(&v, p);
    }
    fat_sync(&v);
    row("delete 5,000 small files", files, "files/s");
    fat_unmount(&v);
    free(mem);
    return 0;
}
