/* fsck of the FAT core on damaged mkfs.fat images, each repair checked by fsck.fat -n and
 * mtools:
 *   - lost chains (a plain one, one that runs into a file's chain, a lost cycle, the tail
 *     cut off a file whose size is too small, and dozens of single clusters that make the
 *     FAT32 root grow) are saved whole as FSCKnnnn.REC files, never freed;
 *   - a check without repair changes nothing; with too little scratch memory, or a full
 *     fixed root, lost chains are reported and left in place;
 *   - regressions: a directory with more subdirectories than fsck's path depth (they were
 *     once "not checked" and their clusters freed as lost), a tree nested deeper than that
 *     depth (lost clusters must then be left alone), and a directory entry pointing at an
 *     ancestor, with a windowed bitmap that cannot see the loop. */
#define _GNU_SOURCE
#include "fs/fat.h"
#include "tests/check.h"
#include "tests/fs/ramimg.h"
#include <stdlib.h>

#define IMG "build/tests/fsck.img"

static uint8_t cache[4 << 20];
static uint8_t scratch[1 << 20];
static char report[1 << 16];
static size_t report_len;

static void on_report(void *ctx, const char *msg)
{
    (void)ctx;
    report_len += (size_t)snprintf(report + report_len, sizeof report - report_len, "%s; ", msg);
    if (report_len >= sizeof report)
        report_len = sizeof report - 1;
}

static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t ld32(const uint8_t *p) { return ld16(p) | (uint32_t)ld16(p + 2) << 16; }

/* BPB geometry of the image in RAM (512-byte sectors). */
static uint32_t rsvd, nfats, fatsz, spc, root_secs, fat_bits;

static void geometry(void)
{
    rsvd = ld16(img + 14), nfats = img[16], spc = img[13];
    fatsz = ld16(img + 22) ? ld16(img + 22) : ld32(img + 36);
    root_secs = (ld16(img + 17) * 32u + 511) / 512;
    fat_bits = ld16(img + 22) ? 16 : 32;
}

static uint8_t *cluster(uint32_t c)
{
    return img + (size_t)(rsvd + nfats * fatsz + root_secs + (c - 2) * spc) * 512;
}

/* Sets FAT entry C in every copy, as a damaged volume would hold it. */
static void fat_put(uint32_t c, uint32_t val)
{
    for (uint32_t i = 0; i < nfats; i++) {
        uint8_t *f = img + (size_t)(rsvd + i * fatsz) * 512;
        if (fat_bits == 32)
            f[4 * c] = (uint8_t)val, f[4 * c + 1] = (uint8_t)(val >> 8),
            f[4 * c + 2] = (uint8_t)(val >> 16), f[4 * c + 3] = (uint8_t)(val >> 24 & 0x0F);
        else
            f[2 * c] = (uint8_t)val, f[2 * c + 1] = (uint8_t)(val >> 8);
    }
}

static uint32_t fat_val(uint32_t c)
{
    const uint8_t *f = img + (size_t)rsvd * 512;
    return fat_bits == 32 ? ld32(f + 4 * c) & 0x0FFFFFFF : ld16(f + 2 * c);
}

/* Runs fat_fsck on a fresh mount with SIZE bytes of scratch; the report goes to report[]. */
static int fsck(bool repair, size_t size, uint32_t *problems)
{
    struct fat_volume v;
    int err = fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, repair ? 0 : FAT_MOUNT_RDONLY);
    if (err)
        return err;
    report_len = 0;
    report[0] = 0;
    *problems = 0;
    if (size == 0)
        size = fat_fsck_scratch(&v);
    err = fat_fsck(&v, repair, scratch, size, on_report, NULL, problems);
    int err2 = fat_unmount(&v);
    img_save();
    return err ? err : err2;
}

static bool write_file(const char *path, uint32_t size, uint8_t seed)
{
    struct fat_volume v;
    struct fat_file f;
    static uint8_t buf[1 << 16];
    for (uint32_t i = 0; i < size; i++)
        buf[i] = (uint8_t)(seed + i * 7);
    bool ok = fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, 0) == 0 &&
              fat_open(&v, &f, path, FAT_O_WRITE | FAT_O_CREATE) == 0 &&
              fat_write(&f, buf, size) == 0 && fat_close(&f) == 0;
    return fat_unmount(&v) == 0 && ok;
}

/* Size and first cluster of PATH, or false. */
static bool stat_of(const char *path, struct fat_dirent *e)
{
    struct fat_volume v;
    bool ok = fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, 0) == 0 && fat_stat(&v, path, e) == 0;
    fat_unmount(&v);
    return ok;
}

/* Does the file at PATH hold BYTES, as read by our core? */
static bool holds(const char *path, const uint8_t *bytes, uint32_t n)
{
    struct fat_volume v;
    struct fat_file f;
    static uint8_t buf[1 << 16];
    uint32_t got = 0;
    bool ok = fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, 0) == 0 &&
              fat_open(&v, &f, path, FAT_O_READ) == 0 && fat_read(&f, buf, sizeof buf, &got) == 0 &&
              got == n && memcmp(buf, bytes, n) == 0;
    fat_unmount(&v);
    return ok;
}

static bool external_clean(const char *what)
{
    img_save();
    return check(img_sh("fsck.fat -n $f >build/tests/fsck.log 2>&1") == 0,
                 "fsck.fat -n clean %s", what);
}

static void test_lost_chains(void)
{
    if (img_make(IMG, "mkfs.fat -F 32 -s 1 -C $f 70000 >/dev/null") != 0) {
        check(0, "mkfs.fat FAT32 image");
        return;
    }
    geometry();
    check(write_file("/keep.bin", 3000, 1) && write_file("/short.bin", 2048, 2), "files written");
    struct fat_dirent keep, shrt;
    stat_of("/keep.bin", &keep);
    stat_of("/short.bin", &shrt);
    uint32_t tail = fat_val(fat_val(shrt.first));   /* short.bin's third cluster */
    /* A plain lost chain of three clusters with known contents. */
    fat_put(60000, 60001), fat_put(60001, 60002), fat_put(60002, 0x0FFFFFFF);
    static uint8_t plain[3 * 512];
    for (uint32_t i = 0; i < sizeof plain; i++)
        plain[i] = (uint8_t)(i * 13 + 5);
    memcpy(cluster(60000), plain, 512), memcpy(cluster(60001), plain + 512, 512);
    memcpy(cluster(60002), plain + 1024, 512);
    /* One that runs into keep.bin's second cluster, and a lost cycle. */
    fat_put(62000, fat_val(keep.first));
    fat_put(61000, 61001), fat_put(61001, 61000);
    /* short.bin claims 600 bytes but owns four clusters: two are lost once cut. */
    uint8_t *root = cluster(ld32(img + 44));
    for (uint32_t o = 0; o < 512; o += 32)
        if (!memcmp(root + o, "SHORT   BIN", 11))
            root[o + 28] = 600 & 0xFF, root[o + 29] = 600 >> 8;
    /* Forty single lost clusters: the root (one 512-byte cluster) has to grow. */
    for (uint32_t i = 0; i < 40; i++)
        fat_put(63000 + 2 * i, 0x0FFFFFFF);

    uint8_t *before = malloc(img_size);
    memcpy(before, img, img_size);
    uint32_t problems;
    int err = fsck(false, 0, &problems);
    check(err == 0 && problems > 0 && strstr(report, "lost cluster"),
          "check only: lost clusters reported (%u problems)", problems);
    check(!memcmp(before, img, img_size), "check only: the image is unchanged");

    /* Scratch for a windowed walk only: lost chains reported and kept, nothing freed. */
    err = fsck(true, 2 * 512 + 256 * 32 + 8 + 4096, &problems);
    check(err == 0 && strstr(report, "left in place"), "low memory: lost chains left in place (%s)",
          report_len ? report : "no report");
    check(fat_val(60000) == 60001 && fat_val(61000) == 61001 && fat_val(63000) != 0,
          "low memory: the lost clusters are still allocated");

    err = fsck(true, 0, &problems);
    check(err == 0 && problems >= 44, "repair: %u findings", problems);
    uint32_t saved = 0;
    for (const char *p = report; (p = strstr(p, "saved as /FSCK")); p++)
        saved++;
    CHECK_EQ_U64(saved, 44, "repair: one REC file per lost chain (plain, merging, cycle, tail, 40 singles)");
    /* Identify the REC files by their first cluster and check contents and sizes. */
    bool plain_ok = false, cycle_ok = false, merge_ok = false, tail_ok = false;
    char plain_rec[32] = "";
    for (uint32_t n = 0; n < 44; n++) {
        char name[32];
        struct fat_dirent e;
        snprintf(name, sizeof name, "/FSCK%04u.REC", n);
        if (!stat_of(name, &e))
            continue;
        if (e.first == 60000)
            plain_ok = e.size == 1536 && holds(name, plain, sizeof plain);
        if (e.first == 61000 || e.first == 61001)
            cycle_ok = e.size == 1024 && fat_val(61001) >= 0x0FFFFFF8;
        if (e.first == 62000)
            merge_ok = e.size == 512 && fat_val(62000) >= 0x0FFFFFF8;
        if (e.first == 60000 && plain_ok)
            snprintf(plain_rec, sizeof plain_rec, "%s", name);
        if (e.size == 1024 && e.first == tail)
            tail_ok = true;
    }
    check(plain_ok, "repair: the plain chain is a REC file with its exact bytes");
    check(cycle_ok, "repair: the lost cycle is saved once, cut where it closed");
    check(merge_ok, "repair: the chain running into a file is saved up to that file and cut");
    check(tail_ok, "repair: the clusters cut off short.bin are saved");
    static uint8_t want[3000];
    for (uint32_t i = 0; i < 3000; i++)
        want[i] = (uint8_t)(1 + i * 7);
    check(holds("/keep.bin", want, 3000), "repair: keep.bin intact");
    external_clean("after saving lost chains");
    check(img_sh("mdir -i $f ::/ | grep -c 'FSCK.*REC' | grep -qx 44") == 0,
          "mtools lists the 44 REC files");
    FILE *fp = fopen("build/tests/plain.bin", "wb");
    if (fp)
        fwrite(plain, 1, sizeof plain, fp), fclose(fp);
    check(plain_rec[0] && img_sh("mtype -i $f ::%s | cmp -s - build/tests/plain.bin", plain_rec) == 0,
          "mtools reads the saved chain %s byte-exact", plain_rec);
    err = fsck(true, 0, &problems);
    check(err == 0 && problems == 0, "a second fsck finds nothing (%u: %s)", problems, report);
    free(before);
}

static void test_full_root(void)
{
    /* FAT16 with a 16-entry fixed root: 15 files leave one slot for one REC file. */
    if (img_make(IMG, "mkfs.fat -F 16 -s 1 -r 16 -C $f 20000 >/dev/null") != 0) {
        check(0, "mkfs.fat FAT16 image");
        return;
    }
    geometry();
    for (int i = 0; i < 15; i++) {
        char name[16];
        snprintf(name, sizeof name, "/F%d.TXT", i);
        write_file(name, 10, (uint8_t)i);
    }
    fat_put(30000, 30001), fat_put(30001, 0xFFFF), fat_put(31000, 0xFFFF), fat_put(32000, 0xFFFF);
    uint32_t problems;
    int err = fsck(true, 0, &problems);
    check(err == 0 && strstr(report, "saved as /FSCK0000.REC") &&
          strstr(report, "left in place: no room"), "full root: one chain saved, the rest kept (%s)",
          report);
    check(fat_val(31000) != 0 && fat_val(32000) != 0, "full root: unsaved lost clusters still allocated");
}

static void test_wide_tree(void)
{
    /* 300 subdirectories of the root, each with a file, made by mtools. */
    if (img_make(IMG, "mkfs.fat -F 32 -C $f 70000 >/dev/null; echo x > build/tests/x.txt;"
                      "mmd -i $f $(seq -f '::/D%g' 300);"
                      "for i in $(seq 300); do mcopy -i $f build/tests/x.txt ::/D$i/X.TXT; done") != 0) {
        check(0, "mtools tree of 300 directories");
        return;
    }
    uint32_t problems;
    int err = fsck(true, 0, &problems);
    check(err == 0 && problems == 0, "300 subdirectories: fsck --repair finds nothing (%u: %.200s)",
          problems, report);
    external_clean("after fsck of 300 subdirectories");
    check(img_sh("mtype -i $f ::/D300/X.TXT | grep -qx x") == 0, "the last subdirectory's file is intact");
}

static void test_deep_tree(void)
{
    if (img_make(IMG, "mkfs.fat -F 32 -C $f 70000 >/dev/null") != 0)
        return;
    geometry();
    static char path[4096];
    size_t n = 0;
    struct fat_volume v;
    fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, 0);
    bool ok = true;
    for (int i = 0; i < 300 && ok; i++) {
        n += (size_t)snprintf(path + n, sizeof path - n, "/d");
        ok = fat_mkdir(&v, path) == 0;
    }
    fat_unmount(&v);
    check(ok, "300 nested directories made");
    uint32_t lost = 100000;   /* beyond anything the tree uses */
    fat_put(lost, 0x0FFFFFFF);
    uint32_t problems;
    int err = fsck(true, 0, &problems);
    check(err == 0 && strstr(report, "nested too deep") && strstr(report, "not checked"),
          "deep tree: reported as not checked (%.200s)", report);
    check(fat_val(lost) != 0 && !strstr(report, "saved as"),
          "deep tree: unreached clusters are neither freed nor saved");
    struct fat_dirent e;
    check(stat_of(path, &e) && (e.attr & FAT_ATTR_DIR), "deep tree: the deepest directory is intact");
}

static void test_dir_loop(void)
{
    if (img_make(IMG, "mkfs.fat -F 32 -s 1 -C $f 70000 >/dev/null; mmd -i $f ::/A ::/A/B") != 0)
        return;
    geometry();
    struct fat_dirent b;
    stat_of("/A/B", &b);
    /* Turn B's third entry slot into a subdirectory LOOP pointing back at the root. */
    uint8_t *e = cluster(b.first) + 2 * 32;
    memset(e, 0, 32);
    memcpy(e, "LOOP       ", 11);
    e[11] = FAT_ATTR_DIR;
    uint32_t root = ld32(img + 44);
    e[26] = (uint8_t)root, e[27] = (uint8_t)(root >> 8), e[20] = (uint8_t)(root >> 16);
    uint32_t problems;
    /* A bitmap of 64 clusters per window: the loop is outside most windows. */
    int err = fsck(false, 2 * 512 + 256 * 32 + 8 + 8, &problems);
    check(err == 0 && strstr(report, "LOOP: entry points at its own ancestor"),
          "a directory loop ends the walk even with a windowed bitmap (%.200s)", report);
    err = fsck(true, 0, &problems);
    check(err == 0 && problems >= 1, "repair removes the looping entry");
    external_clean("after removing a directory loop");
}

int main(void)
{
    test_lost_chains();
    test_full_root();
    test_wide_tree();
    test_deep_tree();
    test_dir_loop();
    return check_exit_status();
}
