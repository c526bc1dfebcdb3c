/* lib/crc32: the IEEE 802.3 CRC-32 (reflected, polynomial 0xEDB88320) used by GPT headers,
 * zlib and Ethernet.  Interface: crc32_update(crc, buf, n) continues a running CRC (start
 * with 0); crc32(buf, n) is the one-shot form.  Bitwise, no table: GPT checks run once per
 * mount, and 1 KiB of table would cost more kernel image than the loop costs time. */
#ifndef LIB_CRC32_H
#define LIB_CRC32_H
#include <stddef.h>
#include <stdint.h>

uint32_t crc32_update(uint32_t crc, const void *buf, size_t n);
static inline uint32_t crc32(const void *buf, size_t n) { return crc32_update(0, buf, n); }

#endif
