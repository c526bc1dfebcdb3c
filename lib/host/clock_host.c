/* Host provider of lib/clock.h, for host tools and tests. */
#include <time.h>
#include "lib/clock.h"

uint64_t clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t clock_unix_time(void)
{
    return (int64_t)time(NULL);
}
