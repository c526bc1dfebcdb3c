/* shell/cmds_fs.c: filesystem commands on the mounted data volume (kernel/vfs.h), the
 * shell's hooks for the current directory, `>`/`>>` redirection and path completion.
 *
 * Every command resolves its paths against the current directory with vfs_resolve and
 * reports a failure as one line "CMD: PATH: reason" (fat_strerror).  Buffers for file data
 * come from pmm_alloc_pages per command and are freed before it returns, so nothing here
 * holds memory between commands.  Long loops poll cons_interrupt (Ctrl-C). */
#include <string.h>
#include "kernel/console.h"
#include "kernel/pmm.h"
#include "kernel/hotfile.h"
#include "kernel/vfs.h"
#include "lib/civil.h"
#include "lib/sha256.h"
#include "shell/cmds_sitemap.h"
#include "shell/lineedit.h"
#include "shell/shell.h"

enum { IO_BUF = 1 << 20 };   /* bytes per read/write of cat, cp, sha256sum */

static struct fat_volume *need_vol(const char *cmd)
{
    struct fat_volume *v = vfs_root();
    if (!v)
        eprintf("%s: no filesystem mounted (see 'mount')\n", cmd);
    return v;
}

static int fail(const char *cmd, const char *path, int err)
{
    eprintf("%s: %s: %s\n", cmd, *path ? path : "''", fat_strerror(err));
    return 1;
}

static bool is_dir(struct fat_volume *v, const char *abs)
{
    struct fat_dirent e;
    return strcmp(abs, "/") == 0 || (fat_stat(v, abs, &e) == FAT_OK && (e.attr & FAT_ATTR_DIR));
}

static bool ends_in_slash(const char *arg) { return *arg && arg[strlen(arg) - 1] == '/'; }

/* Absolute path of ARG in OUT (VFS_PATH_MAX bytes); false with a message if too long or
 * empty, or if ARG ends in '/' (which resolving drops) but names something that is not a
 * directory: `rm FILE/` must not delete FILE. */
static bool resolve(const char *cmd, const char *arg, char *out)
{
    struct fat_dirent e;
    int err = vfs_resolve(arg, out, VFS_PATH_MAX);
    if (!err && ends_in_slash(arg) && vfs_root() && fat_stat(vfs_root(), out, &e) == FAT_OK &&
        !(e.attr & FAT_ATTR_DIR))
        err = FAT_ENOTDIR;
    return err ? fail(cmd, arg, err), false : true;
}

/* resolve(), and refuse to read the file `> FILE` is writing: cat, sha256sum, hexdump and
 * cp would read their own output (or the emptied file) instead of its contents. */
static bool resolve_input(const char *cmd, const char *arg, char *out)
{
    if (!resolve(cmd, arg, out))
        return false;
    if (!vfs_redirect_target(out))
        return true;
    eprintf("%s: %s: input file is output file\n", cmd, arg);
    return false;
}

static void *io_buffer(const char *cmd)
{
    void *p = (void *)(uintptr_t)pmm_alloc_pages(IO_BUF / PAGE_SIZE);
    if (!p)
        eprintf("%s: out of memory for a %u KiB buffer\n", cmd, IO_BUF >> 10);
    return p;
}

static void io_free(void *p) { pmm_free_pages((uint64_t)(uintptr_t)p, IO_BUF / PAGE_SIZE); }

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* ---- shell hooks ---------------------------------------------------------------------- */

const char *shell_cwd(void) { return vfs_cwd(); }

int shell_redirect_begin(const char *path, int append)
{
    if (!need_vol("redirect"))
        return -1;
    int err = vfs_redirect_begin(path, append != 0);
    if (err)
        return fail("redirect", path, err);
    return 0;
}

/* Commands close what they open, and nothing stays open between commands (the redirect
 * was closed just before): whatever is still open belonged to the stopped command. */
void shell_after_fault(void)
{
    struct fat_volume *v = vfs_root();
    if (v)
        fat_forget_open(v);
}

void shell_redirect_end(void)
{
    int err = vfs_redirect_end();
    if (err)
        printf("redirect: output file: %s\n", fat_strerror(err));
}

/* The word as split() reads it (quotes and backslashes removed) into OUT; returns the
 * quote still open at its end, or 0. */
static char unquote(const char *s, size_t n, char *out)
{
    char q = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\' && q != '\'' && i + 1 < n)
            c = s[++i];
        else if (q ? c == q : c == '"' || c == '\'') {
            q = q ? 0 : c;
            continue;
        }
        *out++ = c;
    }
    *out = 0;
    return q;
}

/* Candidates keep the typed word byte for byte (the line editor appends only what is new)
 * and add the rest of each matching name, escaped so split() reads it back as one word
 * (inside the open quote Q, which is then closed); directories end in '/'.  Matching
 * ignores ASCII case, as lookups do. */
void shell_complete_path(const char *prefix, size_t len, struct le_candidates *out)
{
    struct fat_volume *v = vfs_root();
    char typed[128], dir[128], abs[VFS_PATH_MAX];
    if (!v || len >= sizeof typed)
        return;
    char q = unquote(prefix, len, typed);
    const char *slash = strrchr(typed, '/'), *base = slash ? slash + 1 : typed;
    size_t dlen = (size_t)(base - typed), blen = strlen(base);
    memcpy(dir, typed, dlen);
    dir[dlen] = 0;
    struct fat_dir d;
    struct fat_dirent e;
    if (vfs_resolve(dlen ? dir : ".", abs, sizeof abs) || fat_opendir(v, &d, abs))
        return;
    while (out->count < LE_MAX_CANDIDATES && fat_readdir(&d, &e) == FAT_OK) {
        if (strlen(e.name) < blen || strncasecmp(e.name, base, blen) != 0)
            continue;
        char *w = out->word[out->count], *end = w + sizeof out->word[0] - 3;
        memcpy(w, prefix, len);
        w += len;
        for (const char *c = e.name + blen; *c && w < end; c++) {
            if (q == '\'' && *c == '\'')
                break;   /* cannot be written inside '...' */
            if (q ? *c == '"' || *c == '\\' : strchr(" \t\"'\\;", *c) != NULL)
                *w++ = '\\';
            *w++ = *c;
        }
        if (w >= end || (q == '\'' && strchr(e.name + blen, '\'')))
            continue;   /* does not fit, or cannot be quoted: no candidate */
        if (q)
            *w++ = q;
        if (e.attr & FAT_ATTR_DIR)
            *w++ = '/';
        *w = 0;
        out->count++;
    }
}

/* ---- listing and navigation ----------------------------------------------------------- */

/* Unix seconds to "YYYY-MM-DD HH:MM" (UTC, as the FAT core reports times). */
static void fmt_time(int64_t t, char out[17])
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400, secs = t - days * 86400, y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(out, 17, "%04d-%02u-%02u %02d:%02d", (int)y, m, d, (int)(secs / 3600),
             (int)(secs / 60 % 60));
}

static void print_entry(const struct fat_dirent *e, bool lng)
{
    const char *slash = e->attr & FAT_ATTR_DIR ? "/" : "";
    if (!lng) {
        printf("%s%s\n", e->name, slash);
        return;
    }
    char t[17];
    fmt_time(e->mtime, t);
    printf("%c%c%c%c%c %10u %s %-12s %s%s\n", e->attr & FAT_ATTR_DIR ? 'd' : '-',
           e->attr & FAT_ATTR_RDONLY ? 'r' : '-', e->attr & FAT_ATTR_HIDDEN ? 'h' : '-',
           e->attr & FAT_ATTR_SYSTEM ? 's' : '-', e->attr & FAT_ATTR_ARCHIVE ? 'a' : '-', e->size,
           t, e->short_name, e->name, slash);
}

static int cmd_ls(int argc, char **argv)
{
    struct fat_volume *v = need_vol(argv[0]);
    bool lng = false;
    const char *path = ".";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-l") == 0)
            lng = true;
        else if (argv[i][0] == '-' || path[0] != '.' || path[1])
            return shell_usage(argv[0]);
        else
            path = argv[i];
    }
    char abs[VFS_PATH_MAX];
    if (!v || !resolve(argv[0], path, abs))
        return 1;
    struct fat_dir d;
    struct fat_dirent e;
    int err = fat_opendir(v, &d, abs);
    if (err == FAT_ENOTDIR && fat_stat(v, abs, &e) == FAT_OK) {
        print_entry(&e, lng);
        return 0;
    }
    if (err)
        return fail(argv[0], path, err);
    uint32_t files = 0;
    uint64_t bytes = 0;
    while (!cons_interrupt && (err = fat_readdir(&d, &e)) == FAT_OK) {
        print_entry(&e, lng);
        files++;
        bytes += e.size;
    }
    if (err != FAT_ENOENT && !cons_interrupt)
        return fail(argv[0], path, err);
    if (lng)
        printf("%u entries, %llu bytes\n", files, (unsigned long long)bytes);
    return 0;
}
SHELL_COMMAND("ls", cmd_ls, "[-l] [PATH]", "list a directory (or show one file)");

static int cmd_cd(int argc, char **argv)
{
    if (argc > 2)
        return shell_usage(argv[0]);
    if (!need_vol(argv[0]))
        return 1;
    const char *path = argc == 2 ? argv[1] : "/";
    int err = vfs_chdir(path);
    return err ? fail(argv[0], path, err) : 0;
}
SHELL_COMMAND("cd", cmd_cd, "[DIR]", "change the current directory (default /)");

static int cmd_pwd(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage(argv[0]);
    printf("%s\n", vfs_cwd());
    return 0;
}
SHELL_COMMAND("pwd", cmd_pwd, "", "print the current directory");

/* ---- reading files -------------------------------------------------------------------- */

/* Feed the file at ARG to FN in pieces of up to IO_BUF bytes; 0, or 1 with a message. */
/* Read a whole file in IO_BUF pieces through hot_read (kernel/hotfile.h): files the live
 * sitemap describes come from the content-addressed block cache, verified by hash. */
static int each_chunk(const char *cmd, const char *arg, void *buf,
                      void (*fn)(void *ctx, const uint8_t *p, uint32_t n), void *ctx)
{
    char abs[VFS_PATH_MAX];
    if (!resolve_input(cmd, arg, abs))
        return 1;
    for (uint64_t off = 0;; ) {
        size_t got = 0;
        if (cons_interrupt) {   /* an error, so sha256sum prints no hash of a part */
            eprintf("%s: %s: interrupted\n", cmd, arg);
            return 1;
        }
        int err = hot_read(abs, off, buf, IO_BUF, &got);
        if (err) {
            eprintf("%s: %s: %s\n", cmd, arg, hot_strerror(err));
            return 1;
        }
        if (got == 0)
            return 0;
        fn(ctx, buf, (uint32_t)got);
        off += got;
    }
}

static void to_console(void *ctx, const uint8_t *p, uint32_t n)
{
    (void)ctx;
    cons_write((const char *)p, n);
}

static int cmd_cat(int argc, char **argv)
{
    if (argc < 2)
        return shell_usage(argv[0]);
    void *buf;
    if (!need_vol(argv[0]) || !(buf = io_buffer(argv[0])))
        return 1;
    int rc = 0;
    for (int i = 1; i < argc && !cons_interrupt; i++)
        rc |= each_chunk(argv[0], argv[i], buf, to_console, NULL);
    io_free(buf);
    return rc;
}
SHELL_COMMAND("cat", cmd_cat, "FILE...", "print files");

static void to_sha(void *ctx, const uint8_t *p, uint32_t n) { sha256_update(ctx, p, n); }

static int cmd_sha256sum(int argc, char **argv)
{
    if (argc < 2)
        return shell_usage(argv[0]);
    void *buf;
    if (!need_vol(argv[0]) || !(buf = io_buffer(argv[0])))
        return 1;
    int rc = 0;
    for (int i = 1; i < argc && !cons_interrupt; i++) {
        sha256_ctx c;
        uint8_t dig[SHA256_DIGEST_SIZE];
        char hex[65];
        sha256_init(&c);
        if (each_chunk(argv[0], argv[i], buf, to_sha, &c)) {
            rc = 1;
            continue;
        }
        sha256_final(&c, dig);
        sha256_hex(dig, hex);
        printf("%s  %s\n", hex, argv[i]);
    }
    io_free(buf);
    return rc;
}
SHELL_COMMAND("sha256sum", cmd_sha256sum, "FILE...", "SHA-256 of files (as sha256sum prints it)");

static bool parse_num(const char *s, uint32_t *out)
{
    uint64_t x = 0;
    int base = s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10;
    if (base == 16)
        s += 2;
    if (!*s)
        return false;
    for (; *s; s++) {
        int d = *s >= '0' && *s <= '9' ? *s - '0' : base == 16 && (*s | 32) >= 'a' && (*s | 32) <= 'f' ? (*s | 32) - 'a' + 10 : -1;
        if (d < 0 || (x = x * (uint64_t)base + (uint64_t)d) > UINT32_MAX)
            return false;
    }
    *out = (uint32_t)x;
    return true;
}

/* hexdump -C layout: offset, 16 bytes in two groups of 8, the printable characters. */
static int cmd_hexdump(int argc, char **argv)
{
    uint32_t off = 0, len = UINT32_MAX;
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2)
        if ((strcmp(argv[i], "-s") && strcmp(argv[i], "-n")) ||
            !parse_num(argv[i + 1], argv[i][1] == 's' ? &off : &len))
            return shell_usage(argv[0]);
    if (i != argc - 1)
        return shell_usage(argv[0]);
    struct fat_volume *v = need_vol(argv[0]);
    char abs[VFS_PATH_MAX];
    struct fat_file f;
    if (!v || !resolve_input(argv[0], argv[i], abs))
        return 1;
    int err = fat_open(v, &f, abs, FAT_O_READ);
    if (!err && off)   /* past the end: nothing to dump, as util-linux hexdump */
        err = fat_seek(&f, off = off < f.size ? off : f.size);
    if (err)
        return fail(argv[0], argv[i], err);
    uint8_t row[16];
    uint32_t got = 0;
    while (len && !cons_interrupt) {
        if ((err = fat_read(&f, row, len < 16 ? len : 16, &got)) || got == 0)
            break;
        char line[80];
        int n = snprintf(line, sizeof line, "%08x ", off);
        for (uint32_t k = 0; k < 16; k++)
            n += k < got ? snprintf(line + n, sizeof line - (size_t)n, k == 8 ? "  %02x" : " %02x", row[k])
                         : snprintf(line + n, sizeof line - (size_t)n, k == 8 ? "    " : "   ");
        n += snprintf(line + n, sizeof line - (size_t)n, "  |");
        for (uint32_t k = 0; k < got; k++)
            line[n++] = row[k] >= 32 && row[k] < 127 ? (char)row[k] : '.';
        printf("%.*s|\n", n, line);
        off += got;
        len -= got;
    }
    fat_close(&f);
    if (err)
        return fail(argv[0], argv[i], err);
    printf("%08x\n", off);
    return 0;
}
SHELL_COMMAND("hexdump", cmd_hexdump, "[-s OFFSET] [-n LENGTH] FILE", "canonical hex+ASCII dump of a file");

/* ---- changing the tree ---------------------------------------------------------------- */

/* TO, or TO/basename(FROM) when TO is an existing directory (cp and mv).  A TO ending in
 * '/' must be a directory, unless NEW_DIR_OK (mv of a directory: the new name). */
static bool target_path(struct fat_volume *v, const char *cmd, const char *from, const char *to,
                        char *out, bool new_dir_ok)
{
    if (!resolve(cmd, to, out))
        return false;
    if (!is_dir(v, out)) {
        if (ends_in_slash(to) && !new_dir_ok)
            return fail(cmd, to, FAT_ENOTDIR), false;
        return true;
    }
    size_t n = strlen(out);
    const char *b = base_name(from);
    if (n + 1 + strlen(b) + 1 > VFS_PATH_MAX)
        return fail(cmd, to, FAT_ENAMETOOLONG), false;
    if (n > 1)
        out[n++] = '/';
    strcpy(out + n, b);
    return true;
}

static int cmd_cp(int argc, char **argv)
{
    if (argc != 3)
        return shell_usage(argv[0]);
    struct fat_volume *v = need_vol(argv[0]);
    char src[VFS_PATH_MAX], dst[VFS_PATH_MAX];
    if (!v || !resolve_input(argv[0], argv[1], src) ||
        !target_path(v, argv[0], src, argv[2], dst, false))
        return 1;
    struct fat_dirent a, b;
    if (strcasecmp(src, dst) == 0 || (fat_stat(v, src, &a) == FAT_OK &&
                                      fat_stat(v, dst, &b) == FAT_OK && a.first && a.first == b.first)) {
        eprintf("%s: %s and %s are the same file\n", argv[0], argv[1], argv[2]);
        return 1;
    }
    struct fat_file in, out;
    int err = fat_open(v, &in, src, FAT_O_READ);
    if (err)
        return fail(argv[0], argv[1], err);
    if ((err = fat_open(v, &out, dst, FAT_O_WRITE | FAT_O_CREATE | FAT_O_TRUNC))) {
        fat_close(&in);
        return fail(argv[0], argv[2], err);
    }
    void *buf = io_buffer(argv[0]);
    uint32_t got = 0;
    const char *where = argv[1];
    while (buf && !cons_interrupt) {
        if ((err = fat_read(&in, buf, IO_BUF, &got)) || got == 0)
            break;
        if ((err = fat_write(&out, buf, got))) {
            where = argv[2];
            break;
        }
    }
    if (buf)
        io_free(buf);
    fat_close(&in);
    int cerr = fat_close(&out);
    if (err || cerr)
        return fail(argv[0], err ? where : argv[2], err ? err : cerr);
    if (cons_interrupt) {
        eprintf("%s: %s: interrupted, the copy is incomplete\n", argv[0], argv[2]);
        return 1;
    }
    return buf ? 0 : 1;
}
SHELL_COMMAND("cp", cmd_cp, "FROM TO", "copy a file (TO may be a directory)");

static int cmd_mv(int argc, char **argv)
{
    if (argc != 3)
        return shell_usage(argv[0]);
    struct fat_volume *v = need_vol(argv[0]);
    char from[VFS_PATH_MAX], to[VFS_PATH_MAX];
    bool dir = false;
    if (!v || !resolve(argv[0], argv[1], from) ||
        !target_path(v, argv[0], from, argv[2], to, (dir = is_dir(v, from))))
        return 1;
    size_t n = strlen(from);
    if (dir && strncasecmp(from, to, n) == 0 && to[n] == '/') {
        eprintf("%s: %s: cannot move a directory into itself\n", argv[0], argv[1]);
        return 1;
    }
    int err = fat_rename(v, from, to);
    if (err)
        return fail(argv[0], argv[1], err);
    vfs_moved(from, to);   /* the current directory may have moved */
    return 0;
}
SHELL_COMMAND("mv", cmd_mv, "FROM TO", "rename or move a file or directory");

/* rm, mkdir, rmdir: one FAT call per argument. */
static int each_path(int argc, char **argv, int (*op)(struct fat_volume *, const char *))
{
    if (argc < 2)
        return shell_usage(argv[0]);
    struct fat_volume *v = need_vol(argv[0]);
    if (!v)
        return 1;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        char abs[VFS_PATH_MAX];
        int err;
        if (!resolve(argv[0], argv[i], abs))
            rc = 1;
        else if (strcmp(abs, "/") == 0 && op != fat_mkdir)
            rc = fail(argv[0], argv[i], FAT_EBUSY);
        else if ((err = op(v, abs)))
            rc = fail(argv[0], argv[i], err);
        else if (op == fat_rmdir)
            vfs_moved(abs, NULL);   /* it may have been the current directory */
    }
    return rc;
}

static int cmd_rm(int argc, char **argv) { return each_path(argc, argv, fat_unlink); }
static int cmd_mkdir(int argc, char **argv) { return each_path(argc, argv, fat_mkdir); }
static int cmd_rmdir(int argc, char **argv) { return each_path(argc, argv, fat_rmdir); }
SHELL_COMMAND("rm", cmd_rm, "FILE...", "delete files");
SHELL_COMMAND("mkdir", cmd_mkdir, "DIR...", "make directories");
SHELL_COMMAND("rmdir", cmd_rmdir, "DIR...", "remove empty directories");

/* The words from argv[FIRST] on, joined by blanks, plus a newline (echo and write). */
static size_t join_words(int argc, char **argv, int first, char *out, size_t cap)
{
    size_t n = 0;
    for (int i = first; i < argc; i++) {
        size_t k = strlen(argv[i]);
        if (n + k + 2 > cap)
            k = cap - n - 2;
        memcpy(out + n, argv[i], k);
        n += k;
        if (i + 1 < argc)
            out[n++] = ' ';
    }
    out[n++] = '\n';
    return n;
}

static int cmd_write(int argc, char **argv)
{
    if (argc < 2)
        return shell_usage(argv[0]);
    struct fat_volume *v = need_vol(argv[0]);
    char abs[VFS_PATH_MAX], text[LE_MAX_LINE + 2];
    struct fat_file f;
    if (!v || !resolve(argv[0], argv[1], abs))
        return 1;
    if (ends_in_slash(argv[1]) && !is_dir(v, abs))
        return fail(argv[0], argv[1], FAT_ENOTDIR);
    size_t n = join_words(argc, argv, 2, text, sizeof text);
    int err = fat_open(v, &f, abs, FAT_O_WRITE | FAT_O_CREATE | FAT_O_TRUNC);
    if (err)
        return fail(argv[0], argv[1], err);
    err = fat_write(&f, text, (uint32_t)n);
    int cerr = fat_close(&f);
    return err || cerr ? fail(argv[0], argv[1], err ? err : cerr) : 0;
}
SHELL_COMMAND("write", cmd_write, "FILE [TEXT...]", "replace FILE's contents with TEXT and a newline");

static int cmd_echo(int argc, char **argv)
{
    char text[LE_MAX_LINE + 2];
    size_t n = join_words(argc, argv, 1, text, sizeof text);
    cons_write(text, n);
    return 0;
}
SHELL_COMMAND("echo", cmd_echo, "[TEXT...]", "print TEXT (with > or >> it goes to a file)");

/* ---- the volume ----------------------------------------------------------------------- */

static void print_cache(struct fat_volume *v)
{
    const struct bcache *c = &v->cache;
    printf("block cache: %u buffers x %u B, %llu hits, %llu misses, %llu writebacks; "
           "name cache: %llu hits, %llu misses\n", c->nbufs, c->block_size,
           (unsigned long long)c->hits, (unsigned long long)c->misses,
           (unsigned long long)c->writebacks, (unsigned long long)v->name_hits,
           (unsigned long long)v->name_misses);
}

static int cmd_df(int argc, char **argv)
{
    bool verbose = argc == 2 && strcmp(argv[1], "-v") == 0;
    if (argc > 2 || (argc == 2 && !verbose))
        return shell_usage(argv[0]);
    struct fat_volume *v = need_vol(argv[0]);
    struct fat_statfs st;
    int err;
    if (!v)
        return 1;
    if ((err = fat_statfs(v, &st)))
        return fail(argv[0], "/", err);
    struct vfs_mount_info mi;
    vfs_mount_info(&mi);
    uint64_t total = (uint64_t)st.clusters * st.cluster_bytes;
    uint64_t avail = (uint64_t)st.free_clusters * st.cluster_bytes;
    printf("%-12s %-6s %12s %12s %12s %5s  %s\n", "Filesystem", "Type", "1K-blocks", "Used",
           "Available", "Use%", "Mounted on");
    printf("%-12s FAT%-3u %12llu %12llu %12llu %4llu%%  /\n", mi.dev, st.type,
           (unsigned long long)total / 1024, (unsigned long long)(total - avail) / 1024,
           (unsigned long long)avail / 1024,
           total ? (unsigned long long)((total - avail) * 100 / total) : 0ull);
    if (verbose) {
        printf("label \"%s\", %u-byte sectors, %u-byte clusters, %u clusters (%u free)\n",
               st.label, st.sector_size, st.cluster_bytes, st.clusters, st.free_clusters);
        print_cache(v);
    }
    return 0;
}
SHELL_COMMAND("df", cmd_df, "[-v]", "size and free space of the volume (-v: geometry, cache hits)");

static int cmd_sync(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage(argv[0]);
    struct fat_volume *v = need_vol(argv[0]);
    int err = v ? fat_sync(v) : 1;
    return err ? (v ? fail(argv[0], "/", err) : 1) : 0;
}
SHELL_COMMAND("sync", cmd_sync, "", "write every cached change to the disk");

static void fsck_line(void *ctx, const char *msg)
{
    (void)ctx;
    printf("  %s\n", msg);
}

static int cmd_fsck(int argc, char **argv)
{
    bool repair = argc == 2 && strcmp(argv[1], "--repair") == 0;
    if (argc > 2 || (argc == 2 && !repair))
        return shell_usage(argv[0]);
    struct fat_volume *v = need_vol(argv[0]);
    if (!v)
        return 1;
    /* One pass (and saving lost chains) needs fat_fsck_scratch(); fall back to less. */
    size_t pages = (fat_fsck_scratch(v) + PAGE_SIZE - 1) / PAGE_SIZE;
    uint64_t mem = pmm_alloc_pages(pages);
    if (!mem)
        mem = pmm_alloc_pages(pages = 16);
    if (!mem) {
        printf("%s: out of memory\n", argv[0]);
        return 1;
    }
    uint32_t problems = 0;
    int err = fat_fsck(v, repair, (void *)(uintptr_t)mem, pages * PAGE_SIZE, fsck_line, NULL,
                       &problems);
    if (repair)
        sitemap_forget();   /* the repairs are not reported to the sitemap */
    if (!err && repair)
        err = fat_sync(v);
    pmm_free_pages(mem, pages);
    if (err)
        return fail(argv[0], "/", err);
    if (!problems)
        printf("%s: volume clean\n", argv[0]);
    else
        printf("%s: %u problem(s)%s\n", argv[0], problems,
               repair ? ", repaired" : " (run 'fsck --repair' to fix)");
    return problems && !repair ? 1 : 0;
}
SHELL_COMMAND("fsck", cmd_fsck, "[--repair]", "check the volume (and repair it)");

static int cmd_mount(int argc, char **argv)
{
    bool ro = false;
    uint32_t kib = VFS_CACHE_KIB_DEFAULT;
    const char *spec = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-r") == 0)
            ro = true;
        else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc && parse_num(argv[i + 1], &kib))
            i++;
        else if (argv[i][0] != '-' && !spec)
            spec = argv[i];
        else
            return shell_usage(argv[0]);
    }
    struct fat_volume *v = vfs_root();
    if (argc == 1 && v) {
        struct vfs_mount_info mi;
        vfs_mount_info(&mi);
        printf("%s", mi.dev);
        if (mi.part)
            printf(" partition %d (%s)", mi.part, mi.scheme);
        printf(" on / type FAT%u (%s), cache %zu KiB\n", v->type, v->rdonly ? "ro" : "rw",
               mi.cache_kib);
        print_cache(v);
        return 0;
    }
    return vfs_mount(spec, kib, ro, false) ? 1 : 0;
}
SHELL_COMMAND("mount", cmd_mount, "[-r] [-c CACHE_KIB] [DEV[@PART]]",
              "show the mounted volume, or mount one (default: the first FAT on NVMe)");

static int cmd_umount(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage(argv[0]);
    if (!need_vol(argv[0]))
        return 1;
    int err = vfs_umount();
    if (err)
        return fail(argv[0], "/", err);
    printf("unmounted\n");
    return 0;
}
SHELL_COMMAND("umount", cmd_umount, "", "write everything back and unmount the volume");
