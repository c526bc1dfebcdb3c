/* 16550 UART driver; see uart16550.h.  Registers per the PC16550D datasheet. */
#include <stdbool.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/trap.h"
#include "drivers/uart/uart16550.h"

enum uart_reg {
    RBR = 0, /* receive buffer (read, DLAB=0) */
    THR = 0, /* transmit holding (write, DLAB=0) */
    DLL = 0, /* divisor latch low (DLAB=1) */
    IER = 1, /* interrupt enable (DLAB=0) */
    DLM = 1, /* divisor latch high (DLAB=1) */
    IIR = 2, /* interrupt identification (read) */
    FCR = 2, /* FIFO control (write) */
    LCR = 3, /* line control */
    MCR = 4, /* modem control */
    LSR = 5, /* line status */
};
enum {
    IER_RX_AVAIL = 1 << 0,
    LCR_8N1 = 0x03,
    LCR_DLAB = 0x80,
    FCR_ENABLE_CLEAR_14 = 0xc7, /* enable FIFOs, clear both, RX trigger at 14 bytes */
    MCR_DTR_RTS_OUT2 = 0x0b,    /* OUT2 gates the IRQ line on PCs */
    LSR_DATA_READY = 1 << 0,
    LSR_THR_EMPTY = 1 << 5,
};
enum { COM1_IRQ = 4 };

static uint16_t base;
static void (*rx_fn)(uint8_t);
static bool (*rx_room)(void);
static volatile bool rx_paused;

void uart_init(uint16_t port)
{
    base = port;
    outb(base + IER, 0);
    outb(base + LCR, LCR_DLAB);
    outb(base + DLL, 1); /* 115200 baud: 115200 / 1 */
    outb(base + DLM, 0);
    outb(base + LCR, LCR_8N1);
    outb(base + FCR, FCR_ENABLE_CLEAR_14);
    outb(base + MCR, MCR_DTR_RTS_OUT2);
}

void uart_write(const char *s, size_t n)
{
    if (!base)
        return;
    uint64_t f = irq_save();
    for (size_t i = 0; i < n; i++) {
        for (int spin = 0; !(inb(base + LSR) & LSR_THR_EMPTY) && spin < 1000000; spin++)
            cpu_relax();
        outb(base + THR, (uint8_t)s[i]);
    }
    irq_restore(f);
}

static void uart_irq(struct trap_frame *tf, void *ctx)
{
    (void)tf;
    (void)ctx;
    while (inb(base + LSR) & LSR_DATA_READY) {
        if (!rx_room()) {
            /* Flow control: leave the bytes in the FIFO and stop listening; the sender
             * (QEMU's chardev, or a terminal with RTS/CTS) then waits instead of us losing
             * input.  uart_rx_resume() listens again once the reader made room. */
            rx_paused = true;
            outb(base + IER, 0);
            return;
        }
        rx_fn(inb(base + RBR));
    }
}

void uart_rx_resume(void)
{
    if (rx_paused) {
        rx_paused = false;
        outb(base + IER, IER_RX_AVAIL); /* pending data raises the interrupt at once */
    }
}

void uart_enable_rx_irq(void (*fn)(uint8_t byte), bool (*room)(void))
{
    rx_fn = fn;
    rx_room = room;
    irq_register(VEC_SERIAL, uart_irq, NULL);
    ioapic_route_isa_irq(COM1_IRQ, VEC_SERIAL);
    outb(base + IER, IER_RX_AVAIL);
    (void)inb(base + IIR);
}
