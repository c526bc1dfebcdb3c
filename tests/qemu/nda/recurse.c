/* recurse [LIMIT]: recursion deeper than the VM allows (the limit stops it at 64 frames). */
#include "nda.h"
static long down(long n, long limit)
{
    volatile long pad[8];
    pad[0] = n;
    if (n == limit)
        return 0;
    return down(n + 1, limit) + pad[0];
}
int main(void)
{
    nda_puts("recursing\n");
    return (int)down(0, nda_arg_long(1, 1000000000));
}
