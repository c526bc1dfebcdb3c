/* hello: the smallest NDA program - prints a greeting and its arguments. */
#include "nda.h"

int main(void)
{
    nda_puts("Hello from NDA!\n");
    long n = nda_argc();
    for (long i = 1; i < n; i++) {
        char buf[64];
        nda_arg(i, buf, sizeof buf);
        nda_puts("  arg: ");
        nda_puts(buf);
        nda_puts("\n");
    }
    return 0;
}
