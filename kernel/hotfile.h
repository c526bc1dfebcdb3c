/* kernel/hotfile.h: file reads for the kernel through the content-addressed block cache
 * (fs/hotfile.h on the mounted volume, its live sitemap and kcache()).
 *
 * hot_read() is what `run` (program load) and the programs' file helpers use; `cat` and
 * anything else that reads whole files may use it too.  Blocks of files the live sitemap
 * describes (after `sitemap`, `sitemap save` or `verify` built it) come from the cache by
 * their SHA-256; everything else reads straight from the volume.  A block whose bytes on the
 * disk no longer match the sitemap is refused (HOT_ECORRUPT), and the kernel log says which
 * file and block.  hot_strerror() describes an error of the last call. */
#ifndef KERNEL_HOTFILE_H
#define KERNEL_HOTFILE_H
#include <stddef.h>
#include <stdint.h>
#include "fs/hotfile.h"

/* Up to LEN bytes at OFF of the file at ABS_PATH; *GOT = bytes read.  0 or a hot_err. */
int hot_read(const char *abs_path, uint64_t off, void *buf, size_t len, size_t *got);
const char *hot_strerror(int err);
/* Counters for `cache`. */
const struct hotfile *hot_state(void);

#endif
