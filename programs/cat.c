/* cat FILE...: prints files through the read_file_at helper, 4 KiB at a time. */
#include "nda.h"

static char buf[4096];

int main(void)
{
    long n = nda_argc();
    if (n < 2) {
        nda_puts("usage: cat FILE...\n");
        return 1;
    }
    for (long i = 1; i < n; i++) {
        char path[256];
        nda_arg(i, path, sizeof path);
        unsigned long off = 0;
        for (;;) {
            long got = nda_read_file_at(path, off, buf, sizeof buf);
            if (got < 0) {
                nda_puts("cat: cannot read ");
                nda_puts(path);
                nda_puts("\n");
                return 1;
            }
            if (got == 0)
                break;
            nda_print(buf, (unsigned long)got);
            off += (unsigned long)got;
        }
    }
    return 0;
}
