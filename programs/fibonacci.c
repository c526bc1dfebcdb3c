/* fibonacci [N] [R]: the first N Fibonacci numbers (default 20) iteratively, then fib(R)
 * (default 25) by naive recursion - a call-heavy workload. */
#include "nda.h"

static unsigned long fib(unsigned long n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

int main(void)
{
    long n = nda_arg_long(1, 20), r = nda_arg_long(2, 25);
    unsigned long a = 0, b = 1;
    nda_puts("first ");
    nda_print_int(n);
    nda_puts(" Fibonacci numbers:");
    for (long i = 0; i < n; i++) {
        nda_print_char(' ');
        nda_print_uint(a);
        unsigned long t = a + b;
        a = b;
        b = t;
    }
    nda_puts("\nfib(");
    nda_print_int(r);
    nda_puts(") = ");
    unsigned long v = fib((unsigned long)r);
    nda_print_uint(v);
    nda_puts(" (recursive)\n");
    return (int)(v & 0x7f);
}
