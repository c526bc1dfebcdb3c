/* drivers/timer/hpet.h: reference clocks used to calibrate the TSC: the HPET main counter
 * and, as the fallback, the ACPI PM timer (3.579545 MHz). */
#ifndef DRIVERS_TIMER_HPET_H
#define DRIVERS_TIMER_HPET_H
#include <stdbool.h>
#include <stdint.h>

/* Enable the HPET at ADDR; returns its period in femtoseconds, or 0 if unusable. */
uint64_t hpet_init(uint64_t addr);
uint64_t hpet_read(void);

/* PM timer at PORT (24- or 32-bit).  Returns ticks, extended to 64 bits across wraps as
 * long as it is read at least once per wrap (4.6 s for 24 bits). */
void pmtimer_init(uint32_t port, bool is32);
uint64_t pmtimer_read(void);
#define PMTIMER_HZ 3579545u

/* CMOS real-time clock, as seconds since 1970 (UTC assumed, as QEMU provides). */
int64_t rtc_read_unix_time(void);

#endif
