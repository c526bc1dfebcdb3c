/* forge [ADDR]: writes through a forged pointer (default: 1 MiB, kernel memory). */
#include "nda.h"
int main(void)
{
    volatile long *p = (volatile long *)nda_arg_long(1, 0x100000);
    nda_puts("forging\n");
    *p = 0x4141414141414141;
    return 0;
}
