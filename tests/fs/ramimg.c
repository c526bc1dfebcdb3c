/* tests/fs/ramimg.c: see ramimg.h. */
#define _GNU_SOURCE
#include "tests/fs/ramimg.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

uint8_t *img;
size_t img_size;
struct blk_ram ram;
static char img_path[256];

int img_make(const char *path, const char *shell)
{
    snprintf(img_path, sizeof img_path, "%s", path);
    if (img_sh("set -e; rm -f $f; %s", shell) != 0)
        return -1;
    FILE *fp = fopen(img_path, "rb");
    if (!fp)
        return -1;
    fseek(fp, 0, SEEK_END);
    img_size = (size_t)ftell(fp);
    rewind(fp);
    free(img);
    img = malloc(img_size);
    size_t got = img ? fread(img, 1, img_size, fp) : 0;
    fclose(fp);
    if (got != img_size)
        return -1;
    blk_ram_init(&ram, img, 512, img_size / 512);
    return 0;
}

void img_save(void)
{
    FILE *fp = fopen(img_path, "wb");
    if (!fp)
        return;
    fwrite(img, 1, img_size, fp);
    fclose(fp);
}

int img_sh(const char *fmt, ...)
{
    char body[4096], cmd[4400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "f=%s; export MTOOLS_SKIP_CHECK=1; %s", img_path, body);
    int rc = system(cmd);
    return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}
