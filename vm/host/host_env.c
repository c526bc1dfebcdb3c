/* vm/host/host_env.c: see host_env.h. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "vm/host/host_env.h"

static void h_print(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    fwrite(s, 1, n, stdout);
}

static int64_t h_read(void *ctx, const char *path, uint64_t off, void *buf, uint64_t len)
{
    (void)ctx;
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    if (fseeko(f, (off_t)off, SEEK_SET) != 0) {
        fclose(f);
        return -1;
    }
    size_t n = fread(buf, 1, len, f);
    fclose(f);
    return (int64_t)n;
}

static int64_t h_write(void *ctx, const char *path, const void *buf, uint64_t len, int append)
{
    (void)ctx;
    FILE *f = fopen(path, append ? "ab" : "wb");
    if (!f)
        return -1;
    size_t n = fwrite(buf, 1, len, f);
    fclose(f);
    return n == len ? (int64_t)n : -1;
}

static int64_t h_list(void *ctx, const char *path, char *buf, uint64_t len)
{
    (void)ctx;
    DIR *d = opendir(path[0] ? path : ".");
    if (!d)
        return -1;
    uint64_t used = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char full[1024];
        struct stat sb;
        snprintf(full, sizeof full, "%s/%s", path[0] ? path : ".", e->d_name);
        int dir = stat(full, &sb) == 0 && S_ISDIR(sb.st_mode);
        size_t n = strlen(e->d_name) + (size_t)dir + 1;
        if (used + n > len)
            break;
        memcpy(buf + used, e->d_name, n - 1 - (size_t)dir);
        if (dir)
            buf[used + n - 2] = '/';
        buf[used + n - 1] = '\n';
        used += n;
    }
    closedir(d);
    return (int64_t)used;
}

void host_env_init(vm_env *env, int argc, const char *const *argv)
{
    memset(env, 0, sizeof *env);
    env->print = h_print;
    env->read_file = h_read;
    env->write_file = h_write;
    env->list_dir = h_list;
    env->argc = argc;
    env->argv = argv;
}
