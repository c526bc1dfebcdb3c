/* peek [ADDR]: reads memory it does not own - 64 KiB below its own data by pointer
 * arithmetic, or at the absolute address ADDR (e.g. the kernel's).  The VM must stop it. */
#include "nda.h"
static long mine[4] = {1, 2, 3, 4};
int main(void)
{
    volatile long *p = mine;
    long a = nda_arg_long(1, 0);
    nda_puts("peeking\n");
    if (a)
        p = (volatile long *)a;
    else
        p -= 8192;
    return (int)*p;
}
