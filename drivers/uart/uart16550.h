/* drivers/uart/uart16550.h: 16550 UART (COM1).  Output is polled and usable from any
 * context; input arrives by interrupt and is handed to a callback byte by byte. */
#ifndef DRIVERS_UART16550_H
#define DRIVERS_UART16550_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void uart_init(uint16_t port);
/* Write bytes as they are (no newline translation); interrupts are held off for the
 * duration so one call's bytes are never interleaved with an interrupt handler's. */
void uart_write(const char *s, size_t n);
/* Route received bytes to fn (called in interrupt context) and enable the RX interrupt.
 * Before each byte, room() is asked; when it says no, reception pauses (bytes wait in the
 * UART, the sender is held off) until uart_rx_resume(). */
void uart_enable_rx_irq(void (*fn)(uint8_t byte), bool (*room)(void));
void uart_rx_resume(void);

#endif
