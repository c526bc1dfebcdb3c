/* Unit tests of the FAT core on RAM copies of mkfs.fat/sgdisk images: partition probing
 * (GPT CRCs and backup header), mount refusals, hostile chains, zero-filled gaps, request
 * counts of large transfers, the name cache, fsck repairing a damaged FAT copy, and the
 * dirty flag. */
#define _GNU_SOURCE
#include "fs/fat.h"
#include "fs/part.h"
#include "tests/fs/ramimg.h"
#include "tests/check.h"
#include <stdlib.h>
#include <unistd.h>

static uint8_t cache[4 << 20];

static int make(const char *shell) { return img_make("build/tests/core.img", shell); }

static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static void test_partitions(void)
{
    make("truncate -s 8M $f; sgdisk -o -n 1:2048:+4M -n 2:12288:0 $f >/dev/null");
    static uint8_t scratch[4096];
    struct part_info p[4];
    int n, err = part_probe(&ram.dev, scratch, p, 4, &n);
    check(err == 0 && n == 2 && p[0].lba == 2048 && p[1].lba == 12288, "GPT: two partitions found");
    img[512 + 20] ^= 0xFF;   /* inside the primary header's CRC-covered bytes */
    err = part_probe(&ram.dev, scratch, p, 4, &n);
    check(err == 0 && n == 2, "GPT: damaged primary header, backup used");
    img[img_size - 512 + 20] ^= 0xFF;
    err = part_probe(&ram.dev, scratch, p, 4, &n);
    CHECK_EQ_U64(err, PART_EBADGPT, "GPT: both headers damaged is refused");
    make("truncate -s 8M $f; echo '2048,4096,c' | sfdisk -q $f >/dev/null");
    err = part_probe(&ram.dev, scratch, p, 4, &n);
    check(err == 0 && n == 1 && p[0].lba == 2048 && p[0].sectors == 4096, "MBR: partition found");
    /* A boot sector claiming more than its partition (8192 sectors in a 4096-sector one,
     * with a second partition behind it) must not be mounted: writes would land there. */
    make("truncate -s 8M $f; printf '2048,4096,c\\n6144,8192,c\\n' | sfdisk -q $f >/dev/null;"
         "mkfs.fat --offset 2048 $f 4096 >/dev/null");
    static uint8_t vcache[64 << 10];
    struct fat_volume v;
    err = part_probe(&ram.dev, scratch, p, 4, &n);
    check(err == 0 && n == 2, "MBR: two partitions");
    err = fat_mount(&v, &ram.dev, p[0].lba, p[0].sectors, vcache, sizeof vcache, 0);
    check(err == FAT_EBADFS && strstr(v.reason, "partition"),
          "a volume larger than its partition is refused (%s)", fat_strerror(err));
    check(fat_mount(&v, &ram.dev, p[0].lba, 0, vcache, sizeof vcache, 0) == FAT_OK && fat_unmount(&v) == 0,
          "the same volume mounts when the caller gives no partition size");
    make("mkfs.fat -C $f 2048 >/dev/null");
    CHECK_EQ_U64(part_probe(&ram.dev, scratch, p, 4, &n), PART_ENOTABLE, "bare FAT volume: no table");
}

static void test_mount_refusals(void)
{
    struct fat_volume v;
    make("mkfs.fat -F 16 -C $f 8192 >/dev/null");
    uint8_t save0[512];
    memcpy(save0, img, 512);
    static const struct { int off; uint8_t val; const char *what; } cases[] = {
        { 13, 0, "zero sectors per cluster" }, { 13, 3, "3 sectors per cluster" },
        { 11, 0, "bytes per sector 0 (low byte)" }, { 16, 0, "zero FATs" },
        { 22, 0, "zero FAT size" }, { 510, 0, "no signature" }, { 0, 0, "no jump" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memcpy(img, save0, 512);
        img[cases[i].off] = cases[i].val;
        if (cases[i].off == 11) img[12] = 0;
        int err = fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, FAT_MOUNT_RDONLY);
        check(err == FAT_EBADFS && v.reason && *v.reason, "mount refuses %s (%s)", cases[i].what,
              v.reason);
    }
    memcpy(img, save0, 512);
    img[23] = 0x7F;   /* huge FAT: metadata larger than the volume */
    check(fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, FAT_MOUNT_RDONLY) == FAT_EBADFS,
          "mount refuses a huge FAT size");
    memcpy(img, save0, 512);
    ram.dev.sectors /= 2;   /* truncated image */
    check(fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, FAT_MOUNT_RDONLY) == FAT_EBADFS,
          "mount refuses a truncated image (%s)", v.reason);
}

static void test_hostile_chains(void)
{
    make("mkfs.fat -F 16 -s 1 -C $f 8192 >/dev/null; head -c 5000 /dev/urandom > build/tests/r.bin;"
         "mcopy -i $f build/tests/r.bin ::/A.BIN; mcopy -i $f build/tests/r.bin ::/B.BIN");
    struct fat_volume v;
    uint32_t rsvd = ld16(img + 14), fatsz = ld16(img + 22);
    uint8_t *fat = img + rsvd * 512;
    /* A.BIN occupies clusters 2..11; make cluster 5 point back to 3 (a cycle) in both FATs. */
    fat[5 * 2] = 3, fat[5 * 2 + 1] = 0;
    fat[fatsz * 512 + 10] = 3, fat[fatsz * 512 + 11] = 0;
    check(fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, 0) == 0, "mount volume with a cyclic chain");
    struct fat_file f;
    static uint8_t buf[20000];
    uint32_t got;
    int err = fat_open(&v, &f, "/a.bin", FAT_O_READ);
    got = 0;
    if (!err) err = fat_read(&f, buf, sizeof buf, &got);
    /* Within the size the cycle may just be read (it holds clusters); it must end. */
    check(err == FAT_ECORRUPT || got == 5000, "reading a cyclic chain ends (%s, %u bytes)",
          fat_strerror(err), got);
    /* Writing past the end of the cyclic file must also end, not loop. */
    err = fat_open(&v, &f, "/a.bin", FAT_O_WRITE | FAT_O_APPEND);
    if (!err) err = fat_write(&f, buf, 9000);
    CHECK_EQ_U64(err, FAT_ECORRUPT, "appending to a cyclic chain reports corruption");
    static uint8_t scratch[1 << 16];
    uint32_t problems = 0;
    err = fat_fsck(&v, true, scratch, sizeof scratch, NULL, NULL, &problems);
    check(err == 0 && problems > 0, "fsck repairs the cycle (%u problems)", problems);
    fat_unmount(&v);
    img_save();
    check(img_sh("fsck.fat -n $f >/dev/null 2>&1") == 0,
          "fsck.fat -n clean after our repair of a cyclic chain");
    /* Out-of-range first cluster. */
    uint8_t *root = img + (rsvd + 2 * fatsz) * 512;
    root[32 + 26] = 0xF0, root[32 + 27] = 0xFF;   /* B.BIN starts at 0xFFF0 */
    check(fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, 0) == 0, "mount with a wild entry");
    err = fat_open(&v, &f, "/b.bin", FAT_O_READ);
    CHECK_EQ_U64(err, FAT_ECORRUPT, "a first cluster outside the volume is refused");
    fat_unmount(&v);
}

static void test_gap_and_requests(void)
{
    make("mkfs.fat -F 32 -s 1 -C $f 140000 >/dev/null 2>&1");
    struct fat_volume v;
    if (!check(fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, 0) == 0, "mount FAT32")) return;
    struct fat_file f;
    static uint8_t buf[1 << 20], back[1 << 20];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 7 + 3);
    fat_open(&v, &f, "/gap.bin", FAT_O_READ | FAT_O_WRITE | FAT_O_CREATE);
    fat_write(&f, "head", 4);
    fat_seek(&f, 100000);
    fat_write(&f, "tail", 4);
    fat_seek(&f, 0);
    uint32_t got;
    fat_read(&f, back, sizeof back, &got);
    bool zeros = got == 100004 && !memcmp(back, "head", 4) && !memcmp(back + 100000, "tail", 4);
    for (uint32_t i = 4; i < 100000 && zeros; i++) zeros = back[i] == 0;
    check(zeros, "seek past the end then write fills the gap with zeros");
    fat_close(&f);

    fat_open(&v, &f, "/big.bin", FAT_O_WRITE | FAT_O_CREATE);
    struct blk_stats s0 = ram.dev.stats;
    for (int i = 0; i < 32; i++) fat_write(&f, buf, sizeof buf);
    fat_close(&f);
    uint64_t wreq = ram.dev.stats.writes - s0.writes;
    check(wreq <= 32 + 8, "32 MiB written with 1 MiB buffers in %llu data requests (<= 40)",
          (unsigned long long)wreq);
    fat_sync(&v);
    fat_open(&v, &f, "/big.bin", FAT_O_READ);
    s0 = ram.dev.stats;
    bool same = true;
    for (int i = 0; i < 32; i++) {
        fat_read(&f, back, sizeof back, &got);
        same &= got == sizeof back && !memcmp(back, buf, got);
    }
    uint64_t rreq = ram.dev.stats.reads - s0.reads;
    check(same && rreq <= 32 + 32, "32 MiB read back in %llu requests (FAT reads included)",
          (unsigned long long)rreq);
    /* Random 4 KiB reads: the run cache keeps FAT reads near zero. */
    s0 = ram.dev.stats;
    uint32_t seed = 1;
    for (int i = 0; i < 2000; i++) {
        seed = seed * 1103515245 + 12345;
        fat_seek(&f, (seed >> 8) % (32u << 20) & ~4095u);
        fat_read(&f, back, 4096, &got);
    }
    rreq = ram.dev.stats.reads - s0.reads;
    check(rreq <= 2000 + 2000 / 10, "2000 random 4 KiB reads cost %llu requests",
          (unsigned long long)rreq);
    fat_close(&f);

    /* The dirty flag is set while mounted and cleared by unmount. */
    check(img[65] & 1, "dirty flag set while mounted read-write");
    fat_unmount(&v);
    check(!(img[65] & 1), "dirty flag cleared on unmount");
    img_save();
    check(img_sh("fsck.fat -n $f >/dev/null 2>&1") == 0, "fsck.fat -n clean");
}

static void test_name_cache(void)
{
    make("mkfs.fat -F 16 -s 4 -C $f 32768 >/dev/null");
    struct fat_volume v;
    fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, 0);
    fat_mkdir(&v, "/many");
    struct blk_stats s0 = ram.dev.stats;
    char p[128];
    for (int i = 0; i < 1000; i++) {
        struct fat_file f;
        snprintf(p, sizeof p, "/many/A long file name number %04d.text", i);
        if (fat_open(&v, &f, p, FAT_O_WRITE | FAT_O_CREATE | FAT_O_EXCL)) break;
        fat_close(&f);
    }
    uint64_t creads = ram.dev.stats.reads - s0.reads;
    check(creads < 20, "creating 1000 long-named files reads %llu sectors (not quadratic)",
          (unsigned long long)creads);
    fat_unmount(&v);
    fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, 0);
    struct fat_dirent e;
    fat_stat(&v, "/many/A LONG FILE NAME NUMBER 0000.TEXT", &e);   /* reads the directory once */
    s0 = ram.dev.stats;
    int found = 0;
    for (int i = 0; i < 1000; i += 7) {
        snprintf(p, sizeof p, "/many/a long file name number %04d.TEXT", i);
        found += fat_stat(&v, p, &e) == 0;
    }
    uint64_t lreads = ram.dev.stats.sectors_read - s0.sectors_read;
    check(found == 143 && lreads <= 20, "143 cached lookups (case-insensitive) read %llu sectors",
          (unsigned long long)lreads);
    check(fat_stat(&v, "/many/absent", &e) == FAT_ENOENT, "missing name reported");
    fat_unmount(&v);
    img_save();
    check(img_sh("fsck.fat -n $f >/dev/null 2>&1") == 0, "fsck.fat -n clean");
}

static void test_fat_copies(void)
{
    make("mkfs.fat -F 16 -s 1 -C $f 8192 >/dev/null; echo hi > build/tests/h.txt;"
         "mcopy -i $f build/tests/h.txt ::/H.TXT");
    uint32_t rsvd = ld16(img + 14), fatsz = ld16(img + 22);
    memset(img + (rsvd + fatsz) * 512, 0x5A, 512);   /* scribble over copy 2's first sector */
    struct fat_volume v;
    fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, 0);
    static uint8_t scratch[1 << 16];
    uint32_t problems = 0;
    int err = fat_fsck(&v, true, scratch, sizeof scratch, NULL, NULL, &problems);
    check(err == 0 && problems >= 1, "fsck finds the differing FAT copy");
    check(!memcmp(img + rsvd * 512, img + (rsvd + fatsz) * 512, fatsz * 512),
          "fsck --repair makes the FAT copies identical");
    fat_unmount(&v);
    img_save();
    check(img_sh("fsck.fat -n $f >/dev/null 2>&1") == 0, "fsck.fat -n clean");
}

static void test_rename_into_self(void)
{
    make("mkfs.fat -F 12 -C $f 2048 >/dev/null");
    struct fat_volume v;
    fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, 0);
    fat_mkdir(&v, "/a");
    fat_mkdir(&v, "/a/b");
    CHECK_EQ_U64(fat_rename(&v, "/a", "/a/b/c"), FAT_EINVAL, "moving a directory into itself");
    CHECK_EQ_U64(fat_rmdir(&v, "/a"), FAT_ENOTEMPTY, "rmdir of a non-empty directory");
    CHECK_EQ_U64(fat_mkdir(&v, "/A"), FAT_EEXIST, "mkdir of an existing name (other case)");
    CHECK_EQ_U64(fat_mkdir(&v, "/bad:name"), FAT_EBADNAME, "a name with ':' is refused");
    check(fat_rename(&v, "/a/b", "/b2") == 0 && fat_rmdir(&v, "/b2") == 0,
          "move a directory up, then remove it");
    fat_unmount(&v);
    img_save();
    check(img_sh("fsck.fat -n $f >/dev/null 2>&1") == 0, "fsck.fat -n clean");
}

/* Two names whose name-cache hashes collide (found by a brute-force search over
 * name_hash): each lookup of one must not evict the other's slot from a directory the
 * cache believes it holds whole, or both vanish and O_EXCL creates a duplicate. */
static void test_hash_collision(void)
{
    make("mkfs.fat -F 16 -C $f 20000 >/dev/null");
    struct fat_volume v;
    struct fat_file f;
    struct fat_dirent e;
    fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, 0);
    fat_mkdir(&v, "/d");
    fat_open(&v, &f, "/d/N0632823", FAT_O_WRITE | FAT_O_CREATE);
    fat_close(&f);
    fat_open(&v, &f, "/d/N1041549", FAT_O_WRITE | FAT_O_CREATE);
    fat_close(&f);
    int found = 0;
    for (int i = 0; i < 3; i++)
        found += (fat_stat(&v, "/d/N0632823", &e) == 0) + (fat_stat(&v, "/d/n1041549", &e) == 0);
    CHECK_EQ_U64(found, 6, "two names with the same hash are both found, repeatedly");
    CHECK_EQ_U64(fat_open(&v, &f, "/d/N0632823", FAT_O_WRITE | FAT_O_CREATE | FAT_O_EXCL),
                 FAT_EEXIST, "O_EXCL create of one of them is refused");
    fat_unmount(&v);
    img_save();
    check(img_sh("fsck.fat -n $f >/dev/null 2>&1") == 0, "fsck.fat -n clean (no duplicate)");
}

/* A full volume: a write larger than the free space stores what fits (no clusters past
 * the size), and a deleted file's clusters are reusable before any explicit sync. */
static void test_full_volume(void)
{
    make("mkfs.fat -F 16 -s 2 -C $f 5000 >/dev/null");
    struct fat_volume v;
    struct fat_file f;
    struct fat_statfs st;
    static uint8_t buf[6 << 20];
    memset(buf, 0x5A, sizeof buf);
    if (!check(fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, 0) == 0, "mount FAT16"))
        return;
    fat_statfs(&v, &st);
    uint32_t room = st.free_clusters * st.cluster_bytes;
    fat_open(&v, &f, "/big", FAT_O_WRITE | FAT_O_CREATE);
    CHECK_EQ_U64(fat_write(&f, buf, room + 4096), FAT_ENOSPC, "write past the free space");
    CHECK_EQ_U64(f.size, room, "the part that fits is written");
    fat_close(&f);
    fat_unmount(&v);
    img_save();
    check(img_sh("fsck.fat -n $f >/dev/null 2>&1") == 0,
          "fsck.fat -n clean after a short write (no chain past the size)");

    fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, 0);
    check(fat_unlink(&v, "/big") == 0, "delete the file that filled the volume");
    fat_open(&v, &f, "/again", FAT_O_WRITE | FAT_O_CREATE);
    CHECK_EQ_U64(fat_write(&f, buf, 1 << 20), FAT_OK, "its space is reusable without a sync");
    fat_close(&f);
    CHECK_EQ_U64(fat_mkdir(&v, "/dir"), FAT_OK, "mkdir on the same volume");
    fat_unmount(&v);
    img_save();
    check(img_sh("fsck.fat -n $f >/dev/null 2>&1 && [ $(mtype -i $f ::/again | wc -c) = 1048576 ]"
                 " && [ $(mtype -i $f ::/again | tr -d Z | wc -c) = 0 ]") == 0,
          "fsck.fat -n clean, file reads back with mtools");
}

/* A full fixed FAT12 root: a long name that does not fit leaves no orphaned long-name
 * records, and a rename over an existing file that then cannot fit keeps that file. */
static void test_full_root(void)
{
    make("mkfs.fat -F 12 -r 16 -C $f 2048 >/dev/null && printf hello > $f.abc && "
         "mcopy -i $f $f.abc ::ABC && rm $f.abc");
    struct fat_volume v;
    struct fat_file f;
    struct fat_dirent e;
    fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, 0);
    int made = 0;
    for (int i = 0; i < 14; i++) {   /* ABC + 14 files: one slot left */
        char nm[16];
        snprintf(nm, sizeof nm, "/F%d", i);
        if (fat_open(&v, &f, nm, FAT_O_WRITE | FAT_O_CREATE) == 0 && fat_close(&f) == 0)
            made++;
    }
    CHECK_EQ_U64(made, 14, "14 files in the 16-entry root");
    CHECK_EQ_U64(fat_open(&v, &f, "/a long name.txt", FAT_O_WRITE | FAT_O_CREATE), FAT_ENOSPC,
                 "a long name does not fit in the last slot");
    /* "Abc" needs a long-name record: two slots where ABC freed one. */
    CHECK_EQ_U64(fat_rename(&v, "/F0", "/Abc"), FAT_ENOSPC, "rename over ABC does not fit");
    check(fat_stat(&v, "/abc", &e) == 0 && e.size == 5, "ABC is still there");
    check(fat_stat(&v, "/F0", &e) == 0, "F0 is still there");
    CHECK_EQ_U64(fat_rename(&v, "/F0", "/abc"), FAT_OK, "rename over ABC that fits");
    fat_unmount(&v);
    img_save();
    check(img_sh("fsck.fat -n $f >/dev/null 2>&1") == 0, "fsck.fat -n clean (no orphans)");
    check(img_sh("[ \"$(mtype -i $f ::ABC)\" = '' ] && [ $(mdir -b -i $f ::/ | wc -l) = 14 ]")
              == 0, "mtools: ABC replaced by the empty F0, 14 entries");
}

/* Open files: one writer per file, no unlink or rename under an open file (the object
 * would write its size and chain into a removed or moved entry on close), a bounded
 * table whose refusal creates nothing. */
static void test_open_files(void)
{
    make("mkfs.fat -F 16 -s 1 -C $f 8192 >/dev/null");
    struct fat_volume v;
    if (!check(fat_mount(&v, &ram.dev, 0, 0, cache, sizeof cache, 0) == 0, "mount for open-file rules"))
        return;
    struct fat_file w, w2, r;
    static uint8_t buf[3000];
    memset(buf, 'w', sizeof buf);
    check(fat_open(&v, &w, "/a.txt", FAT_O_WRITE | FAT_O_CREATE) == 0 && fat_write(&w, buf, 3000) == 0,
          "open a.txt for writing");
    CHECK_EQ_U64(fat_open(&v, &w2, "/A.TXT", FAT_O_WRITE | FAT_O_TRUNC), FAT_EBUSY,
                 "a second writer of the same file is refused");
    CHECK_EQ_U64(fat_open(&v, &r, "/a.txt", FAT_O_READ), FAT_OK, "a reader beside the writer is fine");
    CHECK_EQ_U64(fat_unlink(&v, "/a.txt"), FAT_EBUSY, "unlink of an open file is refused");
    CHECK_EQ_U64(fat_rename(&v, "/a.txt", "/b.txt"), FAT_EBUSY, "rename of an open file is refused");
    struct fat_file o;
    check(fat_open(&v, &o, "/other.txt", FAT_O_WRITE | FAT_O_CREATE) == 0 && fat_close(&o) == 0,
          "another file");
    CHECK_EQ_U64(fat_rename(&v, "/other.txt", "/a.txt"), FAT_EBUSY,
                 "rename over an open file is refused");
    fat_close(&r);
    CHECK_EQ_U64(fat_unlink(&v, "/a.txt"), FAT_EBUSY, "still refused while the writer is open");
    check(fat_close(&w) == 0, "close the writer");
    struct fat_dirent e;
    check(fat_stat(&v, "/a.txt", &e) == 0 && e.size == 3000, "a.txt keeps what was written");
    check(fat_rename(&v, "/other.txt", "/a.txt") == 0 && fat_unlink(&v, "/a.txt") == 0,
          "rename over and unlink work once closed");
    static struct fat_file many[FAT_OPEN_MAX + 1];
    int opened = 0;
    for (int i = 0; i < FAT_OPEN_MAX; i++) {
        char name[16];
        snprintf(name, sizeof name, "/f%d", i);
        opened += fat_open(&v, &many[i], name, FAT_O_WRITE | FAT_O_CREATE) == 0;
    }
    CHECK_EQ_U64(opened, FAT_OPEN_MAX, "FAT_OPEN_MAX files open at once");
    CHECK_EQ_U64(fat_open(&v, &many[FAT_OPEN_MAX], "/extra", FAT_O_WRITE | FAT_O_CREATE), FAT_EMFILE,
                 "one more is refused");
    CHECK_EQ_U64(fat_stat(&v, "/extra", &e), FAT_ENOENT, "and the refused create made no entry");
    for (int i = 0; i < FAT_OPEN_MAX; i++)
        fat_close(&many[i]);
    check(fat_open(&v, &many[0], "/extra", FAT_O_WRITE | FAT_O_CREATE) == 0 && fat_close(&many[0]) == 0,
          "closing frees the slots");
    /* An object abandoned unclosed (its command stopped by a CPU exception in the OS) is
     * forgotten with fat_forget_open, and its file can be written again. */
    struct fat_file dead;
    check(fat_open(&v, &dead, "/extra", FAT_O_WRITE) == 0 &&
          fat_open(&v, &w, "/extra", FAT_O_WRITE) == FAT_EBUSY, "an abandoned writer blocks its file");
    fat_forget_open(&v);
    check(fat_open(&v, &w, "/extra", FAT_O_WRITE) == 0 && fat_close(&w) == 0,
          "after fat_forget_open the file opens for writing again");
    /* A 0-byte write past the end changes nothing (as write(2)); df sees a deleted file's
     * space at once, not only after the next sync. */
    struct fat_statfs st0, st1;
    check(fat_open(&v, &w, "/gap.bin", FAT_O_WRITE | FAT_O_CREATE) == 0 && fat_seek(&w, 100000) == 0 &&
          fat_write(&w, buf, 0) == 0 && fat_close(&w) == 0 && fat_stat(&v, "/gap.bin", &e) == 0 &&
          e.size == 0, "a 0-byte write past the end leaves the size at %u", e.size);
    fat_statfs(&v, &st0);
    check(fat_open(&v, &w, "/gap.bin", FAT_O_WRITE) == 0 && fat_write(&w, buf, 3000) == 0 &&
          fat_close(&w) == 0 && fat_unlink(&v, "/gap.bin") == 0 && fat_statfs(&v, &st1) == 0 &&
          st1.free_clusters == st0.free_clusters, "statfs right after unlink counts its clusters free (%u, %u)",
          st0.free_clusters, st1.free_clusters);
    fat_unmount(&v);
    img_save();
    check(img_sh("fsck.fat -n $f >/dev/null 2>&1") == 0, "fsck.fat -n clean after the open-file rules");
}

int main(void)
{
    test_partitions();
    test_mount_refusals();
    test_hostile_chains();
    test_gap_and_requests();
    test_name_cache();
    test_fat_copies();
    test_rename_into_self();
    test_hash_collision();
    test_full_volume();
    test_full_root();
    test_open_files();
    return check_exit_status();
}
