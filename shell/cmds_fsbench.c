/* shell/cmds_fsbench.c: `fsbench FILE` — how much the filesystem costs on top of the disk.
 *
 * Reads FILE with fat_read into one buffer as large as the file, once in a single call and
 * once in 1 MiB calls, and reads the same sectors with blk_read in the same request sizes
 * (the raw NVMe figure: what a filesystem with zero overhead would get).  Each figure is
 * the median of nine runs; requests are counted from the device's blk_stats.  When the
 * firmware stage measured the same file through the firmware's FAT driver in the same two
 * read sizes (kernel/efi_fatbench.c, boot_info->bench.fatfile_*), each row also shows the
 * firmware's figure and ours / firmware.  The file's first run of contiguous clusters is what the raw read covers;
 * for a fragmented file the raw figure is only indicative, and the command says so. */
#include <string.h>
#include "kernel/console.h"
#include "kernel/kernel.h"
#include "kernel/pmm.h"
#include "kernel/vfs.h"
#include "lib/clock.h"
#include "lib/median.h"
#include "shell/shell.h"

enum { RUNS = 9, MIB = 1 << 20, MAX_BENCH = 256 * MIB };

struct sample {
    uint64_t ns, requests;
    int err;
};

/* One timed pass over SIZE bytes in CHUNK-byte calls: through the FAT core when F is
 * given, else straight from the device at LBA. */
static struct sample pass(struct fat_file *f, struct blkdev *dev, uint64_t lba, uint8_t *buf,
                          uint32_t size, uint32_t chunk)
{
    struct sample s = { 0, dev->stats.reads, 0 };
    if (f)
        s.err = fat_seek(f, 0);
    uint64_t t0 = clock_mono_ns();
    for (uint32_t off = 0; off < size && !s.err;) {
        uint32_t n = size - off < chunk ? size - off : chunk, got = 0;
        if (f) {
            s.err = fat_read(f, buf + off, n, &got);
            if (!s.err && got != n)
                s.err = FAT_ECORRUPT;
        } else {
            uint32_t ss = dev->sector_size;
            s.err = blk_read(dev, lba + off / ss, (n + ss - 1) / ss, buf + off) ? FAT_EIO : 0;
        }
        off += n;
    }
    s.ns = clock_mono_ns() - t0;
    s.requests = dev->stats.reads - s.requests;
    return s;
}

/* RUNS passes of ours and raw, interleaved so that drift in the host (QEMU's I/O thread,
 * the page cache) hits both alike; each figure is its median. */
static int measure(struct fat_file *f, struct blkdev *dev, uint64_t lba, uint8_t *buf,
                   uint32_t size, uint32_t rawsize, uint32_t chunk, struct sample out[2])
{
    uint64_t t[2][RUNS];
    for (int k = 0; k < RUNS; k++)
        for (int w = 0; w < 2; w++) {
            out[w] = w == 0 ? pass(f, dev, 0, buf, size, chunk) : pass(NULL, dev, lba, buf, rawsize, chunk);
            if (out[w].err)
                return out[w].err;
            t[w][k] = out[w].ns;
        }
    out[0].ns = median_u64(t[0], RUNS);
    out[1].ns = median_u64(t[1], RUNS);
    return 0;
}

/* MB/s (10^6 bytes) with one decimal, as tenths. */
static uint64_t mbs10(uint64_t bytes, uint64_t ns) { return ns ? bytes * 10000 / ns : 0; }

static int cmd_fsbench(int argc, char **argv)
{
    if (argc != 2)
        return shell_usage(argv[0]);
    struct fat_volume *v = vfs_root();
    char abs[VFS_PATH_MAX];
    struct fat_file f;
    if (!v) {
        printf("%s: no filesystem mounted\n", argv[0]);
        return 1;
    }
    int err = vfs_resolve(argv[1], abs, sizeof abs);
    if (!err)
        err = fat_open(v, &f, abs, FAT_O_READ);
    if (err) {
        printf("%s: %s: %s\n", argv[0], argv[1], fat_strerror(err));
        return 1;
    }
    uint32_t size = f.size < MAX_BENCH ? f.size : MAX_BENCH;
    size_t pages = ((size_t)size + PAGE_SIZE - 1) / PAGE_SIZE;
    uint8_t *buf = size ? (uint8_t *)(uintptr_t)pmm_alloc_pages(pages) : NULL;
    if (!buf) {
        printf("%s: %s\n", argv[0], size ? "out of memory for the buffer" : "empty file");
        fat_close(&f);
        return 1;
    }
    struct blkdev *dev = v->dev;
    /* Warm-up read: learns the cluster runs (as any reader's first pass would). */
    struct sample w = pass(&f, dev, 0, buf, size, size);
    uint64_t lba = 0, contiguous = 0;
    if (!w.err && f.first) {
        lba = v->part_lba + ((uint64_t)v->data_start + (uint64_t)(f.first - 2) * v->spc) *
                                (v->bps / dev->sector_size);
        contiguous = f.nruns >= 1 && f.runs[0].lc == 0 ? (uint64_t)f.runs[0].len * v->cluster_bytes : 0;
    }
    printf("fsbench: %s, %u bytes, %s\n", abs, size,
           contiguous >= size ? "contiguous on disk" : "fragmented (raw figures read its first run's sectors)");
    static const uint32_t chunks[] = { 0, MIB };
    const struct fw_bench *fb = &boot_info->bench;
    bool fw = fb->fatfile_ns && fb->fatfile_1m_ns && fb->fatfile_bytes == size;
    printf("  %-10s %-24s %-24s %8s", "read size", "ours (fat_read)", "raw NVMe (blk_read)", "ours/raw");
    if (fw)
        printf("  %-14s %8s", "firmware FAT", "ours/fw");
    printf("\n");
    int rc = w.err ? 1 : 0;
    for (unsigned i = 0; i < sizeof chunks / sizeof chunks[0] && !rc && !cons_interrupt; i++) {
        uint32_t chunk = chunks[i] ? chunks[i] : size;
        uint32_t rawsize = contiguous >= size ? size : (uint32_t)contiguous;
        struct sample m[2];
        if ((err = measure(&f, dev, lba, buf, size, rawsize, chunk, m))) {
            printf("%s: %s: %s\n", argv[0], argv[1], fat_strerror(err));
            rc = 1;
            break;
        }
        struct sample ours = m[0], raw = m[1];
        uint64_t rawbytes = contiguous >= size ? size : contiguous;
        uint64_t o = mbs10(size, ours.ns), r = mbs10(rawbytes, raw.ns);
        char label[16];
        snprintf(label, sizeof label, chunks[i] ? "%u KiB" : "whole file", chunk >> 10);
        printf("  %-10s %6llu.%llu MB/s %4llu req   %6llu.%llu MB/s %4llu req   %5llu%%", label,
               (unsigned long long)(o / 10), (unsigned long long)(o % 10),
               (unsigned long long)ours.requests, (unsigned long long)(r / 10),
               (unsigned long long)(r % 10), (unsigned long long)raw.requests,
               (unsigned long long)(r ? o * 100 / r : 0));
        if (fw) {
            /* The firmware's figure for the same read size, and ours over it. */
            uint64_t f = mbs10(size, chunks[i] ? fb->fatfile_1m_ns : fb->fatfile_ns);
            uint64_t ratio = f ? o * 100 / f : 0;
            printf("  %6llu.%llu MB/s %5llu.%02llux", (unsigned long long)(f / 10),
                   (unsigned long long)(f % 10), (unsigned long long)(ratio / 100),
                   (unsigned long long)(ratio % 100));
        }
        printf("\n");
    }
    if (!rc && fw)
        printf("  (firmware FAT: EFI_FILE_PROTOCOL.Read through the firmware's own drivers, "
               "measured in this boot before ExitBootServices)\n");
    else if (!rc)
        printf("  (no firmware figure for this file: boot with the bench fw_cfg file)\n");
    fat_close(&f);
    pmm_free_pages((uint64_t)(uintptr_t)buf, pages);
    return rc;
}
SHELL_COMMAND("fsbench", cmd_fsbench, "FILE",
              "read FILE through the FAT core vs raw NVMe vs the firmware's FAT driver");
