/* kernel/console.h: the serial console as the rest of the kernel sees it.
 *
 * Output: printf()/cons_write() go to the current output sink — the UART, or a file while
 * the shell redirects a command's output.  klog() always goes to the kernel log ring and
 * the UART; kcrit() is klog for fault reports.  None of them takes a lock or allocates,
 * so all are safe from interrupt and exception handlers.
 * Input: the UART interrupt fills a ring; cons_getc() waits for a byte.  Ctrl-C also sets
 * cons_interrupt, which long-running commands and programs poll. */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

void cons_init(void);             /* after the UART and interrupts are up */
void cons_write(const char *s, size_t n);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
void cons_puts(const char *s);
/* printf for error messages: always to the terminal, never into a redirection's file. */
int eprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Did the last byte sent to the terminal end a line?  (The shell starts every prompt on a
 * fresh line, so a prompt is always recognisable at the start of a line.) */
int cons_at_line_start(void);

typedef void (*cons_sink_fn)(void *ctx, const char *s, size_t n);
/* Send printf output to fn(ctx, ...) until cons_reset_sink(). */
void cons_set_sink(cons_sink_fn fn, void *ctx);
void cons_reset_sink(void);

int cons_getc(void);              /* waits (halting the CPU) for the next byte */
int cons_trygetc(void);           /* next byte or -1 */
extern volatile int cons_interrupt; /* set by Ctrl-C; whoever handles it clears it */

void klog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kcrit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Write the log ring's contents through printf. */
void log_dump(void);
struct log_stats { uint64_t bytes_written, bytes_kept, capacity; };
void log_get_stats(struct log_stats *st);

#endif
