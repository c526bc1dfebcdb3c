/* tests/fs/ramimg.h: a disk image built by shell commands (mkfs.fat, mtools, sgdisk...)
 * into a file, loaded into RAM as a block device for the FAT core, and written back for
 * the external tools (fsck.fat, mtools) to check.  Each test program names its own file,
 * so tests that run side by side never share one. */
#ifndef TESTS_FS_RAMIMG_H
#define TESTS_FS_RAMIMG_H
#include "lib/host/blk_file.h"
#include <stddef.h>
#include <stdint.h>

extern uint8_t *img;          /* the image in RAM */
extern size_t img_size;
extern struct blk_ram ram;    /* 512-byte sectors over img */

/* Runs SHELL with $f set to PATH (removed first), then loads PATH; -1 on failure. */
int img_make(const char *path, const char *shell);
/* Writes img back to the file img_make loaded. */
void img_save(void);
/* Runs a shell command with $f set to the image file; returns its exit status. */
int img_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
