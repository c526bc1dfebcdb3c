/* sha256sum FILE... : SHA-256 of files read through the file helper, printed like
 * coreutils' sha256sum.  `sha256sum --bench MIB` hashes MIB MiB of generated data instead
 * (the benchmark workload). */
#include "nda.h"

typedef unsigned int u32;
typedef unsigned long u64;

static const u32 K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

struct sha { u32 h[8]; u64 total; unsigned char buf[64]; u32 used; };
static u32 W[64];

static u32 ror(u32 x, u32 n) { return (x >> n) | (x << (32 - n)); }

static void block(u32 *h, const unsigned char *p)
{
    for (int i = 0; i < 16; i++)
        W[i] = (u32)p[4 * i] << 24 | (u32)p[4 * i + 1] << 16 | (u32)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++)
        W[i] = W[i - 16] + (ror(W[i - 15], 7) ^ ror(W[i - 15], 18) ^ (W[i - 15] >> 3)) + W[i - 7] +
               (ror(W[i - 2], 17) ^ ror(W[i - 2], 19) ^ (W[i - 2] >> 10));
    u32 a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        u32 t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + W[i];
        u32 t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

static void sha_init(struct sha *s)
{
    static const u32 iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                              0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    for (int i = 0; i < 8; i++)
        s->h[i] = iv[i];
    s->total = 0;
    s->used = 0;
}

static void sha_update(struct sha *s, const unsigned char *p, u64 n)
{
    s->total += n;
    while (n) {
        if (s->used == 0 && n >= 64) {
            block(s->h, p);
            p += 64;
            n -= 64;
            continue;
        }
        s->buf[s->used++] = *p++;
        n--;
        if (s->used == 64) {
            block(s->h, s->buf);
            s->used = 0;
        }
    }
}

static void sha_print(struct sha *s)
{
    u64 bits = s->total * 8;
    unsigned char pad = 0x80, zero = 0, len[8];
    sha_update(s, &pad, 1);
    while (s->used != 56)
        sha_update(s, &zero, 1);
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha_update(s, len, 8);
    static const char hex[] = "0123456789abcdef";
    char out[65];
    for (int i = 0; i < 32; i++) {
        unsigned char b = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));
        out[2 * i] = hex[b >> 4];
        out[2 * i + 1] = hex[b & 15];
    }
    out[64] = 0;
    nda_puts(out);
}

static unsigned char buf[65536];

int main(void)
{
    static struct sha s;
    char path[256];
    long n = nda_argc();
    if (n < 2) {
        nda_puts("usage: sha256sum FILE... | sha256sum --bench MIB\n");
        return 1;
    }
    nda_arg(1, path, sizeof path);
    if (path[0] == '-' && path[1] == '-') {
        long mib = nda_arg_long(2, 16);
        u64 x = 0x9e3779b97f4a7c15ul;
        for (u64 i = 0; i < sizeof buf; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            buf[i] = (unsigned char)x;
        }
        sha_init(&s);
        for (long i = 0; i < mib * 16; i++)
            sha_update(&s, buf, sizeof buf);
        sha_print(&s);
        nda_puts("  (generated)\n");
        return 0;
    }
    int rc = 0;
    for (long i = 1; i < n; i++) {
        nda_arg(i, path, sizeof path);
        sha_init(&s);
        u64 off = 0;
        long got;
        while ((got = nda_read_file_at(path, off, buf, sizeof buf)) > 0) {
            sha_update(&s, buf, (u64)got);
            off += (u64)got;
        }
        if (got < 0) {
            nda_puts("sha256sum: cannot read ");
            nda_puts(path);
            nda_puts("\n");
            rc = 1;
            continue;
        }
        sha_print(&s);
        nda_puts("  ");
        nda_puts(path);
        nda_puts("\n");
    }
    return rc;
}
