/* fatimg's sitemap commands (docs/SITEMAP.md), on the volume fatimg.c mounted.
 *
 *   sitemap [--save] [-l]   build the tree, print "root HEX" and the work done; -l lists
 *                           every node: "F leaf content size path" or "D hash - - path";
 *                           --save writes /SITEMAP.BIN
 *   verify                  compare the volume with /SITEMAP.BIN: one line per added,
 *                           removed or changed file; exit 0 same, 1 different, 3 when
 *                           there is no usable saved sitemap or the volume cannot be read
 * The kernel's `sitemap` and `verify` print the same root line.  Host-only (malloc). */
#include "fs/sitemap.h"
#include "lib/clock.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fatimg_sitemap(struct fat_volume *vol, const char *cmd, int nargs, char **args);

enum { EXIT_SAME = 0, EXIT_DIFFERENT = 1, EXIT_USAGE = 2, EXIT_CANNOT = 3 };

static int sm_fail(const char *what, const struct sitemap *sm, int err)
{
    if (err == SM_EFAT)
        fprintf(stderr, "fatimg: %s: %s: %s\n", what, sm->path[0] ? sm->path : "/",
                fat_strerror(sm->fat_err));
    else
        fprintf(stderr, "fatimg: %s: %s\n", what, sm_strerror(err));
    return EXIT_CANNOT;
}

/* Builds the tree in memory that doubles until it fits (up to 4 GiB). */
static int build(struct sitemap *sm, struct fat_volume *vol, void **mem)
{
    for (size_t size = 1 << 20;; size *= 2) {
        free(*mem);
        if (!(*mem = malloc(size)))
            return SM_ENOMEM;
        int err = sitemap_init(sm, vol, *mem, size);
        if (!err)
            err = sitemap_build(sm);
        if (err != SM_ENOMEM || size >= ((size_t)1 << 31))
            return err;
    }
}

static void list_node(void *ctx, const struct sitemap *sm, uint32_t i, const char *path)
{
    (void)ctx;
    char line[SM_LINE_MAX];
    sitemap_node_line(sm, i, path, line);
    printf("%s\n", line);
}

static void print_root(const struct sitemap *sm, uint64_t ns)
{
    char h[65];
    sha256_hex(sitemap_root(sm), h);
    printf("root %s\n", h);
    printf("%u files, %u directories, %llu blocks; hashed %llu blocks (%llu bytes) in %llu ms\n",
           sm->files, sm->dirs - 1, (unsigned long long)sm->total_blocks,
           (unsigned long long)sm->stats.blocks_hashed, (unsigned long long)sm->stats.bytes_hashed,
           (unsigned long long)(ns / 1000000));
}

static void say(void *ctx, const char *line)
{
    (void)ctx;
    printf("%s\n", line);
}

int fatimg_sitemap(struct fat_volume *vol, const char *cmd, int nargs, char **args)
{
    static struct sitemap sm, saved;
    void *mem = NULL, *smem = NULL;
    int rc = EXIT_SAME, err = SM_ENOMEM;
    if (!strcmp(cmd, "sitemap")) {
        bool save = false, list = false;
        for (int k = 0; k < nargs; k++) {
            if (!strcmp(args[k], "--save")) save = true;
            else if (!strcmp(args[k], "-l")) list = true;
            else return EXIT_USAGE;
        }
        uint64_t t0 = clock_mono_ns();
        if ((err = build(&sm, vol, &mem))) {
            rc = sm_fail("sitemap", &sm, err);
        } else {
            print_root(&sm, clock_mono_ns() - t0);
            if (save && (err = sitemap_save(&sm)))
                rc = sm_fail("sitemap save", &sm, err);
            if (save && !err)
                printf("saved /%s\n", SM_SAVE_NAME);
            if (list)
                sitemap_walk(&sm, list_node, NULL);
        }
    } else {   /* verify */
        if (nargs)
            return EXIT_USAGE;
        size_t ssize = 1 << 20;
        for (;; ssize *= 2) {
            free(smem);
            smem = malloc(ssize);
            if (!smem || (err = sitemap_load(&saved, vol, smem, ssize)) != SM_ENOMEM ||
                ssize >= ((size_t)1 << 31))
                break;
        }
        if (err == SM_ENOSAVED) {
            fprintf(stderr, "fatimg: verify: no saved sitemap (/%s); run 'sitemap --save'\n",
                    SM_SAVE_NAME);
            rc = EXIT_CANNOT;
        } else if (err) {
            rc = sm_fail("verify: /" SM_SAVE_NAME, &saved, err);
        } else if ((err = build(&sm, vol, &mem))) {
            rc = sm_fail("verify", &sm, err);
        } else {
            struct sm_diff d;
            err = sitemap_diff(&sm, &saved, say, NULL, &d);
            char h[65], s[65];
            sha256_hex(sitemap_root(&sm), h);
            sha256_hex(sitemap_root(&saved), s);
            if (err) {
                rc = sm_fail("verify", &sm, err);
            } else if (!memcmp(sitemap_root(&sm), sitemap_root(&saved), SM_HASH)) {
                printf("root %s\nverify: OK, the volume matches the saved sitemap\n", h);
            } else {
                printf("root %s (saved %s)\n", h, s);
                printf("verify: CHANGED: %u added, %u removed, %u changed\n", d.added,
                       d.removed, d.changed);
                rc = EXIT_DIFFERENT;
            }
        }
    }
    sitemap_detach(&sm);
    free(mem);
    free(smem);
    return rc;
}
