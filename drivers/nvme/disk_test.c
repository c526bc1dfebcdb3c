/* drivers/nvme/disk_test.c: the block-device self-test (`disk fill`, `disk verify`) and
 * benchmark (`disk bench`), over the blkdev interface only.
 *
 * Shapes: transfers that need 1, 2, 3, 512, 513, 514 (a chained list), ~770 and 1025 PRP
 * entries, with buffers starting at page offsets 0, 4, 12, 512, 2048 and 4092, then a
 * burst of concurrent random single-block reads (queue depth ~48, command ids reused, CQ
 * phase wrapping).  The device splits at its MDTS, so on a small-MDTS controller the same
 * shapes exercise splitting instead.
 *
 * Bench: sequential reads at 1 MiB, 64 KiB and 4 KiB (queue depth 1 and deeper) and random
 * 4 KiB reads at QD1 and QD32 over a disk the host filled with the pattern; a first,
 * untimed pass of every row checks the data; each figure is the median of five runs.
 * QD requests stay in flight: whichever finishes first is reused (nvme_wait_any).  Per row
 * it prints doorbell writes per MiB and the CPU cost over the timed runs: the share of TSC
 * time the CPU was not halted in the driver's wait (polling never halts, so 100%) and that
 * busy time per request.
 * --firmware adds the figures the firmware's own driver reached before ExitBootServices
 * (kernel/efi_bench.c) and the ratio. */
#include <string.h>
#include "arch/x86_64/cpu.h"
#include "drivers/nvme/nvme_int.h"
#include "drivers/nvme/nvme_shell.h"
#include "kernel/clock.h"
#include "kernel/console.h"
#include "kernel/kernel.h"
#include "kernel/pmm.h"
#include "lib/median.h"

enum { MIB = 1u << 20, KIB = 1u << 10 };

struct shape {
    uint32_t bytes;   /* rounded up to whole blocks */
    uint16_t offset;  /* buffer start within its page */
};

static const struct shape shapes[] = {
    { 1, 0 },                  /* one block */
    { 1, 4 },                  /* one block, mid-page */
    { 8 * KIB, 0 },            /* two PRP entries */
    { 8 * KIB, 512 },          /* three: a list */
    { 2 * MIB, 0 },            /* 512 entries */
    { 2 * MIB + 4 * KIB, 0 },  /* 513: one full list page */
    { 2 * MIB + 8 * KIB, 0 },  /* 514: chained list */
    { 3 * MIB, 2048 },         /* ~770, mid-page */
    { 4 * MIB, 4 },            /* 1025: three list pages */
    { 7 * 512, 12 },
    { 64 * KIB, 4092 },
    { 1 * MIB, 0 },
};
#define NSHAPES (sizeof shapes / sizeof shapes[0])
#define SHAPE_BUF (4 * MIB + 8 * KIB)
enum { BURST = 48 };

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

int disk_shapes(struct blkdev *b, uint64_t lba, uint64_t count, uint64_t seed, bool write)
{
    uint32_t ss = b->sector_size;
    if (lba >= b->sectors || count == 0 || count > b->sectors - lba) {
        printf("disk: LBA range outside %s\n", b->name);
        return 1;
    }
    size_t pages;
    uint8_t *buf = disk_buffer(SHAPE_BUF + (uint64_t)BURST * ss, &pages);
    if (!buf)
        return 1;
    int rc = 0;
    uint64_t transfers = 0;
    const char *what = write ? "disk fill" : "disk verify";
    for (uint64_t at = lba, k = 0; at < lba + count && rc == 0; k++) {
        const struct shape *sh = &shapes[k % NSHAPES];
        uint64_t n = (sh->bytes + ss - 1) / ss;
        if (n > lba + count - at)
            n = lba + count - at;
        uint8_t *p = buf + sh->offset;
        int err;
        if (write) {
            for (uint64_t i = 0; i < n; i++)
                disk_pattern(p + i * ss, at + i, ss, seed);
            err = disk_io(b, BLK_WRITE, at, (uint32_t)n, p);
        } else {
            memset(p, 0xa5, n * ss);
            err = disk_io(b, BLK_READ, at, (uint32_t)n, p);
        }
        transfers++;
        if (err) {
            rc = disk_report(b, what, err);
            break;
        }
        if (!write) {
            int64_t bad = disk_pattern_check(p, at, (uint32_t)n, ss, seed);
            if (bad >= 0) {
                printf("%s: %s: MISMATCH at LBA %llu (transfer of %llu blocks at LBA %llu, buffer "
                       "offset %u)\n", what, b->name, (unsigned long long)(at + (uint64_t)bad),
                       (unsigned long long)n, (unsigned long long)at, sh->offset);
                rc = 1;
            }
        }
        at += n;
    }
    if (rc == 0 && write) {
        int err = disk_io(b, BLK_FLUSH, 0, 0, NULL);
        if (err)
            rc = disk_report(b, what, err);
    }
    if (rc == 0 && !write) {
        /* Many commands in flight at once: random blocks, each into its own buffer. */
        static struct blk_req reqs[BURST];
        uint64_t r = seed | 1;
        uint8_t *bb = buf + SHAPE_BUF;
        for (int round = 0; round < 4 && rc == 0; round++) {
            for (int i = 0; i < BURST; i++) {
                reqs[i] = (struct blk_req){ .op = BLK_READ, .lba = lba + lcg(&r) % count, .count = 1,
                                            .buf = bb + (size_t)i * ss };
                int err = blk_submit(b, &reqs[i]);
                if (err) {
                    rc = disk_report(b, what, err);
                    for (int j = 0; j < i; j++)
                        nvme_wait(b, &reqs[j]);
                    break;
                }
            }
            for (int i = 0; rc == 0 && i < BURST; i++) {
                int err = nvme_wait(b, &reqs[i]);
                if (err)
                    rc = disk_report(b, what, err);
                else if (disk_pattern_check(reqs[i].buf, reqs[i].lba, 1, ss, seed) >= 0) {
                    printf("%s: %s: MISMATCH at LBA %llu (queued read)\n", what, b->name,
                           (unsigned long long)reqs[i].lba);
                    rc = 1;
                }
                transfers++;
            }
        }
    }
    pmm_free_pages((uint64_t)(uintptr_t)buf, pages);
    if (rc == 0)
        printf("%s %s: %llu blocks at LBA %llu in %llu transfers: ok\n", what, b->name,
               (unsigned long long)count, (unsigned long long)lba, (unsigned long long)transfers);
    if (rc == 0 && write)
        return disk_shapes(b, lba, count, seed, false);
    return rc;
}

/* ---- benchmark ------------------------------------------------------------------------------- */

struct bench_row {
    const char *name;
    uint32_t size, qd;
    bool random;
    uint64_t bytes;      /* per run (sequential) */
    uint32_t ops;        /* per run (random) */
    int fw_slot;         /* enum nvme_fw_bench_slot, -1 if none */
};

static const struct bench_row rows[] = {
    { "seq 1 MiB  QD1", MIB, 1, false, 32 * MIB, 0, NVME_FWB_SEQ_1M },
    { "seq 1 MiB  QD4", MIB, 4, false, 32 * MIB, 0, NVME_FWB_SEQ_1M },
    { "seq 64 KiB QD1", 64 * KIB, 1, false, 8 * MIB, 0, NVME_FWB_SEQ_64K },
    { "seq 64 KiB QD16", 64 * KIB, 16, false, 8 * MIB, 0, NVME_FWB_SEQ_64K },
    { "seq 4 KiB  QD1", 4 * KIB, 1, false, 2 * MIB, 0, NVME_FWB_SEQ_4K },
    { "seq 4 KiB  QD32", 4 * KIB, 32, false, 2 * MIB, 0, NVME_FWB_SEQ_4K },
    { "rand 4 KiB QD1", 4 * KIB, 1, true, 0, 1000, NVME_FWB_RAND_4K },
    { "rand 4 KiB QD32", 4 * KIB, 32, true, 0, 4000, NVME_FWB_RAND_4K },
};
#define NROWS (sizeof rows / sizeof rows[0])
enum { RUNS = 5, BENCH_MAX_QD = 32 };
#define BENCH_BUF (4 * MIB)

static uint64_t doorbells(struct blkdev *b)
{
    struct nvme_ns *ns = b->ctx;
    return ns->q->sq_doorbells + ns->q->cq_doorbells;
}

/* CPU cost of the timed runs: TSC cycles elapsed and spent halted in nvme_wait. */
static uint64_t cpu_tsc, cpu_halted;

/* One run of ROW; returns elapsed ns (0 on error).  CHECK verifies every block read. */
static uint64_t bench_run(struct blkdev *b, const struct bench_row *row, uint8_t *buf, uint64_t seed,
                          bool check, uint64_t *moved)
{
    uint64_t tsc0 = rdtsc(), halt0 = nvme_halted_tsc;
    static struct blk_req reqs[BENCH_MAX_QD];
    uint32_t ss = b->sector_size, n = row->size / ss;
    uint64_t span = b->sectors / n;   /* request-sized units on the disk */
    uint64_t total = row->random ? row->ops : row->bytes / row->size;
    if (!row->random && total > span)
        total = span;
    uint64_t rnd = seed * 7 + 1, next = 0, done = 0;
    uint64_t t0 = clock_mono_ns();
    bool failed = false;
    uint32_t qd = row->qd;
    /* QD requests in flight: take whichever finishes first and reuse it for the next. */
    bool busy[BENCH_MAX_QD] = { false };
    for (uint32_t i = 0; i < qd && next < total; i++, next++) {
        uint64_t unit = row->random ? lcg(&rnd) % span : next;
        reqs[i] = (struct blk_req){ .op = BLK_READ, .lba = unit * n, .count = n, .buf = buf + (size_t)i * row->size };
        if (blk_submit(b, &reqs[i]) != BLK_OK)
            failed = true;
        busy[i] = !failed;
    }
    while (done < total && !failed) {
        unsigned i = nvme_wait_any(b, reqs, qd);
        int err = reqs[i].status;
        reqs[i].done = false; /* consumed: not returned again unless resubmitted */
        busy[i] = false;
        done++;
        if (err) {
            disk_report(b, "disk bench", err);
            failed = true;
        } else if (check && disk_pattern_check(reqs[i].buf, reqs[i].lba, n, ss, seed) >= 0) {
            printf("disk bench: %s: data MISMATCH at LBA %llu\n", b->name, (unsigned long long)reqs[i].lba);
            failed = true;
        }
        if (next < total && !failed) {
            uint64_t unit = row->random ? lcg(&rnd) % span : next;
            reqs[i].lba = unit * n;
            failed = blk_submit(b, &reqs[i]) != BLK_OK;
            busy[i] = !failed;
            next++;
        }
    }
    if (failed) {
        /* Drain what is still in flight, then give up. */
        for (uint32_t j = 0; j < qd; j++)
            if (busy[j])
                nvme_wait(b, &reqs[j]);
        return 0;
    }
    *moved = total * row->size;
    cpu_tsc += rdtsc() - tsc0;
    cpu_halted += nvme_halted_tsc - halt0;
    uint64_t t = clock_mono_ns() - t0;
    return t ? t : 1;
}

static void print_rate(uint64_t bytes, uint64_t ns, bool iops, uint32_t size)
{
    if (iops)
        printf("%9llu IOPS", (unsigned long long)(bytes / size * 1000000000ull / ns));
    else
        printf("%8llu MB/s", (unsigned long long)(bytes * 1000ull / ns));
}

int disk_bench(struct blkdev *b, uint64_t seed, bool firmware)
{
    if (b->sector_size > 4 * KIB) {
        printf("disk bench: blocks larger than 4 KiB are not benchmarked\n");
        return 1;
    }
    size_t pages;
    uint8_t *buf = disk_buffer(BENCH_BUF, &pages);
    if (!buf)
        return 1;
    memset(buf, 0, BENCH_BUF); /* touch every page before timing */
    const struct fw_bench *fw = &boot_info->bench;
    printf("disk bench %s (%s completion), median of %d runs, data checked on a first pass\n",
           b->name, nvme_mode_name(nvme_mode()), RUNS);
    printf("%-16s %14s %10s %6s %5s %8s", "test", "ours", "latency", "DB/MiB", "CPU", "CPU/IO");
    if (firmware)
        printf(" %14s %7s", "firmware", "ratio");
    printf("\n");
    int rc = 0;
    for (unsigned r = 0; r < NROWS && rc == 0; r++) {
        const struct bench_row *row = &rows[r];
        /* A row needs one whole request on the disk (a smaller one made it divide by zero). */
        if ((uint64_t)row->qd * row->size > BENCH_BUF || row->size < b->sector_size ||
            b->sectors < row->size / b->sector_size)
            continue;
        uint64_t moved = 0, t[RUNS], db0 = doorbells(b);
        if (!bench_run(b, row, buf, seed, true, &moved)) {
            rc = 1;
            break;
        }
        uint64_t dbs = doorbells(b) - db0, per_mib = moved ? dbs * MIB / moved : 0;
        cpu_tsc = cpu_halted = 0;
        for (int k = 0; k < RUNS && rc == 0; k++)
            if (!(t[k] = bench_run(b, row, buf, seed + 0 * k, false, &moved)))
                rc = 1;
        if (rc)
            break;
        uint64_t med = median_u64(t, RUNS), ops = moved / row->size;
        printf("%-16s ", row->name);
        print_rate(moved, med, row->random, row->size);
        /* CPU: share of the run the CPU was not halted (polling never halts), and that
         * busy time per request. */
        uint64_t busy = cpu_tsc - (cpu_halted < cpu_tsc ? cpu_halted : cpu_tsc);
        printf(" %7llu us %6llu %4llu%% %5llu us", (unsigned long long)(med / ops / 1000 * row->qd),
               (unsigned long long)per_mib, (unsigned long long)(cpu_tsc ? busy * 100 / cpu_tsc : 0),
               (unsigned long long)(clock_tsc_to_ns(busy) / (ops * RUNS) / 1000));
        if (firmware && fw->valid && row->fw_slot >= 0 && fw->blockio_ns[row->fw_slot]) {
            uint64_t fb = fw->blockio_bytes[row->fw_slot], fns = fw->blockio_ns[row->fw_slot];
            printf(" ");
            print_rate(fb, fns, row->random, row->size);
            /* ratio of the rates, two decimals */
            uint64_t ours = moved * 1000000000ull / med, theirs = fb * 1000000000ull / fns;
            uint64_t ratio = theirs ? ours * 100 / theirs : 0;
            printf(" %4llu.%02llux", (unsigned long long)(ratio / 100), (unsigned long long)(ratio % 100));
        }
        printf("\n");
    }
    if (firmware && !fw->valid)
        printf("(no firmware figures: boot with -fw_cfg name=opt/velocity/bench,string=1)\n");
    if (firmware && fw->valid && fw->blockio_bytes[NVME_FWB_CHECK]) {
        /* The firmware's data must be the disk's: compare its checksum of the first 64 KiB. */
        uint8_t *p = buf;
        uint64_t h = 14695981039346656037ull;
        if (disk_io(b, BLK_READ, 0, 64 * KIB / b->sector_size, p) == BLK_OK) {
            for (uint32_t i = 0; i < 64 * KIB; i++)
                h = (h ^ p[i]) * 1099511628211ull;
            printf("firmware data check: %s (FNV-1a of the first 64 KiB %016llx, ours %016llx)\n",
                   h == fw->blockio_ns[NVME_FWB_CHECK] ? "same data" : "DIFFERENT",
                   (unsigned long long)fw->blockio_ns[NVME_FWB_CHECK], (unsigned long long)h);
        }
    }
    pmm_free_pages((uint64_t)(uintptr_t)buf, pages);
    return rc;
}
