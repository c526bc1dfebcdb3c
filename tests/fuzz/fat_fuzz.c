/* libFuzzer target: mount a mutated FAT image from RAM, walk its tree, read every file,
 * then write (create, write, mkdir, rename, truncate, unlink), run fsck with repair and
 * unmount.  Any crash, hang or sanitizer report is a bug; errors are expected.  Seeds
 * (tests/fuzz/fat_seeds.py) hold the classic corruptions. */
#include "fs/fat.h"
#include "lib/host/blk_file.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_IMG = 4 << 20 };
static uint8_t disk[MAX_IMG], cache[256 << 10], scratch[64 << 10], buf[64 << 10];
static struct fat_volume vol;
static int budget;

static void walk(const char *path, int depth)
{
    struct fat_dir d;
    struct fat_dirent e;
    if (depth > 6 || fat_opendir(&vol, &d, path))
        return;
    while (budget-- > 0 && fat_readdir(&d, &e) == FAT_OK) {
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s", path, e.name);
        if (e.attr & FAT_ATTR_DIR) {
            struct fat_dir save = d;
            walk(sub, depth + 1);
            d = save;
        } else {
            struct fat_file f;
            uint32_t got;
            if (fat_open(&vol, &f, sub, FAT_O_READ) == FAT_OK) {
                for (int i = 0; i < 8 && fat_read(&f, buf, sizeof buf, &got) == FAT_OK && got; i++) {}
                fat_close(&f);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 512 || size > MAX_IMG)
        return 0;
    size_t sectors = size / 512;
    memcpy(disk, data, sectors * 512);
    struct blk_ram ram;
    blk_ram_init(&ram, disk, 512, sectors);
    if (fat_mount(&vol, &ram.dev, 0, 0, cache, sizeof cache, 0) != FAT_OK)
        return 0;
    budget = 2000;
    walk("", 0);
    struct fat_file f;
    memset(buf, 'x', 5000);
    if (fat_open(&vol, &f, "/fuzz new file.txt", FAT_O_WRITE | FAT_O_CREATE) == FAT_OK) {
        fat_write(&f, buf, 5000);
        fat_seek(&f, 9000);
        fat_write(&f, buf, 100);
        fat_truncate(&f, 700);
        fat_close(&f);
    }
    fat_mkdir(&vol, "/fuzzdir");
    fat_rename(&vol, "/fuzz new file.txt", "/fuzzdir/moved");
    struct fat_dir d;
    struct fat_dirent e;
    if (fat_opendir(&vol, &d, "/") == FAT_OK && fat_readdir(&d, &e) == FAT_OK) {
        char p[800];
        snprintf(p, sizeof p, "/%s", e.name);
        if (e.attr & FAT_ATTR_DIR) fat_rmdir(&vol, p); else fat_unlink(&vol, p);
    }
    uint32_t problems;
    fat_fsck(&vol, true, scratch, sizeof scratch, NULL, NULL, &problems);
    walk("", 0);
    fat_unmount(&vol);
    return 0;
}
