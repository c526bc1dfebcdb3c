/* greet: a program that is never on the disk under its own name in the tests; it is copied
 * over another program to check that changed code is compiled afresh. */
#include "nda.h"
int main(void)
{
    nda_puts("greetings from the replacement program\n");
    return 42;
}
