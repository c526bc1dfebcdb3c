/* kernel/vfs.h: the mounted data volume as the shell and programs see it.
 *
 * The kernel mounts one FAT volume from the NVMe disk at boot (the first namespace with a
 * FAT filesystem, bare or in a GPT/MBR partition) at "/".  Paths are absolute or relative
 * to the shell's current directory; "." and ".." are resolved here, names are
 * case-insensitive (the FAT core's rule).  Everything else is the FAT core's API
 * (fs/fat.h) on vfs_root(). */
#ifndef KERNEL_VFS_H
#define KERNEL_VFS_H
#include <stdbool.h>
#include <stddef.h>
#include "fs/fat.h"

enum {
    VFS_PATH_MAX = 512,          /* bytes of a resolved absolute path, with NUL */
    VFS_CACHE_KIB_DEFAULT = 1024 /* block + name cache given to fat_mount */
};

/* Mount the data volume (called once from devices_init); 0 or a negative value. */
int vfs_init(void);
/* The mounted volume, or NULL when none is mounted (commands then say so). */
struct fat_volume *vfs_root(void);
/* Turn PATH (absolute, or relative to the current directory) into a normalised absolute
 * path in OUT.  Returns 0, FAT_ENOENT for "" (as in POSIX) or FAT_ENAMETOOLONG if it
 * does not fit. */
int vfs_resolve(const char *path, char *out, size_t outsz);
const char *vfs_cwd(void);
int vfs_chdir(const char *path);   /* 0, or a fat_err */
/* FROM (absolute) was renamed to TO, or removed (TO NULL): the current directory follows
 * a move of itself or of a parent; if it is gone it becomes the nearest parent left,
 * with a message. */
void vfs_moved(const char *from, const char *to);
/* Flush and unmount (power-off/reboot hooks call it). */
void vfs_shutdown(void);

/* Mount SPEC: NULL (the first NVMe namespace holding FAT), "DEV" (its first FAT volume:
 * bare, or the first partition that mounts) or "DEV@N" (partition N, 1-based).  CACHE_KIB
 * of pages are allocated for the caches.  Prints one line saying what was mounted, or why
 * not (to the kernel log when QUIET, else through printf).  Returns 0 or -1. */
int vfs_mount(const char *spec, size_t cache_kib, bool rdonly, bool quiet);
/* Sync, unmount and free the cache; 0, or a fat_err (the volume stays mounted on error). */
int vfs_umount(void);

/* What is mounted (valid while vfs_root() != NULL). */
struct vfs_mount_info {
    const char *dev;        /* block device name, e.g. "nvme0n1" */
    int part;               /* partition number, 0 for a bare volume */
    const char *scheme;     /* "GPT", "MBR" or "bare" */
    size_t cache_kib;
};
void vfs_mount_info(struct vfs_mount_info *mi);

/* Console output into a file (the shell's `CMD > FILE`): opens PATH (created, truncated
 * unless APPEND) and sends printf output there until vfs_redirect_end, which flushes and
 * closes it and returns the first error (a fat_err).  Unmounting waits for neither: umount
 * refuses while a redirection is open, and vfs_shutdown ends it first. */
int vfs_redirect_begin(const char *path, bool append);
int vfs_redirect_end(void);
/* True while a redirection is open into the file at ABS: a command reading it would read
 * its own output (`cat a >> a` would never end), so it refuses instead. */
bool vfs_redirect_target(const char *abs);

#endif
