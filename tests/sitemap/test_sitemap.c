/* tests/sitemap/test_sitemap.c: the sitemap core (fs/sitemap.h) on a RAM copy of an
 * mkfs.fat + mtools image.  Checks: the host tool prints the same root; a byte flipped on
 * the image behind the filesystem's back changes exactly that file's leaf, its
 * directories and the root, and the diff against the saved sitemap names the file and the
 * block; added and removed files are reported; every kind of change made through the FAT
 * core (write, append, truncate, create, unlink, mkdir, rmdir, rename) is picked up by an
 * incremental refresh that hashes only the changed blocks and ends at the same root as a
 * full build; a damaged SITEMAP.BIN is refused. */
#define _GNU_SOURCE
#include "fs/sitemap.h"
#include "lib/host/blk_file.h"
#include "tests/check.h"
#include <stdlib.h>
#include <string.h>

static uint8_t *img;
static size_t img_size;
static struct blk_ram ram;
static uint8_t cache[4 << 20], tree_mem[4 << 20], saved_mem[4 << 20];
static struct fat_volume vol;
static struct sitemap sm, saved;
static const char *IMG = "build/tests/sitemap.img";

static int load_image(void)
{
    FILE *fp = fopen(IMG, "rb");
    if (!fp) return -1;
    fseek(fp, 0, SEEK_END);
    img_size = (size_t)ftell(fp);
    rewind(fp);
    free(img);
    img = malloc(img_size);
    size_t got = fread(img, 1, img_size, fp);
    fclose(fp);
    if (got != img_size) return -1;
    blk_ram_init(&ram, img, 512, img_size / 512);
    return 0;
}

static void store_image(void)
{
    FILE *fp = fopen(IMG, "wb");
    fwrite(img, 1, img_size, fp);
    fclose(fp);
}

static int mount(void)
{
    return fat_mount(&vol, &ram.dev, 0, 0, cache, sizeof cache, 0);
}

/* Every node's path and hash, for comparing two trees. */
struct snap {
    int n;
    char path[64][128];
    char hash[64][65];
};
static void snap_fn(void *ctx, const struct sitemap *s, uint32_t i, const char *path)
{
    struct snap *sn = ctx;
    if (sn->n < 64) {
        snprintf(sn->path[sn->n], sizeof sn->path[0], "%s", path);
        sha256_hex(s->nodes[i].hash, sn->hash[sn->n]);
        sn->n++;
    }
}

static char lines[16][300];
static int nlines;
static void collect(void *ctx, const char *line)
{
    (void)ctx;
    if (nlines < 16)
        snprintf(lines[nlines++], sizeof lines[0], "%s", line);
}

static void write_at(const char *path, uint32_t off, const void *data, uint32_t n, unsigned flags)
{
    struct fat_file f;
    if (fat_open(&vol, &f, path, FAT_O_WRITE | flags) == FAT_OK) {
        fat_seek(&f, off);
        fat_write(&f, data, n);
        fat_close(&f);
    }
}

/* After the change just made: refresh, compare with a full build, return blocks hashed. */
static uint64_t refresh_matches(const char *what, uint64_t want_blocks)
{
    int err = sitemap_refresh(&sm);
    uint8_t inc[SM_HASH];
    memcpy(inc, sitemap_root(&sm), SM_HASH);
    struct sm_stats st = sm.stats;
    sitemap_invalidate(&sm);
    int err2 = sitemap_refresh(&sm);
    check(!err && !err2 && !memcmp(inc, sitemap_root(&sm), SM_HASH) && !st.full,
          "incremental refresh after %s gives the full build's root", what);
    CHECK_EQ_U64(st.blocks_hashed, want_blocks, "refresh after %s hashes only the changed blocks", what);
    return st.blocks_hashed;
}

int main(void)
{
    if (system("set -e; mkdir -p build/tests; f=build/tests/sitemap.img; rm -f $f;"
               "mkfs.fat -F 12 -s 16 -C $f 16384 >/dev/null;"
               "d=$(mktemp -d); head -c 20000 /dev/urandom >$d/big.bin; echo hi >$d/small.txt;"
               "head -c 4096 /dev/urandom >$d/exact.bin; : >$d/empty;"
               "mmd -i $f ::/docs ::/docs/deep ::/emptydir;"
               "mcopy -i $f $d/big.bin $d/small.txt ::/; mcopy -i $f $d/exact.bin $d/empty ::/docs/;"
               "mcopy -i $f $d/big.bin ::/docs/deep/Long\\ File\\ Name.bin; rm -rf $d") != 0 ||
        load_image() != 0) {
        check(0, "make the test image");
        return 1;
    }
    check(mount() == FAT_OK, "mount");
    check(sitemap_init(&sm, &vol, tree_mem, sizeof tree_mem) == SM_OK && sitemap_build(&sm) == SM_OK,
          "build");
    CHECK_EQ_U64(sm.files, 5, "files counted");
    CHECK_EQ_U64(sm.dirs, 4, "directories counted (with the root)");
    CHECK_EQ_U64(sm.stats.blocks_hashed, 5 + 1 + 1 + 5, "a full build hashes every block");
    char root[65];
    sha256_hex(sitemap_root(&sm), root);

    /* The host tool on the same image prints the same root. */
    fat_unmount(&vol);
    store_image();
    char cmd[256], out[256] = "";
    snprintf(cmd, sizeof cmd, "build/fatimg %s sitemap", IMG);
    FILE *p = popen(cmd, "r");
    if (p && fgets(out, sizeof out, p)) out[strcspn(out, "\n")] = 0;
    if (p) pclose(p);
    char want[80];
    snprintf(want, sizeof want, "root %s", root);
    CHECK_STR(out, want, "fatimg prints the same root");

    /* Save; flip one byte of /docs/deep/Long File Name.bin (block 1) behind the FS's back. */
    mount();
    sitemap_init(&sm, &vol, tree_mem, sizeof tree_mem);
    check(sitemap_build(&sm) == SM_OK && sitemap_save(&sm) == SM_OK, "save");
    check(sitemap_load(&saved, &vol, saved_mem, sizeof saved_mem) == SM_OK &&
              !memcmp(sitemap_root(&saved), sitemap_root(&sm), SM_HASH),
          "load gives the saved root");
    struct snap before = { 0 }, after = { 0 };
    sitemap_walk(&sm, snap_fn, &before);
    struct fat_dirent e;
    fat_stat(&vol, "/docs/deep/long file name.bin", &e);
    fat_unmount(&vol);
    size_t off = ((size_t)vol.data_start + (size_t)(e.first - 2) * vol.spc) * vol.bps + 5000;
    img[off] ^= 0x20;
    mount();
    sitemap_init(&sm, &vol, tree_mem, sizeof tree_mem);
    sitemap_build(&sm);
    sitemap_walk(&sm, snap_fn, &after);
    int changed = 0, right = before.n == after.n;
    for (int i = 0; i < before.n && right; i++) {
        right &= !strcmp(before.path[i], after.path[i]);
        bool differs = strcmp(before.hash[i], after.hash[i]) != 0;
        bool expect = !strcmp(after.path[i], "/") || !strcmp(after.path[i], "/docs") ||
                      !strcmp(after.path[i], "/docs/deep") ||
                      !strcmp(after.path[i], "/docs/deep/Long File Name.bin");
        changed += differs;
        right &= differs == expect;
    }
    check(right && changed == 4, "a flipped byte changes exactly the leaf, its 2 directories "
                                 "and the root (%d changed)", changed);
    struct sm_diff d;
    nlines = 0;
    check(sitemap_diff(&sm, &saved, collect, NULL, &d) == SM_OK && d.changed == 1 && !d.added &&
              !d.removed && nlines == 1,
          "verify reports one changed file");
    CHECK_STR(lines[0], "changed /docs/deep/Long File Name.bin: blocks 1 of 5",
              "verify names the file and the block");

    /* Added and removed files. */
    write_at("/docs/new.txt", 0, "new\n", 4, FAT_O_CREATE);
    fat_unlink(&vol, "/small.txt");
    fat_rmdir(&vol, "/emptydir");
    sitemap_build(&sm);
    nlines = 0;
    sitemap_diff(&sm, &saved, collect, NULL, &d);
    check(d.added == 1 && d.removed == 1 && d.changed == 1, "added/removed/changed counted");
    bool add = false, rem = false, remdir = false;
    for (int i = 0; i < nlines; i++) {
        add |= !strcmp(lines[i], "added   /docs/new.txt (4 bytes)");
        rem |= !strcmp(lines[i], "removed /small.txt (3 bytes)");
        remdir |= !strcmp(lines[i], "removed /emptydir/ (directory, 0 files)");
    }
    check(add && rem && remdir, "verify names the added file, the removed file and directory");

    /* Incremental refresh through the change callback. */
    sitemap_build(&sm);
    uint8_t x = 0x55;
    write_at("/big.bin", 9000, &x, 1, 0);
    refresh_matches("a 1-byte write in block 2", 1);
    write_at("/big.bin", 8190, "abcd", 4, 0);
    refresh_matches("a write across blocks 1-2", 2);
    write_at("/big.bin", 0, "tail", 4, FAT_O_APPEND);
    refresh_matches("an append inside the last block", 1);
    static uint8_t chunk[10000];
    write_at("/big.bin", 20004, chunk, sizeof chunk, 0);
    refresh_matches("an append of 10,000 bytes (blocks 4-7)", 4);
    struct fat_file f;
    fat_open(&vol, &f, "/big.bin", FAT_O_WRITE);
    fat_truncate(&f, 5000);
    fat_close(&f);
    refresh_matches("a truncate to 5,000 bytes", 1);
    write_at("/docs/deep/created.bin", 0, chunk, sizeof chunk, FAT_O_CREATE);
    refresh_matches("creating a 3-block file", 3);
    fat_unlink(&vol, "/docs/exact.bin");
    refresh_matches("an unlink", 0);
    fat_mkdir(&vol, "/sub");
    refresh_matches("a mkdir", 0);
    fat_rename(&vol, "/docs/new.txt", "/sub/moved.txt");
    refresh_matches("a rename across directories", 1);
    fat_rmdir(&vol, "/docs/deep");   /* not empty: nothing changes */
    refresh_matches("a failed rmdir", 0);
    write_at("/sub/moved.txt", 0, "NEW\n", 4, FAT_O_TRUNC);
    refresh_matches("rewriting a file with the same size", 1);
    CHECK_EQ_U64(sm.files, 5, "file count follows the changes");
    uint8_t before_root[SM_HASH];
    memcpy(before_root, sitemap_root(&sm), SM_HASH);
    check(sitemap_save(&sm) == SM_OK && sitemap_refresh(&sm) == SM_OK &&
              sm.stats.dirs_listed == 0 && !memcmp(before_root, sitemap_root(&sm), SM_HASH),
          "saving is not a change to the tree");

    /* The content hash: whole-file SHA-256, for multi-block files after a partial rehash too. */
    uint32_t i = sitemap_find(&sm, "/DOCS/DEEP/CREATED.BIN");
    check(i != SM_NONE, "find is case-insensitive");
    uint8_t want_c[SM_HASH];
    sha256(chunk, sizeof chunk, want_c);
    check(i != SM_NONE && !memcmp(sm.nodes[i].content, want_c, SM_HASH), "content hash = SHA-256 of the file");
    write_at("/docs/deep/created.bin", 0, "z", 1, 0);
    sitemap_refresh(&sm);
    check(!(sm.nodes[i].flags & SM_F_CONTENT), "a partial rehash marks the content hash stale");
    chunk[0] = 'z';
    sha256(chunk, sizeof chunk, want_c);
    sitemap_content_all(&sm);
    check(!memcmp(sm.nodes[i].content, want_c, SM_HASH) && sm.stats.content_bytes == sizeof chunk,
          "sitemap_content_all rehashes only stale content");

    /* A damaged saved sitemap is refused. */
    fat_open(&vol, &f, "/" SM_SAVE_NAME, FAT_O_WRITE);
    fat_seek(&f, 100);
    fat_write(&f, "X", 1);
    fat_close(&f);
    CHECK_EQ_U64(sitemap_load(&saved, &vol, saved_mem, sizeof saved_mem), SM_EFORMAT,
                 "a damaged SITEMAP.BIN is refused");
    fat_unlink(&vol, "/" SM_SAVE_NAME);
    CHECK_EQ_U64(sitemap_load(&saved, &vol, saved_mem, sizeof saved_mem), SM_ENOSAVED,
                 "no SITEMAP.BIN: SM_ENOSAVED");
    static uint8_t small[1024];
    sitemap_init(&sm, &vol, small, sizeof small);
    CHECK_EQ_U64(sitemap_build(&sm), SM_ENOMEM, "too little memory: SM_ENOMEM");
    sitemap_detach(&sm);
    check(vol.on_change == NULL, "detach removes the callback");
    fat_unmount(&vol);
    return check_exit_status();
}
