/* bench/matmul [N]: N x N (default 256, max 256) integer matrix multiply; prints a checksum. */
#include "nda.h"
#define MAXN 256
static unsigned int A[MAXN * MAXN], B[MAXN * MAXN], C[MAXN * MAXN];
int main(void)
{
    long n = nda_arg_long(1, 256);
    if (n < 1 || n > MAXN)
        return 1;
    for (long i = 0; i < n * n; i++) {
        A[i] = (unsigned int)(i * 2654435761u) >> 20;
        B[i] = (unsigned int)(i * 40503u + 7) >> 4;
    }
    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++) {
            unsigned int s = 0;
            for (long k = 0; k < n; k++)
                s += A[i * n + k] * B[k * n + j];
            C[i * n + j] = s;
        }
    unsigned long sum = 0;
    for (long i = 0; i < n * n; i++)
        sum = sum * 31 + C[i];
    nda_puts("matmul checksum ");
    nda_print_hex(sum);
    nda_puts("\n");
    return 0;
}
