/* ACPI table discovery; see acpi.h.  Field offsets from the ACPI 6.5 specification,
 * chapter 5.2.  Only what the kernel uses is decoded; everything is read by offset. */
#include <string.h>
#include "arch/x86_64/paging.h"
#include "drivers/acpi/acpi.h"
#include "kernel/console.h"
#include "lib/bytes.h"

struct acpi_info acpi;
static const uint8_t *xsdt, *rsdt;

enum { HDR_LEN = 4, HDR_SIZE = 36 };

static bool checksum_ok(const uint8_t *p, uint32_t len)
{
    uint8_t sum = 0;
    for (uint32_t i = 0; i < len; i++)
        sum += p[i];
    return sum == 0;
}

static const uint8_t *table_at(uint64_t addr)
{
    const uint8_t *t = (const uint8_t *)(uintptr_t)addr;
    if (!addr)
        return NULL;
    uint32_t len = ld32(t + HDR_LEN);
    if (len < HDR_SIZE || len > (64u << 20) || !checksum_ok(t, len))
        return NULL;
    return t;
}

const uint8_t *acpi_find_table(const char sig[4])
{
    const uint8_t *root = xsdt ? xsdt : rsdt;
    if (!root)
        return NULL;
    unsigned width = xsdt ? 8 : 4;
    uint32_t n = (ld32(root + HDR_LEN) - HDR_SIZE) / width;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = root + HDR_SIZE + i * width;
        uint64_t addr = width == 8 ? ld64(e) : ld32(e);
        const uint8_t *t = (const uint8_t *)(uintptr_t)addr;
        if (addr && memcmp(t, sig, 4) == 0)
            return table_at(addr);
    }
    return NULL;
}

static void read_gas(const uint8_t *p, struct acpi_gas *g)
{
    g->space = p[0];
    g->width = p[1];
    g->addr = ld64(p + 4);
}

/* AML integer encodings inside the \_S5 package: ZeroOp, OneOp, BytePrefix n, WordPrefix. */
static int aml_small_int(const uint8_t **pp, const uint8_t *end, uint8_t *out)
{
    const uint8_t *p = *pp;
    if (p >= end) return -1;
    if (*p == 0x00 || *p == 0x01) { *out = *p; *pp = p + 1; return 0; }
    if (*p == 0x0a && p + 1 < end) { *out = p[1]; *pp = p + 2; return 0; }
    if (*p == 0x0b && p + 2 < end) { *out = p[1]; *pp = p + 3; return 0; }
    return -1;
}

/* Find "_S5_" as a NameOp in the DSDT and read SLP_TYPa/b from its package.  A full AML
 * interpreter is not needed for this one constant object, as every OS loader knows. */
static void parse_s5(const uint8_t *dsdt)
{
    uint32_t len = ld32(dsdt + HDR_LEN);
    const uint8_t *end = dsdt + len;
    for (const uint8_t *p = dsdt + HDR_SIZE; p + 4 < end; p++) {
        if (memcmp(p, "_S5_", 4) != 0)
            continue;
        /* Preceded by NameOp (0x08), possibly with a root prefix '\'. */
        if (!(p[-1] == 0x08 || (p[-2] == 0x08 && p[-1] == '\\')))
            continue;
        const uint8_t *q = p + 4;
        if (q >= end || *q != 0x12) /* PackageOp */
            continue;
        q++;
        unsigned pkglen_bytes = (*q >> 6) + 1; /* PkgLength lead byte encodes its size */
        q += pkglen_bytes;
        if (q >= end) return;
        q++; /* NumElements */
        if (aml_small_int(&q, end, &acpi.s5_typa) == 0 && aml_small_int(&q, end, &acpi.s5_typb) == 0)
            acpi.s5_valid = true;
        return;
    }
}

static void parse_fadt(const uint8_t *f)
{
    uint32_t len = ld32(f + HDR_LEN);
    acpi.smi_cmd = ld32(f + 48);
    acpi.acpi_enable = f[52];
    acpi.pm1a_cnt = ld32(f + 64);
    acpi.pm1b_cnt = ld32(f + 68);
    acpi.pm_tmr = ld32(f + 76);
    uint32_t flags = ld32(f + 112);
    acpi.pm_tmr_32bit = flags & (1u << 8);
    if (len >= 129) {
        read_gas(f + 116, &acpi.reset_reg);
        acpi.reset_value = f[128];
        acpi.reset_supported = (flags & (1u << 10)) && acpi.reset_reg.addr;
    }
    /* 64-bit X_ fields override the 32-bit ones when present. */
    uint64_t dsdt = ld32(f + 40);
    if (len >= 148 && ld64(f + 140))
        dsdt = ld64(f + 140);
    if (len >= 184) {
        struct acpi_gas g;
        read_gas(f + 172, &g);
        if (g.addr && g.space == 1) acpi.pm1a_cnt = (uint32_t)g.addr;
    }
    if (len >= 220) {
        struct acpi_gas g;
        read_gas(f + 208, &g);
        if (g.addr && g.space == 1) acpi.pm_tmr = (uint32_t)g.addr;
    }
    const uint8_t *d = table_at(dsdt);
    if (d)
        parse_s5(d);
}

static void parse_madt(const uint8_t *m)
{
    uint32_t len = ld32(m + HDR_LEN);
    acpi.lapic_addr = ld32(m + 36);
    for (uint32_t off = 44; off + 2 <= len;) {
        uint8_t type = m[off], elen = m[off + 1];
        if (elen < 2 || off + elen > len)
            break;
        const uint8_t *e = m + off;
        switch (type) {
        case 0: /* processor local APIC */
            if (ld32(e + 4) & 1) acpi.cpus++;
            break;
        case 1: /* I/O APIC: the first one serves the ISA IRQs */
            if (!acpi.ioapic_addr) {
                acpi.ioapic_addr = ld32(e + 4);
                acpi.ioapic_gsi_base = ld32(e + 8);
            }
            break;
        case 2: /* interrupt source override */
            if (acpi.override_count < ACPI_MAX_OVERRIDES) {
                unsigned i = acpi.override_count++;
                acpi.overrides[i].irq = e[3];
                acpi.overrides[i].gsi = ld32(e + 4);
                acpi.overrides[i].flags = ld16(e + 8);
            }
            break;
        case 5: /* 64-bit local APIC address override */
            acpi.lapic_addr = ld64(e + 4);
            break;
        }
        off += elen;
    }
}

static void parse_mcfg(const uint8_t *m)
{
    uint32_t len = ld32(m + HDR_LEN);
    for (uint32_t off = 44; off + 16 <= len && acpi.mcfg_count < ACPI_MAX_MCFG; off += 16) {
        unsigned i = acpi.mcfg_count++;
        acpi.mcfg[i].base = ld64(m + off);
        acpi.mcfg[i].segment = ld16(m + off + 8);
        acpi.mcfg[i].bus_start = m[off + 10];
        acpi.mcfg[i].bus_end = m[off + 11];
    }
}

uint32_t acpi_isa_irq_to_gsi(uint8_t irq, uint16_t *flags)
{
    for (unsigned i = 0; i < acpi.override_count; i++)
        if (acpi.overrides[i].irq == irq) {
            *flags = acpi.overrides[i].flags;
            return acpi.overrides[i].gsi;
        }
    *flags = 0;
    return irq;
}

int acpi_init(uint64_t rsdp_addr)
{
    const uint8_t *rsdp = (const uint8_t *)(uintptr_t)rsdp_addr;
    if (!rsdp || memcmp(rsdp, "RSD PTR ", 8) != 0 || !checksum_ok(rsdp, 20))
        return -1;
    acpi.rsdp = rsdp_addr;
    acpi.revision = rsdp[15];
    memcpy(acpi.oem, rsdp + 9, 6);
    if (acpi.revision >= 2 && checksum_ok(rsdp, ld32(rsdp + 20)))
        xsdt = table_at(ld64(rsdp + 24));
    if (!xsdt)
        rsdt = table_at(ld32(rsdp + 16));
    if (!xsdt && !rsdt)
        return -1;
    acpi.present = true;
    const uint8_t *t;
    if ((t = acpi_find_table("FACP"))) parse_fadt(t);
    if ((t = acpi_find_table("APIC"))) parse_madt(t);
    if ((t = acpi_find_table("MCFG"))) parse_mcfg(t);
    if ((t = acpi_find_table("HPET"))) acpi.hpet_addr = ld64(t + 44);
    if (!acpi.lapic_addr) acpi.lapic_addr = 0xfee00000;
    if (!acpi.ioapic_addr) acpi.ioapic_addr = 0xfec00000;
    if (!acpi.cpus) acpi.cpus = 1;
    return 0;
}
