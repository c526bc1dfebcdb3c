/* HPET, PM timer and CMOS RTC; see hpet.h.  HPET registers from the IA-PC HPET spec 1.0a. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "drivers/timer/hpet.h"
#include "lib/civil.h"

enum hpet_reg { HPET_CAP = 0x000, HPET_CONFIG = 0x010, HPET_COUNTER = 0x0f0 };
enum { HPET_ENABLE = 1 };

static uintptr_t hpet;

uint64_t hpet_init(uint64_t addr)
{
    if (!addr)
        return 0;
    hpet = (uintptr_t)paging_map_mmio(addr, 4096);
    if (!hpet)
        return 0;
    uint64_t period = mmio_read64(hpet + HPET_CAP) >> 32;
    if (period == 0 || period > 100000000) /* spec: at most 100 ns */
        return 0;
    mmio_write64(hpet + HPET_CONFIG, mmio_read64(hpet + HPET_CONFIG) | HPET_ENABLE);
    return period;
}

uint64_t hpet_read(void) { return mmio_read64(hpet + HPET_COUNTER); }

static uint16_t pm_port;
static uint32_t pm_mask;
static uint64_t pm_last, pm_high;

void pmtimer_init(uint32_t port, bool is32)
{
    pm_port = (uint16_t)port;
    pm_mask = is32 ? 0xffffffffu : 0xffffffu;
    pm_last = inl(pm_port) & pm_mask;
}

uint64_t pmtimer_read(void)
{
    uint64_t v = inl(pm_port) & pm_mask;
    if (v < pm_last)
        pm_high += (uint64_t)pm_mask + 1;
    pm_last = v;
    return pm_high + v;
}

enum { CMOS_ADDR = 0x70, CMOS_DATA = 0x71 };
enum { RTC_SEC = 0, RTC_MIN = 2, RTC_HOUR = 4, RTC_DAY = 7, RTC_MONTH = 8, RTC_YEAR = 9,
       RTC_STATUS_A = 0x0a, RTC_STATUS_B = 0x0b, RTC_CENTURY = 0x32 };

static uint8_t cmos(uint8_t reg)
{
    outb(CMOS_ADDR, reg);
    return inb(CMOS_DATA);
}

int64_t rtc_read_unix_time(void)
{
    uint8_t r[7], again[7];
    static const uint8_t regs[7] = { RTC_SEC, RTC_MIN, RTC_HOUR, RTC_DAY, RTC_MONTH, RTC_YEAR, RTC_CENTURY };
    /* Read twice until equal, outside an update cycle: the standard way to get a
     * consistent snapshot of a clock that ticks while we read it. */
    for (int tries = 0; tries < 10; tries++) {
        while (cmos(RTC_STATUS_A) & 0x80)
            cpu_relax();
        for (int i = 0; i < 7; i++) r[i] = cmos(regs[i]);
        for (int i = 0; i < 7; i++) again[i] = cmos(regs[i]);
        int same = 1;
        for (int i = 0; i < 7; i++) same &= r[i] == again[i];
        if (same) break;
    }
    uint8_t b = cmos(RTC_STATUS_B);
    int pm = r[2] & 0x80;
    r[2] &= 0x7f;
    if (!(b & 0x04)) /* BCD */
        for (int i = 0; i < 7; i++) r[i] = (uint8_t)((r[i] & 0x0f) + (r[i] >> 4) * 10);
    if (!(b & 0x02) && pm) /* 12-hour mode */
        r[2] = (uint8_t)((r[2] % 12) + 12);
    int64_t year = (r[6] ? r[6] : 20) * 100 + r[5];
    if (r[4] < 1 || r[4] > 12 || r[3] < 1 || r[3] > 31)
        return 0;
    return days_from_civil(year, r[4], r[3]) * 86400 + r[2] * 3600 + r[1] * 60 + r[0];
}
