/* fatimg: the FAT core on a disk-image file, from the Linux command line.
 *
 *   fatimg [options] IMAGE[@PART] COMMAND [ARGS]
 * PART is a 1-based partition number found through the image's GPT or MBR.  Messages go
 * to stderr as "fatimg: PATH: reason"; the exit status is 0 on success, 1 when a command
 * failed (or fsck found problems), 2 on usage errors.  Host-only: it may use malloc and
 * stdio; the filesystem core it drives does not. */
#include "fs/fat.h"
#include "fs/part.h"
#include "lib/host/blk_file.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: fatimg [-r] [-S SECTOR_SIZE] [-c CACHE_KIB] IMAGE[@PART] COMMAND [ARGS]\n"
    "  IMAGE@N        use partition N (1-based) of the image's GPT or MBR\n"
    "  -r             mount read-only\n"
    "  -S BYTES       device sector size (default: from the boot sector or partition table)\n"
    "  -c KIB         block + name cache size (default 8192)\n"
    "commands:\n"
    "  ls [-l] [-R] [PATH]     list a directory (or one file)\n"
    "  cat PATH...             write files to stdout\n"
    "  get PATH [LOCAL]        copy a file out (LOCAL '-' is stdout)\n"
    "  put LOCAL [PATH]        copy a file in (LOCAL '-' is stdin); PATH may be a directory\n"
    "  rm PATH...              delete files\n"
    "  mkdir PATH...           make directories\n"
    "  rmdir PATH...           remove empty directories\n"
    "  mv FROM TO              rename or move (TO may be an existing directory)\n"
    "  truncate PATH SIZE      set a file's size (growing fills zeros)\n"
    "  df                      size and free space\n"
    "  fsck [--repair]         check (and repair) the volume; exit 1 if problems found\n"
    "  info                    boot-sector geometry and cache statistics\n"
    "  sitemap [--save] [-l]   SHA-256 Merkle root of the volume (docs/SITEMAP.md); --save\n"
    "                          stores it in /SITEMAP.BIN, -l lists every file and directory\n"
    "  verify                  compare with /SITEMAP.BIN: exit 0 same, 1 changed, 3 cannot\n";

int fatimg_sitemap(struct fat_volume *vol, const char *cmd, int nargs, char **args);

static struct fat_volume vol;
static const char *prog = "fatimg";

static int fail(const char *what, int err)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, fat_strerror(err));
    return 1;
}

static void print_entry(const struct fat_dirent *e, bool longfmt, const char *prefix)
{
    if (longfmt) {
        char tbuf[32];
        time_t t = (time_t)e->mtime;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(tbuf, sizeof tbuf, "%Y-%m-%d %H:%M", &tm);
        printf("%c%c%c%c%c %10u %s %-12s %s%s%s\n", e->attr & FAT_ATTR_DIR ? 'd' : '-',
               e->attr & FAT_ATTR_RDONLY ? 'r' : '-', e->attr & FAT_ATTR_HIDDEN ? 'h' : '-',
               e->attr & FAT_ATTR_SYSTEM ? 's' : '-', e->attr & FAT_ATTR_ARCHIVE ? 'a' : '-',
               e->size, tbuf, e->short_name, prefix, e->name, e->attr & FAT_ATTR_DIR ? "/" : "");
    } else {
        printf("%s%s%s\n", prefix, e->name, e->attr & FAT_ATTR_DIR ? "/" : "");
    }
}

static int list(const char *path, bool longfmt, bool recursive, const char *prefix)
{
    struct fat_dir d;
    struct fat_dirent e;
    int err = fat_opendir(&vol, &d, path);
    if (err == FAT_ENOTDIR && !fat_stat(&vol, path, &e)) {
        print_entry(&e, longfmt, "");
        return 0;
    }
    if (err)
        return fail(path, err);
    int rc = 0;
    while ((err = fat_readdir(&d, &e)) == FAT_OK) {
        print_entry(&e, longfmt, prefix);
        if (recursive && (e.attr & FAT_ATTR_DIR)) {
            char sub[4096], pre[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, e.name);
            snprintf(pre, sizeof pre, "%s%s/", prefix, e.name);
            struct fat_dir save = d;
            rc |= list(sub, longfmt, true, pre);
            d = save;
        }
    }
    return err == FAT_ENOENT ? rc : fail(path, err);
}

static int copy_out(const char *path, int fd)
{
    struct fat_file f;
    int err = fat_open(&vol, &f, path, FAT_O_READ);
    if (err)
        return fail(path, err);
    static uint8_t buf[1 << 20];
    for (;;) {
        uint32_t got;
        if ((err = fat_read(&f, buf, sizeof buf, &got)))
            return fail(path, err);
        if (!got)
            break;
        for (uint32_t o = 0; o < got;) {
            ssize_t n = write(fd, buf + o, got - o);
            if (n <= 0) {
                perror(prog);
                return 1;
            }
            o += (uint32_t)n;
        }
    }
    fat_close(&f);
    return 0;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int put(const char *local, const char *dest)
{
    int fd = strcmp(local, "-") == 0 ? 0 : open(local, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, local, strerror(errno));
        return 1;
    }
    char path[4096];
    struct fat_dirent e;
    if (!dest)
        snprintf(path, sizeof path, "/%s", base_name(local));
    else if (!fat_stat(&vol, dest, &e) && (e.attr & FAT_ATTR_DIR))
        snprintf(path, sizeof path, "%s/%s", dest, base_name(local));
    else
        snprintf(path, sizeof path, "%s", dest);
    struct fat_file f;
    int err = fat_open(&vol, &f, path, FAT_O_WRITE | FAT_O_CREATE | FAT_O_TRUNC);
    if (err)
        return fail(path, err);
    static uint8_t buf[1 << 20];
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            perror(prog);
            rc = 1;
            break;
        }
        if (n == 0)
            break;
        if ((err = fat_write(&f, buf, (uint32_t)n))) {
            rc = fail(path, err);
            break;
        }
    }
    if (fd)
        close(fd);
    /* Closed on failure too: the entry must name the clusters already written (a full
     * volume keeps the part that fit), or they would be lost. */
    if ((err = fat_close(&f)))
        rc = fail(path, err);
    return rc;
}

static void report(void *ctx, const char *msg)
{
    (void)ctx;
    printf("%s\n", msg);
}

static int open_image(const char *spec, uint32_t ss, bool ro, struct blk_file *bf,
                      uint64_t *part_lba, uint64_t *part_sectors)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", spec);
    char *at = strrchr(path, '@');
    int part = 0;
    if (at && at[1] && strspn(at + 1, "0123456789") == strlen(at + 1)) {
        part = atoi(at + 1);
        *at = 0;
    }
    *part_lba = *part_sectors = 0;
    uint32_t sizes[2] = { 512, 4096 };
    for (int i = 0; i < 2; i++) {
        uint32_t s = ss ? ss : sizes[i];
        int e = blk_file_open(bf, path, s, 0, 0, ro);
        if (e) {
            fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(e));
            return 1;
        }
        if (part) {
            static uint8_t scratch[4096];
            struct part_info pi;
            int err = part_find(&bf->dev, scratch, part, &pi);
            if (err == PART_OK) {
                *part_lba = pi.lba;
                *part_sectors = pi.sectors;
                return 0;
            }
            if (ss || i == 1) {
                fprintf(stderr, "%s: %s: partition %d: %s\n", prog, path, part, part_strerror(err));
                return 1;
            }
        } else {
            uint8_t b[512];
            if (!ss && pread(bf->fd, b, sizeof b, 0) == (ssize_t)sizeof b) {
                uint32_t bps = b[11] | b[12] << 8;
                if (bps != s && (bps == 1024 || bps == 2048 || bps == 4096)) {
                    blk_file_close(bf);
                    if ((e = blk_file_open(bf, path, bps, 0, 0, ro)))
                        return 1;
                }
            }
            return 0;
        }
        blk_file_close(bf);
    }
    return 1;
}

int main(int argc, char **argv)
{
    uint32_t ss = 0;
    size_t cache_kib = 8192;
    bool ro = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-r")) ro = true;
        else if (!strcmp(argv[i], "-S") && i + 1 < argc) {
            /* lib/blkdev.h: 512..4096, a power of two; the scratch buffers are that big. */
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end || v < 512 || v > 4096 || (v & (v - 1))) {
                fprintf(stderr, "%s: -S %s: sector size must be 512, 1024, 2048 or 4096\n", prog,
                        argv[i]);
                return 2;
            }
            ss = (uint32_t)v;
        } else if (!strcmp(argv[i], "-c") && i + 1 < argc) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end || v < 64 || v > (1ul << 22)) {
                fprintf(stderr, "%s: -c %s: cache size must be 64..4194304 KiB\n", prog, argv[i]);
                return 2;
            }
            cache_kib = v;
        }
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { fputs(usage, stdout); return 0; }
        else { fputs(usage, stderr); return 2; }
    }
    if (argc - i < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *image = argv[i++], *cmd = argv[i++];
    char **args = argv + i;
    int nargs = argc - i;
    static const char *const readonly_cmds[] = { "ls", "cat", "get", "df", "info", "verify",
                                                 NULL };
    bool writes = true;
    for (int k = 0; readonly_cmds[k]; k++)
        if (!strcmp(cmd, readonly_cmds[k])) writes = false;
    if (!strcmp(cmd, "fsck"))
        writes = nargs > 0 && !strcmp(args[0], "--repair");
    if (!strcmp(cmd, "sitemap")) {
        writes = false;
        for (int k = 0; k < nargs; k++)
            if (!strcmp(args[k], "--save")) writes = true;
    }
    ro = ro || !writes;

    struct blk_file bf;
    uint64_t part_lba, part_sectors;
    if (open_image(image, ss, ro, &bf, &part_lba, &part_sectors))
        return 1;
    size_t memsize = cache_kib * 1024;
    void *mem = malloc(memsize);
    if (!mem)
        return 1;
    int err = fat_mount(&vol, &bf.dev, part_lba, part_sectors, mem, memsize, ro ? FAT_MOUNT_RDONLY : 0);
    if (err) {
        fprintf(stderr, "%s: %s: %s%s%s\n", prog, image, fat_strerror(err),
                vol.reason && *vol.reason ? ": " : "", vol.reason ? vol.reason : "");
        return 1;
    }
    int rc = 0;
    if (!strcmp(cmd, "ls")) {
        bool l = false, r = false;
        const char *path = "/";
        for (int k = 0; k < nargs; k++) {
            if (!strcmp(args[k], "-l")) l = true;
            else if (!strcmp(args[k], "-R")) r = true;
            else if (!strcmp(args[k], "-lR") || !strcmp(args[k], "-Rl")) l = r = true;
            else path = args[k];
        }
        rc = list(path, l, r, "");
    } else if (!strcmp(cmd, "cat")) {
        for (int k = 0; k < nargs; k++)
            rc |= copy_out(args[k], 1);
    } else if (!strcmp(cmd, "get") && (nargs == 1 || nargs == 2)) {
        const char *local = nargs == 2 ? args[1] : base_name(args[0]);
        int fd = strcmp(local, "-") == 0 ? 1 : open(local, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) {
            fprintf(stderr, "%s: %s: %s\n", prog, local, strerror(errno));
            rc = 1;
        } else {
            rc = copy_out(args[0], fd);
            if (fd != 1) close(fd);
        }
    } else if (!strcmp(cmd, "put") && (nargs == 1 || nargs == 2)) {
        rc = put(args[0], nargs == 2 ? args[1] : NULL);
    } else if (!strcmp(cmd, "rm") || !strcmp(cmd, "mkdir") || !strcmp(cmd, "rmdir")) {
        for (int k = 0; k < nargs; k++) {
            err = !strcmp(cmd, "rm")      ? fat_unlink(&vol, args[k])
                  : !strcmp(cmd, "mkdir") ? fat_mkdir(&vol, args[k])
                                          : fat_rmdir(&vol, args[k]);
            if (err)
                rc = fail(args[k], err);
        }
    } else if (!strcmp(cmd, "mv") && nargs == 2) {
        char to[4096];
        struct fat_dirent e;
        if (!fat_stat(&vol, args[1], &e) && (e.attr & FAT_ATTR_DIR))
            snprintf(to, sizeof to, "%s/%s", args[1], base_name(args[0]));
        else
            snprintf(to, sizeof to, "%s", args[1]);
        if ((err = fat_rename(&vol, args[0], to)))
            rc = fail(args[0], err);
    } else if (!strcmp(cmd, "truncate") && nargs == 2) {
        struct fat_file f;
        char *end;
        errno = 0;
        unsigned long long size = strtoull(args[1], &end, 0);
        if (*end || end == args[1] || args[1][0] == '-') {
            fputs(usage, stderr);
            rc = 2;
        } else if (errno || size > 0xFFFFFFFFu) {   /* not silently cut to 32 bits */
            rc = fail(args[0], FAT_EFBIG);
        } else if ((err = fat_open(&vol, &f, args[0], FAT_O_WRITE))) {
            rc = fail(args[0], err);
        } else {
            err = fat_truncate(&f, (uint32_t)size);
            int cerr = fat_close(&f);
            if (err || (err = cerr))
                rc = fail(args[0], err);
        }
    } else if (!strcmp(cmd, "df")) {
        struct fat_statfs st;
        if ((err = fat_statfs(&vol, &st)))
            return fail(image, err);
        uint64_t total = (uint64_t)st.clusters * st.cluster_bytes;
        uint64_t avail = (uint64_t)st.free_clusters * st.cluster_bytes;
        printf("%-12s %6s %12s %12s %12s %5s\n", "Filesystem", "Type", "1K-blocks", "Used",
               "Available", "Use%");
        printf("%-12s  FAT%-2u %12llu %12llu %12llu %4llu%%\n", st.label[0] ? st.label : "-",
               st.type, (unsigned long long)total / 1024,
               (unsigned long long)(total - avail) / 1024, (unsigned long long)avail / 1024,
               total ? (unsigned long long)((total - avail) * 100 / total) : 0ull);
    } else if (!strcmp(cmd, "fsck")) {
        bool repair = nargs > 0 && !strcmp(args[0], "--repair");
        size_t scratch_size = fat_fsck_scratch(&vol);
        void *scratch = malloc(scratch_size);
        uint32_t problems = 0;
        if (!scratch)
            return fail(image, FAT_ENOMEM);
        if ((err = fat_fsck(&vol, repair, scratch, scratch_size, report, NULL, &problems)))
            return fail(image, err);
        printf("%s: %u problem(s)%s\n", image, problems, problems && repair ? ", repaired" : "");
        rc = problems ? 1 : 0;
        free(scratch);
    } else if (!strcmp(cmd, "info")) {
        struct fat_statfs st;
        if ((err = fat_statfs(&vol, &st)))
            return fail(image, err);
        printf("type FAT%u\nlabel \"%s\"\nsector size %u\nsectors per cluster %u\n"
               "cluster bytes %u\nclusters %u\nfree clusters %u\nFATs %u\nFAT sectors %u\n"
               "reserved sectors %u\nroot entries %u\nroot cluster %u\ndata start %u\n"
               "volume sectors %llu\npartition lba %llu\ndevice sector size %u\n"
               "cache buffers %u\ncache hits %llu misses %llu\n",
               vol.type, vol.label, vol.bps, vol.spc, vol.cluster_bytes, vol.clusters,
               st.free_clusters, vol.nfats, vol.fat_size, vol.fat_start, vol.root_entries,
               vol.root_cluster, vol.data_start, (unsigned long long)vol.vol_sectors,
               (unsigned long long)part_lba, bf.dev.sector_size, vol.cache.nbufs,
               (unsigned long long)vol.cache.hits, (unsigned long long)vol.cache.misses);
    } else if (!strcmp(cmd, "sitemap") || !strcmp(cmd, "verify")) {
        if ((rc = fatimg_sitemap(&vol, cmd, nargs, args)) == 2)
            fputs(usage, stderr);
    } else {
        fputs(usage, stderr);
        rc = 2;
    }
    if ((err = fat_unmount(&vol)))
        rc = fail(image, err);
    blk_file_close(&bf);
    free(mem);
    return rc;
}
