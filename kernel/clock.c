/* Kernel clock; see clock.h. */
#include <stddef.h>
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trap.h"
#include "drivers/acpi/acpi.h"
#include "drivers/timer/hpet.h"
#include "kernel/clock.h"

static uint64_t tsc_hz, tsc_origin, ns_mult; /* ns = (delta * ns_mult) >> 32 */
static int64_t unix_at_boot;
volatile uint64_t timer_ticks;
static tick_fn hooks[8];
static unsigned nhooks;

uint64_t clock_tsc_hz(void) { return tsc_hz; }

uint64_t clock_tsc_to_ns(uint64_t d)
{
    return (uint64_t)(((unsigned __int128)d * ns_mult) >> 32);
}

uint64_t clock_mono_ns(void)
{
    if (!tsc_hz)
        return 0;
    return clock_tsc_to_ns(rdtsc() - tsc_origin);
}

int64_t clock_unix_time(void)
{
    return unix_at_boot ? unix_at_boot + (int64_t)(clock_mono_ns() / 1000000000u) : 0;
}

const char *clock_init(void)
{
    /* Measure TSC ticks over 2 ms of the reference clock: short for the boot budget, and
     * with both ends read back to back the error stays far below 0.1%. */
    const char *ref = NULL;
    uint64_t period_fs = hpet_init(acpi.hpet_addr);
    uint64_t t0, t1, r0, r1, ref_ns;
    if (period_fs) {
        ref = "HPET";
        uint64_t want = 2000000000000ull / period_fs; /* 2 ms in HPET ticks */
        r0 = hpet_read();
        t0 = rdtsc();
        do { r1 = hpet_read(); } while (r1 - r0 < want);
        t1 = rdtsc();
        ref_ns = (r1 - r0) * period_fs / 1000000;
    } else if (acpi.pm_tmr) {
        ref = "ACPI PM timer";
        pmtimer_init(acpi.pm_tmr, acpi.pm_tmr_32bit);
        r0 = pmtimer_read();
        t0 = rdtsc();
        do { r1 = pmtimer_read(); } while (r1 - r0 < PMTIMER_HZ / 500);
        t1 = rdtsc();
        ref_ns = (r1 - r0) * 1000000000ull / PMTIMER_HZ;
    } else {
        return NULL;
    }
    tsc_hz = (t1 - t0) * 1000000000ull / ref_ns;
    ns_mult = (1000000000ull << 32) / tsc_hz; /* fits: 1e9 << 32 < 2^64 */
    tsc_origin = 0; /* the TSC starts at reset: monotonic time counts from power-on */
    unix_at_boot = rtc_read_unix_time() - (int64_t)(clock_mono_ns() / 1000000000u);
    return ref;
}

int clock_add_tick_hook(tick_fn fn)
{
    if (nhooks == sizeof hooks / sizeof hooks[0])
        return -1;
    hooks[nhooks++] = fn;
    return 0;
}

static void tick(struct trap_frame *tf, void *ctx)
{
    (void)ctx;
    timer_ticks++;
    for (unsigned i = 0; i < nhooks; i++)
        hooks[i](tf);
}

void clock_start_tick(void)
{
    irq_register(VEC_TIMER, tick, NULL);
    lapic_timer_start(TIMER_HZ, VEC_TIMER);
}
