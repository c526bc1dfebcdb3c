/* lib/clock: the clock interface portable code may use.  Each world links one provider:
 * the kernel (kernel/clock.c: TSC + CMOS RTC) or the host (lib/host/clock_host.c). */
#ifndef LIB_CLOCK_H
#define LIB_CLOCK_H
#include <stdint.h>

/* Monotonic nanoseconds since an arbitrary origin (boot, in the kernel). */
uint64_t clock_mono_ns(void);

/* Wall-clock time as seconds since 1970-01-01 00:00:00 UTC (0 when unknown). */
int64_t clock_unix_time(void);

#endif
