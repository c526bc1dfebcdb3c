/* lib/median.h: the median of a handful of timings, the one statistic every benchmark in
 * the tree reports (a median shrugs off the odd run a shared host spoils).  Sorts V in
 * place (insertion sort: N is a handful) and returns its middle element. */
#ifndef LIB_MEDIAN_H
#define LIB_MEDIAN_H
#include <stdint.h>

static inline uint64_t median_u64(uint64_t *v, unsigned n)
{
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0 && v[j] < v[j - 1]; j--) {
            uint64_t x = v[j];
            v[j] = v[j - 1];
            v[j - 1] = x;
        }
    return n ? v[n / 2] : 0;
}

#endif
