/* Console and kernel log; see console.h.
 *
 * Why no locks: this kernel runs on one CPU, and every path here is re-entrant.  The input
 * ring has one producer (the UART interrupt) and one consumer (the shell).  The log ring
 * reserves space with one atomic add, then copies, so a klog() from an interrupt or fault
 * handler that lands in the middle of another klog() just takes the next slot.  UART writes
 * hold interrupts off per call, so an interrupt's message is never spliced into another. */
#include <stdbool.h>
#include <string.h>
#include "arch/x86_64/cpu.h"
#include "drivers/uart/uart16550.h"
#include "kernel/console.h"
#include "lib/clock.h"
#include "lib/fmt.h"

#define IN_RING 4096   /* holds a fast paste while the shell is busy */
#define LOG_RING 16384

static volatile uint8_t in_ring[IN_RING];
static volatile uint32_t in_head, in_tail;
volatile int cons_interrupt;

static char log_ring[LOG_RING];
static volatile uint64_t log_head;

static cons_sink_fn sink_fn;
static volatile char last_out = '\n'; /* last byte sent to the terminal */
static void *sink_ctx;

/* UART with "\n" -> "\r\n", since terminals expect both. */
static void uart_sink(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    uint64_t flags = irq_save(); /* one call's text is never split by an interrupt's */
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            uart_write(s + start, i - start);
            uart_write("\r\n", 2);
            start = i + 1;
        }
    }
    uart_write(s + start, n - start);
    if (n)
        last_out = s[n - 1];
    irq_restore(flags);
}

static bool rx_room(void) { return (in_head + 1) % IN_RING != in_tail; }

static void rx_byte(uint8_t b)
{
    if (b == 3)
        cons_interrupt = 1;
    in_ring[in_head] = b; /* rx_room() said there is room */
    in_head = (in_head + 1) % IN_RING;
}

void cons_init(void)
{
    uart_enable_rx_irq(rx_byte, rx_room);
}

void cons_write(const char *s, size_t n)
{
    if (sink_fn)
        sink_fn(sink_ctx, s, n);
    else
        uart_sink(NULL, s, n);
}

int cons_at_line_start(void) { return last_out == '\n'; }

void cons_puts(const char *s) { cons_write(s, strlen(s)); }

/* printf formats into a buffer and writes it in one piece, so a line printed by one call
 * reaches the sink whole (an interrupt's log line cannot land inside it). */
struct linebuf {
    char buf[512];
    size_t n;
    bool err;   /* eprintf: straight to the terminal, past any sink */
};

static void flush(struct linebuf *b)
{
    if (b->err)
        uart_sink(NULL, b->buf, b->n);
    else
        cons_write(b->buf, b->n);
    b->n = 0;
}

static void to_linebuf(void *ctx, const char *s, size_t n)
{
    struct linebuf *b = ctx;
    while (n) {
        if (b->n == sizeof b->buf)
            flush(b);
        size_t k = sizeof b->buf - b->n < n ? sizeof b->buf - b->n : n;
        memcpy(b->buf + b->n, s, k);
        b->n += k;
        s += k;
        n -= k;
    }
}

int vprintf(const char *fmt, va_list ap)
{
    struct linebuf b = { .n = 0, .err = false };
    int n = fmt_format(to_linebuf, &b, fmt, ap);
    flush(&b);
    return n;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

/* Errors bypass the sink, as stderr does: with `CMD > FILE` the user still sees why a
 * command failed, and the file gets only the command's output. */
int eprintf(const char *fmt, ...)
{
    struct linebuf b = { .n = 0, .err = true };
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_format(to_linebuf, &b, fmt, ap);
    va_end(ap);
    flush(&b);
    return n;
}

void cons_set_sink(cons_sink_fn fn, void *ctx)
{
    sink_ctx = ctx;
    sink_fn = fn;
}

void cons_reset_sink(void) { sink_fn = NULL; }

int cons_trygetc(void)
{
    if (in_tail == in_head)
        return -1;
    int b = in_ring[in_tail];
    in_tail = (in_tail + 1) % IN_RING;
    uart_rx_resume();
    return b;
}

int cons_getc(void)
{
    for (;;) {
        irq_disable();
        int b = cons_trygetc();
        if (b >= 0) {
            irq_enable();
            return b;
        }
        irq_enable_and_halt();
    }
}

static void log_append(const char *s, size_t n)
{
    uint64_t pos = __atomic_fetch_add(&log_head, n, __ATOMIC_RELAXED);
    for (size_t i = 0; i < n; i++)
        log_ring[(pos + i) % LOG_RING] = s[i];
}

static void vlog(const char *fmt, va_list ap)
{
    char buf[256];
    uint64_t ns = clock_mono_ns();
    int n = snprintf(buf, sizeof buf, "[%5llu.%06llu] ", (unsigned long long)(ns / 1000000000u),
                     (unsigned long long)(ns / 1000 % 1000000));
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
    size_t len = (size_t)n + ((size_t)m < sizeof buf - (size_t)n ? (size_t)m : sizeof buf - (size_t)n - 1);
    log_append(buf, len);
    uart_sink(NULL, buf, len);
}

void klog(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

/* Fault reports: no timestamp prefix (they are multi-line blocks), same two outputs. */
void kcrit(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    size_t len = (size_t)m < sizeof buf ? (size_t)m : sizeof buf - 1;
    log_append(buf, len);
    uart_sink(NULL, buf, len);
}

void log_dump(void)
{
    uint64_t head = log_head;
    uint64_t start = head > LOG_RING ? head - LOG_RING : 0;
    /* Skip a partial first line when the ring has wrapped. */
    if (start)
        while (start < head && log_ring[start % LOG_RING] != '\n')
            start++, (void)0;
    if (start && start < head)
        start++;
    char chunk[128];
    size_t k = 0;
    for (uint64_t i = start; i < head; i++) {
        chunk[k++] = log_ring[i % LOG_RING];
        if (k == sizeof chunk) {
            cons_write(chunk, k);
            k = 0;
        }
    }
    cons_write(chunk, k);
}

void log_get_stats(struct log_stats *st)
{
    st->bytes_written = log_head;
    st->bytes_kept = log_head < LOG_RING ? log_head : LOG_RING;
    st->capacity = LOG_RING;
}
