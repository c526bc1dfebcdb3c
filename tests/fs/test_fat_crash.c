/* Crash test: the device drops every write after the Nth, for every N over a workload.
 *
 *   test_fat_crash [-t 12|16|32] [-e STRIDE]
 * The workload (mkdir, create, write, append-by-new-files, rename, delete, truncate, many
 * small files, with fat_sync between phases) runs on a RAM copy of a mkfs.fat image whose
 * writes stop reaching the medium after N of them; the core keeps running, as software
 * does when the power fails under it.  Then the medium goes to a file, `fsck.fat -a` must
 * repair it, `fsck.fat -n` must then find it clean, and every file that was complete at the
 * last finished sync (and not touched after it) must read back byte-exact. */
#define _GNU_SOURCE
#include "fs/fat.h"
#include "lib/host/blk_file.h"
#include "tests/check.h"
#include <stdlib.h>
#include <unistd.h>

static struct blk_ram ram;
static uint64_t writes, limit;
static int (*ram_submit)(struct blkdev *, struct blk_req *);

static int cut_submit(struct blkdev *dev, struct blk_req *req)
{
    if (req->op == BLK_WRITE && writes++ >= limit) {
        req->status = BLK_OK;   /* lost: the medium never sees it */
        req->done = true;
        return BLK_OK;
    }
    return ram_submit(dev, req);
}

struct file {
    const char *path;
    uint32_t size;
    int synced_at;     /* sync number after which it is complete */
    bool touched;      /* modified or removed by a later phase: not checked */
};

static struct file files[64];
static int nfiles;
static uint64_t sync_writes[16];   /* device writes when sync k had finished */
static int nsyncs;

static void content(const char *path, uint32_t size, uint8_t *out)
{
    uint32_t h = 2166136261u;
    for (const char *p = path; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    for (uint32_t i = 0; i < size; i++) {
        h ^= h << 13, h ^= h >> 17, h ^= h << 5;
        out[i] = (uint8_t)h;
    }
}

static void put(struct fat_volume *v, const char *path, uint32_t size, bool record)
{
    static uint8_t buf[300000];
    struct fat_file f;
    content(path, size, buf);
    if (fat_open(v, &f, path, FAT_O_WRITE | FAT_O_CREATE | FAT_O_TRUNC)) return;
    for (uint32_t o = 0; o < size; o += 7000)   /* odd-sized pieces: partial sectors too */
        fat_write(&f, buf + o, size - o < 7000 ? size - o : 7000);
    fat_close(&f);
    if (record)
        files[nfiles++] = (struct file){ path, size, nsyncs, false };
}

static void touch(const char *path)
{
    for (int i = 0; i < nfiles; i++)
        if (!strcmp(files[i].path, path)) files[i].touched = true;
}

static void sync_point(struct fat_volume *v)
{
    fat_sync(v);
    sync_writes[nsyncs++] = writes;
}

static void workload(struct fat_volume *v, bool record)
{
    nfiles = 0, nsyncs = 0;
    fat_mkdir(v, "/dir");
    put(v, "/dir/alpha.bin", 10000, record);
    put(v, "/Beta long name.txt", 3000, record);
    sync_point(v);
    put(v, "/gamma.dat", 50000, record);
    put(v, "/dir/Ünïcödé name.bin", 2048, record);
    fat_mkdir(v, "/dir/sub");
    put(v, "/dir/sub/delta", 0, record);
    sync_point(v);
    fat_unlink(v, "/gamma.dat");
    touch("/gamma.dat");
    struct fat_file f;
    if (!fat_open(v, &f, "/dir/Ünïcödé name.bin", FAT_O_WRITE)) {
        fat_truncate(&f, 100);
        fat_close(&f);
    }
    touch("/dir/Ünïcödé name.bin");
    put(v, "/epsilon.bin", 120000, record);
    fat_rename(v, "/dir/sub/delta", "/delta moved");
    touch("/dir/sub/delta");
    sync_point(v);
    static char names[20][32];
    for (int i = 0; i < 20; i++) {
        snprintf(names[i], sizeof names[i], "/dir/small file %02d.txt", i);
        put(v, names[i], 100 + 37 * (uint32_t)i, record);
    }
    fat_unlink(v, "/epsilon.bin");
    touch("/epsilon.bin");
    sync_point(v);
    fat_unmount(v);
}

int main(int argc, char **argv)
{
    unsigned type = 16, stride = 1;
    int c;
    while ((c = getopt(argc, argv, "t:e:")) != -1) {
        if (c == 't') type = (unsigned)atoi(optarg);
        else if (c == 'e') stride = (unsigned)atoi(optarg);
    }
    char img[128], cmd[512];
    snprintf(img, sizeof img, "build/tests/crash-fat%u.img", type);
    snprintf(cmd, sizeof cmd, "rm -f %s && mkfs.fat -F %u -s 1 -C %s %s >/dev/null", img, type, img,
             type == 32 ? "34000" : type == 16 ? "3000" : "2000");
    if (!check(system(cmd) == 0, "mkfs.fat FAT%u", type)) return 1;
    FILE *fp = fopen(img, "rb");
    fseek(fp, 0, SEEK_END);
    size_t size = (size_t)ftell(fp);
    rewind(fp);
    uint8_t *base = malloc(size), *mem = malloc(size), *cache = malloc(1 << 20);
    if (fread(base, 1, size, fp) != size) return 1;
    fclose(fp);
    blk_ram_init(&ram, mem, 512, size / 512);
    static struct blkdev_ops ops;
    ops = *ram.dev.ops;
    ram_submit = ops.submit;
    ops.submit = cut_submit;
    ram.dev.ops = &ops;

    struct fat_volume v;
    memcpy(mem, base, size);
    writes = 0, limit = UINT64_MAX;
    if (!check(fat_mount(&v, &ram.dev, 0, 0, cache, 1 << 20, 0) == 0, "mount")) return 1;
    workload(&v, true);
    uint64_t total = writes;
    struct file expect[64];
    int nexpect = nfiles;
    memcpy(expect, files, sizeof files);
    uint64_t syncs_at[16];
    memcpy(syncs_at, sync_writes, sizeof syncs_at);
    int nsync_total = nsyncs;
    check(total > 20, "FAT%u workload issues %llu writes", type, (unsigned long long)total);

    int bad = 0, runs = 0;
    for (uint64_t n = 0; n <= total; n += stride) {
        memcpy(mem, base, size);
        writes = 0, limit = n;
        if (fat_mount(&v, &ram.dev, 0, 0, cache, 1 << 20, 0) == 0)
            workload(&v, false);
        runs++;
        fp = fopen(img, "wb");
        fwrite(mem, 1, size, fp);
        fclose(fp);
        snprintf(cmd, sizeof cmd, "fsck.fat -a %s >/dev/null 2>&1", img);
        int rc = system(cmd);
        snprintf(cmd, sizeof cmd, "fsck.fat -n %s >build/tests/crash.log 2>&1", img);
        int rc2 = system(cmd);
        if (WEXITSTATUS(rc) > 1 || rc2 != 0) {
            if (bad++ < 5)
                printf("# cut after %llu writes: fsck.fat -a status %d, then -n status %d\n",
                       (unsigned long long)n, WEXITSTATUS(rc), WEXITSTATUS(rc2));
            continue;
        }
        /* Files complete at the last sync that finished before the cut must be intact. */
        int done = 0;
        while (done < nsync_total && syncs_at[done] <= n) done++;
        struct blk_file bf;
        struct fat_volume rv;
        static uint8_t want[300000], got[300000];
        if (blk_file_open(&bf, img, 512, 0, 0, 1) || fat_mount(&rv, &bf.dev, 0, 0, cache, 1 << 20, 0)) {
            bad++;
            continue;
        }
        for (int i = 0; i < nexpect; i++) {
            if (expect[i].touched || expect[i].synced_at >= done) continue;
            struct fat_file f;
            uint32_t g = 0;
            content(expect[i].path, expect[i].size, want);
            int err = fat_open(&rv, &f, expect[i].path, FAT_O_READ);
            if (!err) {
                err = fat_read(&f, got, sizeof got, &g);
                fat_close(&f);
            }
            if (err || g != expect[i].size || memcmp(got, want, g)) {
                if (bad++ < 5)
                    printf("# cut after %llu writes: %s lost or damaged (%s)\n",
                           (unsigned long long)n, expect[i].path, fat_strerror(err));
            }
        }
        blk_file_close(&bf);
    }
    check(bad == 0, "FAT%u: %d crash points, fsck.fat -a repairs each and synced files survive",
          type, runs);
    if (!bad) {
        snprintf(cmd, sizeof cmd, "rm -f %s build/tests/crash.log", img);
        if (system(cmd)) {}
    }
    return check_exit_status();
}
