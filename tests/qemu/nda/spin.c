/* spin: an infinite loop; only the time limit or Ctrl-C ends it. */
#include "nda.h"
int main(void)
{
    volatile unsigned long n = 0;
    nda_puts("spinning\n");
    for (;;)
        n++;
    return 0;
}
