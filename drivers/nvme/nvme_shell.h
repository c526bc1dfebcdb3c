/* drivers/nvme/nvme_shell.h: helpers shared by the disk commands (nvme_shell.c), the
 * transfer-shape self-test and the benchmark (disk_test.c).  Kernel-only. */
#ifndef DRIVERS_NVME_NVME_SHELL_H
#define DRIVERS_NVME_NVME_SHELL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/blkdev.h"

void disk_pattern(uint8_t *p, uint64_t lba, uint32_t ss, uint64_t seed);
int64_t disk_pattern_check(const uint8_t *p, uint64_t lba, uint32_t count, uint32_t ss, uint64_t seed);
bool disk_parse_u64(const char *s, uint64_t *out);
struct blkdev *disk_lookup(const char *name);
void *disk_buffer(uint64_t bytes, size_t *pages);
int disk_report(struct blkdev *b, const char *what, int err);
/* Synchronous I/O that waits the NVMe way (halting in interrupt mode). */
int disk_io(struct blkdev *b, int op, uint64_t lba, uint32_t count, void *buf);
/* Write (fill) or check (verify) the pattern over [lba, lba+count) in many transfer shapes. */
int disk_shapes(struct blkdev *b, uint64_t lba, uint64_t count, uint64_t seed, bool write);
int disk_bench(struct blkdev *b, uint64_t seed, bool firmware);

#endif
