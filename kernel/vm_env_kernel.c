/* kernel/vm_env_kernel.c: see vm_env_kernel.h.  Every callback reaches the volume only
 * through the FAT API on vfs_root() (reads via the block cache, kernel/hotfile.h); failures return a negative value to the program (the
 * helper contract), never stop it.  vm/helpers.c has already checked the program's
 * pointers and lengths against its sandbox before these run. */
#include <string.h>
#include "fs/fat.h"
#include "kernel/console.h"
#include "kernel/hotfile.h"
#include "kernel/vfs.h"
#include "kernel/vm_env_kernel.h"


static void k_print(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    cons_write(s, n); /* live, and follows the shell's output redirection */
}

int64_t kvm_read_path(const char *abs, uint64_t off, void *buf, uint64_t cap)
{
    size_t got;
    int e = hot_read(abs, off, buf, (size_t)cap, &got);
    return e ? -e : (int64_t)got;
}

static int64_t k_read(void *ctx, const char *path, uint64_t off, void *buf, uint64_t len)
{
    (void)ctx;
    char abs[VFS_PATH_MAX];
    if (off > 0xffffffffu || vfs_resolve(path, abs, sizeof abs) != 0)
        return -1;
    return kvm_read_path(abs, off, buf, len);
}

static int64_t k_write(void *ctx, const char *path, const void *buf, uint64_t len, int append)
{
    (void)ctx;
    struct fat_volume *v = vfs_root();
    char abs[VFS_PATH_MAX];
    struct fat_file f;
    if (!v || len > 0xffffffffu || vfs_resolve(path, abs, sizeof abs) != 0)
        return -1;
    unsigned flags = FAT_O_WRITE | FAT_O_CREATE | (append ? FAT_O_APPEND : FAT_O_TRUNC);
    if (fat_open(v, &f, abs, flags) != FAT_OK)
        return -1;
    int e = fat_write(&f, buf, (uint32_t)len);
    int e2 = fat_fsync(&f); /* the program's data is on the disk when the helper returns */
    fat_close(&f);
    return e || e2 ? -1 : (int64_t)len;
}

static int64_t k_list(void *ctx, const char *path, char *buf, uint64_t len)
{
    (void)ctx;
    struct fat_volume *v = vfs_root();
    char abs[VFS_PATH_MAX];
    static struct fat_dirent ent; /* large; the shell runs one program at a time */
    struct fat_dir d;
    if (!v || vfs_resolve(path[0] ? path : ".", abs, sizeof abs) != 0 ||
        fat_opendir(v, &d, abs) != FAT_OK)
        return -1;
    uint64_t used = 0;
    while (fat_readdir(&d, &ent) == FAT_OK) {
        if (ent.attr & FAT_ATTR_VOLID)
            continue;
        int dir = (ent.attr & FAT_ATTR_DIR) != 0;
        size_t n = strlen(ent.name);
        if (used + n + (size_t)dir + 1 > len)
            break;
        memcpy(buf + used, ent.name, n);
        used += n;
        if (dir)
            buf[used++] = '/';
        buf[used++] = '\n';
    }
    return (int64_t)used;
}

void kvm_env_init(vm_env *env, int argc, const char *const *argv)
{
    memset(env, 0, sizeof *env);
    env->print = k_print;
    env->read_file = k_read;
    env->write_file = k_write;
    env->list_dir = k_list;
    env->argc = argc;
    env->argv = argv;
}
