/* files: the file helpers end to end - write, append, read whole and part, list. */
#include "nda.h"
static char buf[512];
int main(void)
{
    static const char a[] = "first line\n", b[] = "second line\n";
    if (nda_write_file("out.txt", a, sizeof a - 1) != sizeof a - 1)
        nda_puts("write failed\n");
    if (nda_append_file("out.txt", b, sizeof b - 1) != sizeof b - 1)
        nda_puts("append failed\n");
    long n = nda_read_file("out.txt", buf, sizeof buf);
    nda_puts("read: ");
    nda_print_int(n);
    nda_puts(" bytes\n");
    nda_print(buf, (unsigned long)n);
    n = nda_read_file_at("out.txt", 6, buf, 4);
    nda_puts("part: [");
    nda_print(buf, (unsigned long)n);
    nda_puts("]\n");
    n = nda_read_file("no-such-file", buf, sizeof buf);
    nda_puts(n < 0 ? "missing file: error\n" : "missing file: read?!\n");
    n = nda_list_dir("/", buf, sizeof buf);
    nda_puts("listing:\n");
    if (n > 0)
        nda_print(buf, (unsigned long)n);
    return 0;
}
