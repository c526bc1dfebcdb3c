/* sieve [N]: primes below N (default 1000000) by the sieve of Eratosthenes; prints the
 * count and the largest.  N up to 10^7 (the array lives in bss). */
#include "nda.h"

#define MAX_N 10000001
static unsigned char composite[MAX_N];

int main(void)
{
    long n = nda_arg_long(1, 1000000);
    if (n < 2 || n > MAX_N - 1) {
        nda_puts("sieve: N must be in 2..10000000\n");
        return 1;
    }
    long count = 0, last = 0;
    for (long i = 2; i < n; i++) {
        if (composite[i])
            continue;
        count++;
        last = i;
        for (long j = i * i; j < n; j += i)
            composite[j] = 1;
    }
    nda_puts("primes below ");
    nda_print_int(n);
    nda_puts(": ");
    nda_print_int(count);
    nda_puts(", largest ");
    nda_print_int(last);
    nda_puts("\n");
    return 0;
}
