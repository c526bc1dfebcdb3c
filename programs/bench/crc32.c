/* bench/crc32 [MIB]: bitwise-table CRC-32 (IEEE) over MIB MiB of generated data. */
#include "nda.h"
static unsigned int table[256];
static unsigned char buf[65536];
int main(void)
{
    long mib = nda_arg_long(1, 32);
    for (unsigned int i = 0; i < 256; i++) {
        unsigned int c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    for (unsigned long i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 131 + (i >> 8));
    unsigned int crc = 0xffffffffu;
    for (long r = 0; r < mib * 16; r++)
        for (unsigned long i = 0; i < sizeof buf; i++)
            crc = table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
    nda_puts("crc32 ");
    nda_print_hex(crc ^ 0xffffffffu);
    nda_puts("\n");
    return 0;
}
