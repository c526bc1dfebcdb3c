/* shell/cmds_sitemap.c: the sitemap (fs/sitemap.h, docs/SITEMAP.md) on the mounted volume:
 * the `sitemap` and `verify` commands, the boot-time check of the saved sitemap, and the
 * `run` command's veto (run_check_program, shell/run.h) that refuses a program whose
 * content no longer matches the saved sitemap.
 *
 *   sitemap [-f] [-l] [save]   refresh the live tree (a full build the first time, after
 *                              -f, or when the volume was remounted), print the root and
 *                              the blocks hashed; -l lists every node; save writes
 *                              /SITEMAP.BIN
 *   verify [-f]                compare the volume with /SITEMAP.BIN; status 0 same,
 *                              1 changed, 3 cannot verify (as `fatimg IMG verify`)
 * Memory: each tree (live, saved) is one run of pmm pages holding its struct sitemap and
 * the tree; a tree that does not fit is retried in twice the pages, up to TREE_PAGES_MAX.
 * Invariants: live.sm is the volume's change callback context exactly while it describes
 * the mounted volume (fat_mount clears the callback, so a remount is noticed); saved.sm
 * is the tree of the /SITEMAP.BIN identified by saved_id. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "fs/sitemap.h"
#include "kernel/clock.h"
#include "kernel/console.h"
#include "kernel/pmm.h"
#include "kernel/vfs.h"
#include "shell/cmds_sitemap.h"
#include "shell/run.h"
#include "shell/shell.h"

#define HEAD ((sizeof(struct sitemap) + 63) & ~(size_t)63)   /* struct sitemap, then the tree */

enum {
    TREE_PAGES_MIN = 64,      /* 256 KiB: ~1,500 small files */
    TREE_PAGES_MAX = 16384,   /* 64 MiB */
    ST_SAME = 0, ST_CHANGED = 1, ST_CANNOT = 3,
};

struct tree {
    struct sitemap *sm;       /* at the start of the pages; NULL when none */
    uint64_t mem;
    size_t pages;
};
static struct tree live, saved;
static struct {
    uint32_t first, size;
    int64_t mtime;
    uint8_t sum[SM_HASH];     /* the file's trailer: SHA-256 of all before it */
} saved_id;

static void tree_free(struct tree *t)
{
    if (t->sm) {
        sitemap_detach(t->sm);
        pmm_free_pages(t->mem, t->pages);
    }
    t->sm = NULL;
}

static int tree_alloc(struct tree *t, size_t pages)
{
    tree_free(t);
    uint64_t m = pmm_alloc_pages(pages);
    if (!m)
        return SM_ENOMEM;
    t->mem = m;
    t->pages = pages;
    t->sm = (struct sitemap *)(uintptr_t)m;
    return SM_OK;
}

static void *tree_mem(struct tree *t) { return (uint8_t *)(uintptr_t)t->mem + HEAD; }
static size_t tree_size(struct tree *t) { return t->pages * PAGE_SIZE - HEAD; }

/* Brings the live tree up to date (FULL: from scratch). */
static int live_refresh(struct fat_volume *v, bool full)
{
    size_t pages = live.pages ? live.pages : TREE_PAGES_MIN;
    for (;;) {
        if (!live.sm || v->change_ctx != live.sm) {
            if (tree_alloc(&live, pages))
                return SM_ENOMEM;
            sitemap_init(live.sm, v, tree_mem(&live), tree_size(&live));
        } else if (full) {
            sitemap_invalidate(live.sm);
        }
        int err = sitemap_refresh(live.sm);
        if (err != SM_ENOMEM || pages >= TREE_PAGES_MAX)
            return err;
        tree_free(&live);
        pages *= 2;
    }
}

struct sitemap *sitemap_live(void)
{
    struct fat_volume *v = vfs_root();
    return v && live.sm && live.sm->built && v->change_ctx == live.sm ? live.sm : NULL;
}

/* The last SM_HASH bytes of /SITEMAP.BIN (the checksum of everything before them) into
 * SUM; false if they cannot be read. */
static bool saved_trailer(struct fat_volume *v, uint32_t size, uint8_t sum[SM_HASH])
{
    struct fat_file f;
    uint32_t got = 0;
    if (size < SM_HASH || fat_open(v, &f, "/" SM_SAVE_NAME, FAT_O_READ))
        return false;
    if (!fat_seek(&f, size - SM_HASH))
        fat_read(&f, sum, SM_HASH, &got);
    fat_close(&f);
    return got == SM_HASH;
}

void sitemap_forget(void)
{
    if (live.sm)
        sitemap_invalidate(live.sm);
}

/* The saved tree, loaded again only when /SITEMAP.BIN changed.  Its entry alone does not
 * say so: a save on a nearly full volume can reuse the first cluster, with the same size,
 * within the 2 s of FAT time; the trailer names the content. */
static int saved_load(struct fat_volume *v)
{
    struct fat_dirent e;
    uint8_t sum[SM_HASH] = { 0 };
    int err = fat_stat(v, "/" SM_SAVE_NAME, &e);
    if (err) {
        tree_free(&saved);
        return err == FAT_ENOENT ? SM_ENOSAVED : SM_EFAT;
    }
    bool have_sum = saved_trailer(v, e.size, sum);
    if (saved.sm && saved.sm->built && e.first == saved_id.first && e.size == saved_id.size &&
        e.mtime == saved_id.mtime && have_sum && !memcmp(sum, saved_id.sum, SM_HASH))
        return SM_OK;
    size_t pages = saved.pages ? saved.pages : TREE_PAGES_MIN;
    for (;;) {
        if (tree_alloc(&saved, pages))
            return SM_ENOMEM;
        err = sitemap_load(saved.sm, v, tree_mem(&saved), tree_size(&saved));
        if (err != SM_ENOMEM || pages >= TREE_PAGES_MAX)
            break;
        pages *= 2;
    }
    if (err)
        return err;
    saved_id.first = e.first, saved_id.size = e.size, saved_id.mtime = e.mtime;
    memcpy(saved_id.sum, sum, SM_HASH);   /* the load checked it is the file's trailer */
    return SM_OK;
}

static int sm_fail(const char *cmd, const struct sitemap *sm, int err)
{
    if (err == SM_EFAT && sm)
        eprintf("%s: %s: %s\n", cmd, sm->path[0] ? sm->path : "/", fat_strerror(sm->fat_err));
    else
        eprintf("%s: %s\n", cmd, sm_strerror(err));
    return ST_CANNOT;
}

static void list_node(void *ctx, const struct sitemap *sm, uint32_t i, const char *path)
{
    (void)ctx;
    char line[SM_LINE_MAX];
    sitemap_node_line(sm, i, path, line);
    printf("%s\n", line);
}

static int cmd_sitemap(int argc, char **argv)
{
    bool full = false, list = false, save = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-f")) full = true;
        else if (!strcmp(argv[i], "-l")) list = true;
        else if (!strcmp(argv[i], "save")) save = true;
        else return shell_usage(argv[0]);
    }
    struct fat_volume *v = vfs_root();
    if (!v) {
        eprintf("%s: no filesystem mounted (see 'mount')\n", argv[0]);
        return ST_CANNOT;
    }
    uint64_t t0 = clock_mono_ns();
    int err = live_refresh(v, full);
    uint64_t ns = clock_mono_ns() - t0;
    if (err)
        return sm_fail(argv[0], live.sm, err);
    struct sitemap *sm = live.sm;
    char h[65];
    sha256_hex(sitemap_root(sm), h);
    printf("root %s\n", h);
    printf("%u files, %u directories, %llu blocks; hashed %llu blocks (%llu bytes) in "
           "%llu.%03llu ms (%s)\n",
           sm->files, sm->dirs - 1, (unsigned long long)sm->total_blocks,
           (unsigned long long)sm->stats.blocks_hashed, (unsigned long long)sm->stats.bytes_hashed,
           (unsigned long long)(ns / 1000000), (unsigned long long)(ns / 1000 % 1000),
           sm->stats.full ? "full build" : "incremental");
    if (save) {
        if ((err = sitemap_save(sm)))
            return sm_fail(argv[0], sm, err);
        printf("saved /%s\n", SM_SAVE_NAME);
    }
    if (list)
        sitemap_walk(sm, list_node, NULL);
    return 0;
}
SHELL_COMMAND("sitemap", cmd_sitemap, "[-f] [-l] [save]",
              "SHA-256 Merkle root of the volume (-f rebuild, -l list, save: /SITEMAP.BIN)");

static void say(void *ctx, const char *line)
{
    (void)ctx;
    printf("%s\n", line);
}

static int cmd_verify(int argc, char **argv)
{
    bool full = argc == 2 && !strcmp(argv[1], "-f");
    if (argc > 2 || (argc == 2 && !full))
        return shell_usage(argv[0]);
    struct fat_volume *v = vfs_root();
    if (!v) {
        eprintf("%s: no filesystem mounted (see 'mount')\n", argv[0]);
        return ST_CANNOT;
    }
    int err = saved_load(v);
    if (err == SM_ENOSAVED) {
        eprintf("%s: no saved sitemap (/%s); run 'sitemap save'\n", argv[0], SM_SAVE_NAME);
        return ST_CANNOT;
    }
    if (err)
        return sm_fail("verify: /" SM_SAVE_NAME, saved.sm, err);
    if ((err = live_refresh(v, full)))
        return sm_fail(argv[0], live.sm, err);
    struct sm_diff d;
    if ((err = sitemap_diff(live.sm, saved.sm, say, NULL, &d)))
        return sm_fail(argv[0], live.sm, err);
    char h[65], s[65];
    sha256_hex(sitemap_root(live.sm), h);
    sha256_hex(sitemap_root(saved.sm), s);
    if (!memcmp(sitemap_root(live.sm), sitemap_root(saved.sm), SM_HASH)) {
        printf("root %s\nverify: OK, the volume matches the saved sitemap\n", h);
        return ST_SAME;
    }
    printf("root %s (saved %s)\n", h, s);
    printf("verify: CHANGED: %u added, %u removed, %u changed\n", d.added, d.removed, d.changed);
    return ST_CHANGED;
}
SHELL_COMMAND("verify", cmd_verify, "[-f]",
              "compare the volume with the saved sitemap (0 same, 1 changed, 3 cannot)");

/* Describes how IMAGE differs from saved node N: "size A -> B; blocks 0, 2-3 of 4 differ". */
static void describe(const struct sm_node *n, const uint8_t *image, uint32_t len, char *why,
                     size_t cap)
{
    size_t k = 0;
    if (n->size != len)
        k += (size_t)snprintf(why + k, cap - k, "size %u -> %u; ", n->size, len);
    uint32_t nb = (len + SM_BLOCK - 1) / SM_BLOCK, shown = 0;
    k += (size_t)snprintf(why + k, cap - k, "blocks");
    for (uint32_t b = 0; b < nb && k + 16 < cap; b++) {
        uint8_t h[SM_HASH];
        sha256(image + (size_t)b * SM_BLOCK, len - b * SM_BLOCK < SM_BLOCK ? len - b * SM_BLOCK : SM_BLOCK, h);
        if (b < n->blocks && !memcmp(h, sitemap_blocks(saved.sm, n) + (size_t)b * SM_HASH, SM_HASH))
            continue;
        k += (size_t)snprintf(why + k, cap - k, "%s %u", shown++ ? "," : "", b);
    }
    if (!shown)
        k += (size_t)snprintf(why + k, cap - k, " (none)");
    if (k < cap)
        snprintf(why + k, cap - k, " of %u differ", nb);
}

/* run's veto (shell/run.h): with a saved sitemap, a program listed in it must still have
 * the content it had when the sitemap was saved.  Programs the saved sitemap does not list
 * run (they were added since; `verify` reports them). */
int run_check_program(const char *abs_path, const void *image, size_t len, char *why,
                      size_t why_len)
{
    struct fat_volume *v = vfs_root();
    if (!v)
        return 0;
    int err = saved_load(v);
    if (err == SM_ENOSAVED)
        return 0;
    if (err) {
        snprintf(why, why_len, "the saved sitemap /%s is unusable (%s); run 'sitemap save'",
                 SM_SAVE_NAME, sm_strerror(err));
        return 1;
    }
    uint32_t i = sitemap_find(saved.sm, abs_path);
    if (i == SM_NONE || saved.sm->nodes[i].kind != SM_FILE)
        return 0;
    const struct sm_node *n = &saved.sm->nodes[i];
    uint8_t leaf[SM_HASH];
    sitemap_mem_hash(image, (uint32_t)len, NULL, leaf);
    if (len <= 0xFFFFFFFFu && !memcmp(leaf, n->hash, SM_HASH))
        return 0;
    size_t k = (size_t)snprintf(why, why_len, "content no longer matches the saved sitemap (");
    if (k < why_len)
        describe(n, image, (uint32_t)len, why + k, why_len - k);
    k = strlen(why);
    if (k < why_len)
        snprintf(why + k, why_len - k, "); if the change is intended, run 'sitemap save'");
    return 1;
}

struct boot_check {
    struct fat_volume *v;
    uint8_t *buf;
    uint32_t ok, modified, missing;
};

static bool is_program(const char *path)
{
    size_t n = strlen(path);
    return n > 4 && strcasecmp(path + n - 4, ".nda") == 0;
}

static void boot_check_one(void *ctx, const struct sitemap *sm, uint32_t i, const char *path)
{
    struct boot_check *bc = ctx;
    const struct sm_node *n = &sm->nodes[i];
    if (n->kind != SM_FILE || !is_program(path))
        return;
    uint8_t leaf[SM_HASH];
    int err = sitemap_file_hash(bc->v, path, bc->buf, leaf, NULL);
    if (err == FAT_ENOENT) {
        bc->missing++;
    } else if (err || memcmp(leaf, n->hash, SM_HASH)) {
        bc->modified++;
        klog("sitemap: %s %s since the saved sitemap: 'run' refuses it until 'sitemap save'\n",
             path, err ? "unreadable" : "modified");
    } else {
        bc->ok++;
    }
}

void sitemap_boot(void)
{
    struct fat_volume *v = vfs_root();
    if (!v)
        return;
    int err = saved_load(v);
    if (err == SM_ENOSAVED)
        return;
    if (err) {
        klog("sitemap: /%s is unusable (%s): programs are refused until 'sitemap save'\n",
             SM_SAVE_NAME, sm_strerror(err));
        return;
    }
    struct boot_check bc = { .v = v, .buf = saved.sm->buf };
    sitemap_walk(saved.sm, boot_check_one, &bc);
    char h[65];
    sha256_hex(sitemap_root(saved.sm), h);
    klog("sitemap: saved root %.16s..., %u files; programs: %u match, %u modified, %u missing\n",
         h, saved.sm->files, bc.ok, bc.modified, bc.missing);
}
