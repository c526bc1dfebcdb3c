/* mandel [W] [H] [ITER]: ASCII Mandelbrot set in 16.16 fixed point (no floating point in
 * the VM). */
#include "nda.h"

#define FIX 16
#define ONE (1L << FIX)

int main(void)
{
    long w = nda_arg_long(1, 72), h = nda_arg_long(2, 28), iters = nda_arg_long(3, 64);
    static const char shade[] = " .:-=+*#%@";
    char line[256];
    if (w < 1 || w > 250 || h < 1)
        return 1;
    long total = 0;
    for (long y = 0; y < h; y++) {
        long ci = -ONE * 5 / 4 + (5 * ONE / 2) * y / h;
        for (long x = 0; x < w; x++) {
            long cr = -ONE * 2 + (3 * ONE) * x / w;
            long zr = 0, zi = 0, k = 0;
            while (k < iters) {
                long zr2 = (zr * zr) >> FIX, zi2 = (zi * zi) >> FIX;
                if (zr2 + zi2 > 4 * ONE)
                    break;
                zi = ((2 * zr * zi) >> FIX) + ci;
                zr = zr2 - zi2 + cr;
                k++;
            }
            total += k;
            line[x] = k >= iters ? '@' : shade[k % 9];
        }
        line[w] = '\n';
        nda_print(line, (unsigned long)w + 1);
    }
    nda_puts("iterations: ");
    nda_print_int(total);
    nda_puts("\n");
    return 0;
}
