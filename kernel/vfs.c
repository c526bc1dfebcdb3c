/* kernel/vfs.c: the data volume — finding it at boot, mounting, the shell's current
 * directory, path resolution, and console output redirected into a file.
 *
 * Interface: kernel/vfs.h.  One volume is mounted at a time, at "/".  Its block and name
 * caches live in pages from pmm_alloc_pages (VFS_CACHE_KIB_DEFAULT, or `mount -c KIB`),
 * freed at unmount.  Paths handed to the FAT core are always absolute and normalised here
 * ("." and ".." are lexical, as in a Unix shell's `cd`), so the core never sees the cwd.
 * Invariants: `mounted` is true exactly while `vol` is a mounted volume; the redirection
 * file is open only while mounted (umount refuses, shutdown closes it first); cwd is an
 * absolute, normalised path of a directory that existed when it was set. */
#include <stdio.h>
#include <string.h>
#include "drivers/nvme/nvme.h"
#include "fs/part.h"
#include "kernel/console.h"
#include "kernel/pmm.h"
#include "kernel/power.h"
#include "kernel/vfs.h"

enum {
    MAX_PARTS = 8,            /* partitions probed per device */
    MIN_CACHE_KIB = 64,       /* fat_mount needs 36 KiB; leave room for a few FAT blocks */
    MAX_CACHE_KIB = 256 * 1024,
    REDIR_BUF = 64 * 1024,    /* output gathered before a fat_write (pages, while open) */
};

static struct fat_volume vol;
static bool mounted;
static uint64_t cache_mem;
static size_t cache_pages;
static struct vfs_mount_info minfo;
static char devname[24];
static char cwd[VFS_PATH_MAX] = "/";

static struct {
    struct fat_file f;
    bool open;
    int err;                  /* first fat_write error, sticky until the end */
    uint32_t n;
    char *buf;                /* REDIR_BUF bytes from pmm_alloc_pages */
} redir;

struct fat_volume *vfs_root(void) { return mounted ? &vol : NULL; }
const char *vfs_cwd(void) { return cwd; }

/* One line of news: to the kernel log at boot, to the console for the `mount` command. */
static void say(bool quiet, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(bool quiet, const char *fmt, ...)
{
    char buf[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (quiet)
        klog("%s\n", buf);
    else
        printf("%s\n", buf);
}

/* Append component C (length N) to the absolute path OUT (length *LEN), applying "." and
 * "..".  Returns -1 when it does not fit. */
static int push_component(char *out, size_t *len, size_t outsz, const char *c, size_t n)
{
    if (n == 0 || (n == 1 && c[0] == '.'))
        return 0;
    if (n == 2 && c[0] == '.' && c[1] == '.') {
        while (*len > 0 && out[--*len] != '/')
            ;
        out[*len] = 0;
        return 0;
    }
    if (*len + 1 + n + 1 > outsz)
        return -1;
    out[(*len)++] = '/';
    memcpy(out + *len, c, n);
    *len += n;
    out[*len] = 0;
    return 0;
}

static int push_path(char *out, size_t *len, size_t outsz, const char *p)
{
    while (*p) {
        size_t n = strcspn(p, "/");
        if (push_component(out, len, outsz, p, n))
            return -1;
        p += n;
        while (*p == '/')
            p++;
    }
    return 0;
}

int vfs_resolve(const char *path, char *out, size_t outsz)
{
    if (!path[0])
        return FAT_ENOENT;   /* as in POSIX: "" names nothing, not the current directory */
    if (outsz < 2)
        return FAT_ENAMETOOLONG;
    size_t len = 0;
    out[0] = 0;
    if ((path[0] != '/' && push_path(out, &len, outsz, cwd)) ||
        push_path(out, &len, outsz, path))
        return FAT_ENAMETOOLONG;
    if (len == 0)
        strcpy(out, "/");
    return 0;
}

int vfs_chdir(const char *path)
{
    char abs[VFS_PATH_MAX], canon[VFS_PATH_MAX];
    int err;
    if (!mounted)
        return FAT_ENOENT;
    if ((err = vfs_resolve(path, abs, sizeof abs)))
        return err;
    /* Walk the components so the prompt shows each name as stored on disk, not as typed. */
    size_t len = 0;
    canon[0] = 0;
    for (char *p = abs + 1; *p;) {
        size_t n = strcspn(p, "/");
        struct fat_dirent e;
        char save = p[n];
        p[n] = 0;   /* stat the prefix that ends here */
        err = fat_stat(&vol, abs, &e);
        p[n] = save;
        if (err)
            return err;
        if (!(e.attr & FAT_ATTR_DIR))
            return FAT_ENOTDIR;
        if (push_component(canon, &len, sizeof canon, e.name, strlen(e.name)))
            return FAT_ENAMETOOLONG;
        p += n + (p[n] == '/');
    }
    strcpy(cwd, len ? canon : "/");
    return 0;
}

void vfs_moved(const char *from, const char *to)
{
    char path[VFS_PATH_MAX];
    size_t n = strlen(from);
    if (!mounted || vfs_chdir(cwd) == 0)
        return;   /* not affected (a rename of its case only is spelt anew) */
    if (to && strncasecmp(cwd, from, n) == 0 && (cwd[n] == 0 || cwd[n] == '/') &&
        (size_t)snprintf(path, sizeof path, "%s%s", to, cwd + n) < sizeof path &&
        vfs_chdir(path) == 0)
        return;
    /* Removed (or moved by another spelling): go up to what is still there. */
    char gone[VFS_PATH_MAX];
    strcpy(gone, cwd);
    strcpy(path, cwd);
    do
        *strrchr(path, '/') = 0;
    while (*path && vfs_chdir(path) != 0);
    if (!*path)
        strcpy(cwd, "/");
    eprintf("cd: %s is gone; now in %s\n", gone, cwd);
}

/* Mount the first FAT volume of B (partition WANT, or any when WANT is 0) with the cache
 * memory already allocated.  On failure *WHY says why. */
static bool try_device(struct blkdev *b, int want, bool rdonly, const char **why)
{
    void *mem = (void *)(uintptr_t)cache_mem;
    size_t size = cache_pages * PAGE_SIZE;
    struct part_info parts[MAX_PARTS];
    int n = 0, perr = part_probe(b, mem, parts, MAX_PARTS, &n);   /* mem as scratch */
    unsigned flags = rdonly ? FAT_MOUNT_RDONLY : 0;
    if (perr == PART_ENOTABLE && want == 0) {
        int err = fat_mount(&vol, b, 0, 0, mem, size, flags);
        if (!err) {
            minfo.part = 0;
            minfo.scheme = "bare";
            return true;
        }
        *why = err == FAT_EBADFS && *vol.reason ? vol.reason : fat_strerror(err);
        return false;
    }
    if (perr) {
        *why = part_strerror(perr);
        return false;
    }
    *why = want ? part_strerror(PART_ERANGE) : "no partition holds a FAT volume";
    for (int i = 0; i < n; i++) {
        if (want && i + 1 != want)
            continue;
        int err = fat_mount(&vol, b, parts[i].lba, parts[i].sectors, mem, size, flags);
        if (!err) {
            minfo.part = i + 1;
            minfo.scheme = parts[i].scheme == PART_SCHEME_GPT ? "GPT" : "MBR";
            return true;
        }
        if (want)
            *why = err == FAT_EBADFS && *vol.reason ? vol.reason : fat_strerror(err);
    }
    return false;
}

/* Parse "DEV" or "DEV@N"; returns the device (NULL with a message) and the partition. */
static struct blkdev *parse_spec(const char *spec, int *part, bool quiet)
{
    char name[sizeof devname];
    size_t n = strcspn(spec, "@");
    *part = 0;
    if (n >= sizeof name) {
        say(quiet, "mount: %s: no such block device", spec);
        return NULL;
    }
    memcpy(name, spec, n);
    name[n] = 0;
    if (spec[n] == '@') {
        for (const char *p = spec + n + 1; *p; p++) {
            if (*p < '0' || *p > '9' || *part > 1000) {
                say(quiet, "mount: %s: bad partition number", spec);
                return NULL;
            }
            *part = *part * 10 + (*p - '0');
        }
        if (*part == 0) {
            say(quiet, "mount: %s: partitions are numbered from 1", spec);
            return NULL;
        }
    }
    struct blkdev *b = nvme_blkdev_find(name);
    if (!b)
        say(quiet, "mount: %s: no such block device", name);
    return b;
}

int vfs_mount(const char *spec, size_t cache_kib, bool rdonly, bool quiet)
{
    if (mounted) {
        say(quiet, "mount: %s is already mounted at / (umount first)", devname);
        return -1;
    }
    if (cache_kib < MIN_CACHE_KIB || cache_kib > MAX_CACHE_KIB) {
        say(quiet, "mount: cache size must be %u..%u KiB", MIN_CACHE_KIB, MAX_CACHE_KIB);
        return -1;
    }
    int want = 0;
    struct blkdev *only = NULL;
    if (spec && !(only = parse_spec(spec, &want, quiet)))
        return -1;
    unsigned ndev = only ? 1 : nvme_blkdev_count();
    if (ndev == 0) {
        say(quiet, "fs: no NVMe namespace to mount");
        return -1;
    }
    cache_pages = (cache_kib * 1024 + PAGE_SIZE - 1) / PAGE_SIZE;
    if (!(cache_mem = pmm_alloc_pages(cache_pages))) {
        say(quiet, "mount: cannot allocate %zu KiB of cache", cache_kib);
        return -1;
    }
    const char *why = "";
    for (unsigned i = 0; i < ndev; i++) {
        struct blkdev *b = only ? only : nvme_blkdev(i);
        if (!b || !try_device(b, want, rdonly, &why))
            continue;
        mounted = true;
        strncpy(devname, b->name, sizeof devname - 1);
        minfo.dev = devname;
        minfo.cache_kib = cache_kib;
        strcpy(cwd, "/");
        char where[32] = "";
        if (minfo.part)
            snprintf(where, sizeof where, " partition %d (%s)", minfo.part, minfo.scheme);
        uint64_t bytes = (uint64_t)vol.clusters * vol.cluster_bytes;
        say(quiet, "fs: mounted %s%s at /: FAT%u \"%s\", %llu MiB in %u-byte clusters, "
            "%zu KiB cache, %s", devname, where, vol.type, vol.label,
            (unsigned long long)(bytes >> 20), vol.cluster_bytes, cache_kib,
            vol.rdonly ? "read-only" : "read-write");
        return 0;
    }
    pmm_free_pages(cache_mem, cache_pages);
    cache_mem = 0;
    if (only)
        say(quiet, "fs: no FAT volume on %s: %s", only->name, why);
    else
        say(quiet, "fs: no FAT volume on the NVMe disk%s (%s)", ndev > 1 ? "s" : "", why);
    return -1;
}

int vfs_umount(void)
{
    if (!mounted)
        return FAT_OK;
    if (redir.open)
        return FAT_EBUSY;
    int err = fat_unmount(&vol);
    if (err)
        return err;
    mounted = false;
    pmm_free_pages(cache_mem, cache_pages);
    cache_mem = 0;
    strcpy(cwd, "/");
    return FAT_OK;
}

void vfs_mount_info(struct vfs_mount_info *mi) { *mi = minfo; }

void vfs_shutdown(void)
{
    if (redir.open)
        vfs_redirect_end();
    if (!mounted)
        return;
    int err = vfs_umount();
    if (err)
        klog("fs: unmounting %s failed: %s\n", devname, fat_strerror(err));
    else
        klog("fs: %s unmounted cleanly\n", devname);
}

int vfs_init(void)
{
    power_add_shutdown_hook(vfs_shutdown);
    return vfs_mount(NULL, VFS_CACHE_KIB_DEFAULT, false, true);
}

/* ---- output redirection ------------------------------------------------------------- */

/* Write the buffer out.  Unless FINAL, the bytes past the file's last sector boundary stay
 * behind, so every later flush starts on a sector with an aligned buffer and goes to the
 * device as one direct write instead of through the block cache. */
static void redir_flush(bool final)
{
    uint32_t n = redir.n, tail = final ? 0 : (redir.f.pos + n) % vol.bps;
    if (tail >= n)
        tail = 0;
    if (n - tail && !redir.err)
        redir.err = fat_write(&redir.f, redir.buf, n - tail);
    memmove(redir.buf, redir.buf + n - tail, tail);
    redir.n = tail;
}

static void redir_sink(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    while (n) {
        size_t k = REDIR_BUF - redir.n < n ? REDIR_BUF - redir.n : n;
        memcpy(redir.buf + redir.n, s, k);
        redir.n += (uint32_t)k;
        s += k;
        n -= k;
        if (redir.n == REDIR_BUF)
            redir_flush(false);
    }
}

int vfs_redirect_begin(const char *path, bool append)
{
    char abs[VFS_PATH_MAX];
    int err;
    if (!mounted)
        return FAT_ENOENT;
    if (redir.open)
        return FAT_EBUSY;
    if ((err = vfs_resolve(path, abs, sizeof abs)))
        return err;
    size_t n = strlen(path);
    struct fat_dirent e;
    if (n && path[n - 1] == '/')   /* "DIR/" cannot be a file, whether DIR exists or not */
        return !strcmp(abs, "/") || (!fat_stat(&vol, abs, &e) && (e.attr & FAT_ATTR_DIR))
                   ? FAT_EISDIR : FAT_ENOTDIR;
    if (!(redir.buf = (char *)(uintptr_t)pmm_alloc_pages(REDIR_BUF / PAGE_SIZE)))
        return FAT_ENOMEM;
    unsigned flags = FAT_O_WRITE | FAT_O_CREATE | (append ? FAT_O_APPEND : FAT_O_TRUNC);
    err = fat_open(&vol, &redir.f, abs, flags);
    if (err) {
        pmm_free_pages((uint64_t)(uintptr_t)redir.buf, REDIR_BUF / PAGE_SIZE);
        return err;
    }
    redir.open = true;
    redir.err = 0;
    redir.n = 0;
    cons_set_sink(redir_sink, NULL);
    return 0;
}

int vfs_redirect_end(void)
{
    if (!redir.open)
        return 0;
    cons_reset_sink();
    redir_flush(true);
    int err = fat_close(&redir.f);
    pmm_free_pages((uint64_t)(uintptr_t)redir.buf, REDIR_BUF / PAGE_SIZE);
    redir.open = false;
    return redir.err ? redir.err : err;
}

bool vfs_redirect_target(const char *abs)
{
    /* The same directory entry, so another spelling (case, the 8.3 alias) is caught too. */
    struct fat_file f;
    if (!redir.open || fat_open(&vol, &f, abs, FAT_O_READ))
        return false;
    bool same = f.dir == redir.f.dir && f.idx == redir.f.idx;
    fat_close(&f);
    return same;
}
