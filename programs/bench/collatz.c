/* bench/collatz [N]: longest Collatz chain for starts below N (default 1000000). */
#include "nda.h"
int main(void)
{
    long n = nda_arg_long(1, 1000000), best = 0, best_start = 0;
    for (long s = 1; s < n; s++) {
        unsigned long x = (unsigned long)s;
        long len = 1;
        while (x != 1) {
            x = x & 1 ? 3 * x + 1 : x >> 1;
            len++;
        }
        if (len > best) {
            best = len;
            best_start = s;
        }
    }
    nda_puts("collatz: start ");
    nda_print_int(best_start);
    nda_puts(" length ");
    nda_print_int(best);
    nda_puts("\n");
    return 0;
}
