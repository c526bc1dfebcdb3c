/* Randomized differential test of the FAT core against an in-memory model.
 *
 *   test_fat_stress [-n OPS] [-s SEED] [-t 12|16|32] [-k CHECK_EVERY]
 * On an image made by mkfs.fat, a seeded random sequence of create / write / overwrite /
 * append / seek-past-end / truncate / rename / move / unlink / mkdir / rmdir with short,
 * long and non-ASCII names runs through the core.  After every operation the touched file
 * is read back and compared with the model (and every error code with what the model
 * expects); every CHECK_EVERY operations the volume is unmounted, `fsck.fat -n` must exit
 * 0, and `mcopy -s` must extract exactly the model's tree, byte for byte. */
#define _GNU_SOURCE
#include "fs/fat.h"
#include "lib/host/blk_file.h"
#include "tests/check.h"
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAXN = 400, MAXSIZE = 40000 };

struct node {
    bool used, dir;
    int parent;          /* index, -1 for root children */
    char name[128];
    uint8_t *data;
    uint32_t size;
};

static struct node nodes[MAXN];
static uint64_t rng;
static struct fat_volume vol;
static struct blk_file bf;
static void *mem;
static char img[256];
static long op_no;
static int fails;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return n ? (uint32_t)(rng % n) : 0;
}

static void path_of(int i, char *out, size_t cap)
{
    if (i < 0) {
        snprintf(out, cap, "");
        return;
    }
    char p[1024];
    path_of(nodes[i].parent, p, sizeof p);
    snprintf(out, cap, "%s/%s", p, nodes[i].name);
}

static void lower(const char *s, char *out)
{
    for (; *s; s++) *out++ = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
    *out = 0;
}

static int find_child(int parent, const char *name)
{
    char a[128], b[128];
    lower(name, a);
    for (int i = 0; i < MAXN; i++) {
        if (!nodes[i].used || nodes[i].parent != parent) continue;
        lower(nodes[i].name, b);
        if (!strcmp(a, b)) return i;
    }
    return -2;
}

static void random_name(char *out)
{
    static const char *const pieces[] = { "a", "b", "file", "Data", "x1", "é", "ü", "ж", "日本",
                                          "long name with spaces", "readme", "TXT", "~", "z" };
    int k = 1 + (int)rnd(4);
    out[0] = 0;
    for (int i = 0; i < k; i++) strcat(out, pieces[rnd(sizeof pieces / sizeof *pieces)]);
    if (rnd(3) == 0) {
        strcat(out, ".");
        strcat(out, rnd(2) ? "txt" : "Dat");
    }
    if (rnd(10) == 0) {   /* a very long name */
        while (strlen(out) < 100) strcat(out, "-long");
    }
}

/* A directory whose path leaves room for one more long component: trees stay within
 * what Linux tools handle (PATH_MAX), while still reaching several levels deep. */
static int random_dir(void)
{
    int cands[MAXN + 1], n = 0;
    cands[n++] = -1;
    for (int i = 0; i < MAXN; i++) {
        char p[1024];
        if (!nodes[i].used) continue;
        path_of(i, p, sizeof p);
        if (nodes[i].used && nodes[i].dir && strlen(p) < 300) cands[n++] = i;
    }
    return cands[rnd((uint32_t)n)];
}

static int random_node(bool dir)
{
    int cands[MAXN], n = 0;
    for (int i = 0; i < MAXN; i++)
        if (nodes[i].used && nodes[i].dir == dir) cands[n++] = i;
    return n ? cands[rnd((uint32_t)n)] : -2;
}

static int free_slot(void)
{
    for (int i = 0; i < MAXN; i++)
        if (!nodes[i].used) return i;
    return -2;
}

#define EXPECT(cond, ...)                                                                \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            char m_[600];                                                                \
            snprintf(m_, sizeof m_, __VA_ARGS__);                                        \
            check(0, "op %ld: %s", op_no, m_);                                           \
            fails++;                                                                     \
            return;                                                                      \
        }                                                                                \
    } while (0)

static void verify_file(int i)
{
    char p[1024];
    path_of(i, p, sizeof p);
    struct fat_file f;
    int err = fat_open(&vol, &f, p, FAT_O_READ);
    EXPECT(!err, "open %s: %s", p, fat_strerror(err));
    static uint8_t buf[MAXSIZE + 100];
    uint32_t got;
    err = fat_read(&f, buf, sizeof buf, &got);
    EXPECT(!err && got == nodes[i].size, "read %s: %s, got %u want %u", p, fat_strerror(err), got,
           nodes[i].size);
    EXPECT(!memcmp(buf, nodes[i].data, got), "content of %s differs", p);
    fat_close(&f);
}

static void do_write(int i, uint32_t off, uint32_t len, bool trunc_first)
{
    char p[1024];
    path_of(i, p, sizeof p);
    struct fat_file f;
    int err = fat_open(&vol, &f, p, FAT_O_READ | FAT_O_WRITE | (trunc_first ? FAT_O_TRUNC : 0));
    EXPECT(!err, "open for write %s: %s", p, fat_strerror(err));
    struct node *n = &nodes[i];
    if (trunc_first) n->size = 0;
    uint8_t *src = malloc(len + 1);
    for (uint32_t k = 0; k < len; k++) src[k] = (uint8_t)rnd(256);
    err = fat_seek(&f, off);
    if (!err) err = fat_write(&f, src, len);
    EXPECT(!err, "write %s: %s", p, fat_strerror(err));
    uint32_t end = off + len;
    if (end > n->size) {
        n->data = realloc(n->data, end);
        if (off > n->size) memset(n->data + n->size, 0, off - n->size);
        n->size = end;
    }
    memcpy(n->data + off, src, len);
    free(src);
    err = fat_close(&f);
    EXPECT(!err, "close %s: %s", p, fat_strerror(err));
}

static void step(void)
{
    char p[1024], q[1024], name[256];
    int kind = (int)rnd(100), err;
    if (kind < 22) {   /* create a file */
        int d = random_dir(), s = free_slot();
        if (s < 0) return;
        random_name(name);
        char dp[1024];
        path_of(d, dp, sizeof dp);
        snprintf(p, sizeof p, "%s/%s", dp, name);
        struct fat_file f;
        err = fat_open(&vol, &f, p, FAT_O_WRITE | FAT_O_CREATE | FAT_O_EXCL);
        int existing = find_child(d, name);
        if (existing >= 0) {
            EXPECT(err == FAT_EEXIST, "create existing %s: %s", p, fat_strerror(err));
            return;
        }
        EXPECT(!err, "create %s: %s", p, fat_strerror(err));
        fat_close(&f);
        nodes[s] = (struct node){ .used = true, .parent = d };
        snprintf(nodes[s].name, sizeof nodes[s].name, "%s", name);
        if (rnd(4)) do_write(s, 0, rnd(rnd(2) ? 5000 : 20000), false);
        verify_file(s);
    } else if (kind < 40) {   /* overwrite / append / gap */
        int i = random_node(false);
        if (i < 0) return;
        uint32_t off = rnd(3) == 0 ? nodes[i].size : rnd(nodes[i].size + 3000);
        uint32_t len = rnd(rnd(2) ? 600 : 8000);
        if (off + len > MAXSIZE) return;
        do_write(i, off, len, rnd(8) == 0);
        verify_file(i);
    } else if (kind < 50) {   /* truncate */
        int i = random_node(false);
        if (i < 0) return;
        uint32_t sz = rnd(nodes[i].size + 5000);
        if (sz > MAXSIZE) return;
        path_of(i, p, sizeof p);
        struct fat_file f;
        err = fat_open(&vol, &f, p, FAT_O_WRITE);
        EXPECT(!err, "open %s: %s", p, fat_strerror(err));
        err = fat_truncate(&f, sz);
        EXPECT(!err, "truncate %s: %s", p, fat_strerror(err));
        fat_close(&f);
        nodes[i].data = realloc(nodes[i].data, sz + 1);
        if (sz > nodes[i].size) memset(nodes[i].data + nodes[i].size, 0, sz - nodes[i].size);
        nodes[i].size = sz;
        verify_file(i);
    } else if (kind < 62) {   /* unlink */
        int i = random_node(false);
        if (i < 0) return;
        path_of(i, p, sizeof p);
        err = fat_unlink(&vol, p);
        EXPECT(!err, "unlink %s: %s", p, fat_strerror(err));
        free(nodes[i].data);
        nodes[i] = (struct node){ 0 };
        struct fat_dirent e;
        err = fat_stat(&vol, p, &e);
        EXPECT(err == FAT_ENOENT, "stat after unlink %s: %s", p, fat_strerror(err));
    } else if (kind < 72) {   /* mkdir */
        int d = random_dir(), s = free_slot();
        if (s < 0) return;
        random_name(name);
        char dp[1024];
        path_of(d, dp, sizeof dp);
        snprintf(p, sizeof p, "%s/%s", dp, name);
        err = fat_mkdir(&vol, p);
        if (find_child(d, name) >= 0) {
            EXPECT(err == FAT_EEXIST, "mkdir existing %s: %s", p, fat_strerror(err));
            return;
        }
        EXPECT(!err, "mkdir %s: %s", p, fat_strerror(err));
        nodes[s] = (struct node){ .used = true, .dir = true, .parent = d };
        snprintf(nodes[s].name, sizeof nodes[s].name, "%s", name);
    } else if (kind < 80) {   /* rmdir */
        int i = random_node(true);
        if (i < 0) return;
        bool empty = true;
        for (int k = 0; k < MAXN; k++)
            if (nodes[k].used && nodes[k].parent == i) empty = false;
        path_of(i, p, sizeof p);
        err = fat_rmdir(&vol, p);
        if (!empty) {
            EXPECT(err == FAT_ENOTEMPTY, "rmdir non-empty %s: %s", p, fat_strerror(err));
            return;
        }
        EXPECT(!err, "rmdir %s: %s", p, fat_strerror(err));
        nodes[i] = (struct node){ 0 };
    } else {   /* rename / move */
        int i = random_node(rnd(4) == 0);
        if (i < 0) return;
        int d = random_dir();
        for (int a = d; a >= 0; a = nodes[a].parent)
            if (a == i) return;   /* into itself: covered by the unit test */
        if (rnd(2)) random_name(name);
        else lower(nodes[i].name, name);   /* sometimes a case-only change */
        path_of(i, p, sizeof p);
        char dp[1024];
        path_of(d, dp, sizeof dp);
        snprintf(q, sizeof q, "%s/%s", dp, name);
        size_t longest = 0;   /* keep every moved path within PATH_MAX-friendly bounds */
        for (int k = 0; k < MAXN; k++) {
            char kp[1024];
            if (!nodes[k].used) continue;
            path_of(k, kp, sizeof kp);
            if (!strncmp(kp, p, strlen(p)) && strlen(kp) > longest) longest = strlen(kp);
        }
        if (strlen(q) + longest - strlen(p) > 600) return;
        int target = find_child(d, name);
        err = fat_rename(&vol, p, q);
        if (target >= 0 && target != i && (nodes[target].dir || nodes[i].dir)) {
            EXPECT(err == FAT_EEXIST, "rename %s -> %s onto existing: %s", p, q, fat_strerror(err));
            return;
        }
        EXPECT(!err, "rename %s -> %s: %s", p, q, fat_strerror(err));
        if (target >= 0 && target != i) {
            free(nodes[target].data);
            nodes[target] = (struct node){ 0 };
        }
        nodes[i].parent = d;
        snprintf(nodes[i].name, sizeof nodes[i].name, "%s", name);
        if (!nodes[i].dir) verify_file(i);
    }
}

static int mount_img(void)
{
    int e = blk_file_open(&bf, img, 512, 0, 0, 0);
    if (e) return e;
    return fat_mount(&vol, &bf.dev, 0, 0, mem, 4 << 20, 0);
}

/* Compares the tree mcopy extracted under DIR with the model's children of PARENT. */
static int compare_tree(const char *dir, int parent)
{
    int bad = 0, count = 0;
    for (int i = 0; i < MAXN; i++) {
        if (!nodes[i].used || nodes[i].parent != parent) continue;
        count++;
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", dir, nodes[i].name);
        struct stat st;
        if (stat(p, &st) != 0) {
            printf("# mtools missing %s\n", p);
            bad++;
            continue;
        }
        if (nodes[i].dir) {
            bad += compare_tree(p, i);
            continue;
        }
        FILE *fp = fopen(p, "rb");
        uint8_t *buf = malloc(nodes[i].size + 2);
        size_t got = fp ? fread(buf, 1, nodes[i].size + 1, fp) : 0;
        if (fp) fclose(fp);
        if (got != nodes[i].size || memcmp(buf, nodes[i].data, got)) {
            printf("# mtools content differs: %s (%zu vs %u)\n", p, got, nodes[i].size);
            bad++;
        }
        free(buf);
    }
    DIR *dp = opendir(dir);
    int seen = 0;
    struct dirent *de;
    while (dp && (de = readdir(dp)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) seen++;
    if (dp) closedir(dp);
    if (seen != count) {
        printf("# %s: mtools has %d entries, model %d\n", dir, seen, count);
        bad++;
    }
    return bad;
}

static void external_check(void)
{
    int err = fat_unmount(&vol);
    blk_file_close(&bf);
    check(!err, "op %ld: unmount: %s", op_no, fat_strerror(err));
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "fsck.fat -n %s >%s.fsck 2>&1", img, img);
    int rc = system(cmd);
    if (!check(rc == 0, "op %ld: fsck.fat -n clean", op_no)) {
        snprintf(cmd, sizeof cmd, "head -20 %s.fsck | sed 's/^/# /'", img);
        if (system(cmd)) {}
        fails++;
    }
    snprintf(cmd, sizeof cmd,
             "rm -rf %s.x && mkdir %s.x && LANG=C.UTF-8 mcopy -s -n -m -i %s '::/*' %s.x/ 2>/dev/null; true",
             img, img, img, img);
    if (system(cmd)) {}
    char root[300];
    snprintf(root, sizeof root, "%s.x", img);
    int bad = compare_tree(root, -1);
    if (!check(bad == 0, "op %ld: mtools tree equals model", op_no)) fails++;
    err = mount_img();
    check(!err, "op %ld: remount: %s", op_no, fat_strerror(err));
}

int main(int argc, char **argv)
{
    long ops = 3000, every = 1000;
    unsigned seed = 1, type = 32;
    int c;
    while ((c = getopt(argc, argv, "n:s:t:k:")) != -1) {
        if (c == 'n') ops = atol(optarg);
        else if (c == 's') seed = (unsigned)atoi(optarg);
        else if (c == 't') type = (unsigned)atoi(optarg);
        else if (c == 'k') every = atol(optarg);
    }
    rng = 0x9E3779B97F4A7C15ull ^ seed;
    snprintf(img, sizeof img, "build/tests/stress-fat%u-%u.img", type, seed);
    char cmd[512];
    const char *geo = type == 12 ? "-F 12 -s 4 -C %s 8000" : type == 16 ? "-F 16 -s 2 -C %s 32768"
                                                                         : "-F 32 -s 1 -C %s 66000";
    char g[200];
    snprintf(g, sizeof g, geo, img);
    snprintf(cmd, sizeof cmd, "rm -f %s && mkfs.fat %s >/dev/null", img, g);
    if (system(cmd) != 0) {
        check(0, "mkfs.fat FAT%u", type);
        return 1;
    }
    mem = malloc(4 << 20);
    int err = mount_img();
    if (!check(!err, "mount FAT%u image: %s", type, fat_strerror(err))) return 1;
    for (op_no = 1; op_no <= ops && fails < 5; op_no++) {
        step();
        if (op_no % every == 0) external_check();
    }
    check(fails == 0, "FAT%u seed %u: %ld random operations match the model", type, seed, ops);
    fat_unmount(&vol);
    blk_file_close(&bf);
    snprintf(cmd, sizeof cmd, "rm -rf %s %s.x %s.fsck", img, img, img);
    if (!fails && system(cmd)) {}
    return check_exit_status();
}
