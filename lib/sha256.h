/* lib/sha256: SHA-256 (FIPS 180-4), portable, no allocation, no floating point.
 *
 * Interface: sha256_init / sha256_update (any number of times) / sha256_final, or the
 * one-shot sha256().  The context is the caller's; final leaves it unusable until init. */
#ifndef LIB_SHA256_H
#define LIB_SHA256_H
#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32

typedef struct sha256_ctx {
    uint32_t h[8];
    uint64_t total;      /* bytes hashed so far */
    uint8_t buf[64];     /* partial block */
    uint32_t used;       /* bytes in buf */
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
void sha256_final(sha256_ctx *c, uint8_t out[SHA256_DIGEST_SIZE]);
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE]);
/* Lower-case hex of a digest into out (65 bytes incl. NUL). */
void sha256_hex(const uint8_t d[SHA256_DIGEST_SIZE], char out[65]);

#endif
