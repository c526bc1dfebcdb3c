/* kernel/efi_bench.c: the firmware side of the NVMe benchmark.  Implements the weak hook
 * efi_firmware_bench() of efi_boot.c, which runs before ExitBootServices while the
 * firmware's own NVMe driver still owns the disk.
 *
 * It runs only when QEMU passes the fw_cfg file "opt/velocity/bench" (`make bench` does),
 * so ordinary boots pay nothing.  It finds the EFI_BLOCK_IO_PROTOCOL instance of the NVMe
 * namespace (a whole-disk handle whose device path has an NVMe namespace node), reads
 * sequentially at 1 MiB, 64 KiB and 4 KiB and randomly at 4 KiB, and stores the median of
 * five runs per figure in struct fw_bench (slots: enum nvme_fw_bench_slot).  It also
 * stores a hash of the first 64 KiB, so the kernel can check the firmware read the same
 * disk.  Time comes from the TSC, calibrated here against the firmware's Stall(). */
#include <efi.h>
#include <string.h>
#include "arch/x86_64/cpu.h"
#include "drivers/nvme/nvme.h"
#include "kernel/boot.h"
#include "lib/median.h"

/* QEMU fw_cfg (docs/specs/fw_cfg.rst): a selector port and a data port. */
enum fw_cfg_port { FW_CFG_SELECTOR = 0x510, FW_CFG_DATA = 0x511 };
enum fw_cfg_key { FW_CFG_SIGNATURE = 0x0000, FW_CFG_FILE_DIR = 0x0019 };
enum { FW_CFG_FILE_NAME = 56, FW_CFG_FILE_ENTRY = 64 };
static const char bench_file[] = "opt/velocity/bench";

enum { DP_MSG_NVME_NAMESPACE = 0x17 }; /* messaging device path subtype (UEFI 2.x §10.3.4) */
enum { RUNS = 5, KIB = 1024, MIB = 1024 * 1024 };

static void fw_cfg_read(void *buf, uint32_t n)
{
    uint8_t *p = buf;
    for (uint32_t i = 0; i < n; i++)
        p[i] = inb(FW_CFG_DATA);
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

static int bench_requested(void)
{
    char sig[4];
    outw(FW_CFG_SELECTOR, FW_CFG_SIGNATURE);
    fw_cfg_read(sig, 4);
    if (memcmp(sig, "QEMU", 4) != 0)
        return 0;
    uint8_t cnt[4], e[FW_CFG_FILE_ENTRY];
    outw(FW_CFG_SELECTOR, FW_CFG_FILE_DIR);
    fw_cfg_read(cnt, 4);
    for (uint32_t i = 0, n = be32(cnt); i < n && i < 4096; i++) {
        fw_cfg_read(e, sizeof e);
        if (strncmp((const char *)e + 8, bench_file, FW_CFG_FILE_NAME) == 0)
            return 1;
    }
    return 0;
}

static int is_nvme_disk(EFI_BOOT_SERVICES *bs, EFI_HANDLE h)
{
    EFI_GUID dp_guid = EFI_DEVICE_PATH_PROTOCOL_GUID;
    EFI_DEVICE_PATH_PROTOCOL *dp = NULL;
    if (bs->HandleProtocol(h, &dp_guid, (void **)&dp) != EFI_SUCCESS || !dp)
        return 0;
    for (int guard = 0; guard < 64 && !IsDevicePathEnd(dp); guard++, dp = NextDevicePathNode(dp)) {
        if (DevicePathType(dp) == MESSAGING_DEVICE_PATH && DevicePathSubType(dp) == DP_MSG_NVME_NAMESPACE)
            return 1;
        if (DevicePathNodeLength(dp) < 4)
            return 0;
    }
    return 0;
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

/* One run: COUNT reads of SIZE bytes, sequential from LBA 0 or random; TSC cycles or 0. */
static uint64_t run(EFI_BLOCK_IO *bio, void *buf, uint32_t size, uint32_t count, int random)
{
    uint32_t bs = bio->Media->BlockSize;
    uint64_t units = (bio->Media->LastBlock + 1) * bs / size, rnd = 12345;
    uint64_t t0 = rdtsc();
    for (uint32_t i = 0; i < count; i++) {
        uint64_t unit = random ? lcg(&rnd) % units : i % units;
        if (bio->ReadBlocks(bio, bio->Media->MediaId, unit * size / bs, size, buf) != EFI_SUCCESS)
            return 0;
    }
    return rdtsc() - t0;
}

void efi_firmware_bench(EFI_SYSTEM_TABLE *st, struct fw_bench *out)
{
    if (!bench_requested())
        return;
    EFI_BOOT_SERVICES *bs = st->BootServices;
    EFI_GUID bio_guid = EFI_BLOCK_IO_PROTOCOL_GUID;
    EFI_HANDLE *handles = NULL;
    UINTN n = 0;
    if (bs->LocateHandleBuffer(ByProtocol, &bio_guid, NULL, &n, &handles) != EFI_SUCCESS)
        return;
    EFI_BLOCK_IO *bio = NULL;
    for (UINTN i = 0; i < n && !bio; i++) {
        EFI_BLOCK_IO *b = NULL;
        if (bs->HandleProtocol(handles[i], &bio_guid, (void **)&b) == EFI_SUCCESS && b &&
            b->Media->MediaPresent && !b->Media->LogicalPartition && is_nvme_disk(bs, handles[i]) &&
            (b->Media->LastBlock + 1) * b->Media->BlockSize >= 16 * MIB)
            bio = b;
    }
    bs->FreePool(handles);
    if (!bio)
        return;
    EFI_PHYSICAL_ADDRESS pa = 0;
    if (bs->AllocatePages(AllocateAnyPages, EfiLoaderData, MIB / 4096, &pa) != EFI_SUCCESS)
        return;
    uint8_t *buf = (uint8_t *)(uintptr_t)pa;
    memset(buf, 0, MIB); /* touch the buffer before timing */

    uint64_t c0 = rdtsc();
    bs->Stall(10000);   /* 10 ms */
    uint64_t tsc_hz = (rdtsc() - c0) * 100;

    static const struct { int slot; uint32_t size, count; int random; } rows[] = {
        { NVME_FWB_SEQ_1M, MIB, 16, 0 },
        { NVME_FWB_SEQ_64K, 64 * KIB, 64, 0 },
        { NVME_FWB_SEQ_4K, 4 * KIB, 256, 0 },
        { NVME_FWB_RAND_4K, 4 * KIB, 500, 1 },
    };
    int ok = 1;
    for (unsigned r = 0; r < sizeof rows / sizeof rows[0] && ok; r++) {
        uint64_t t[RUNS];
        for (int k = 0; k < RUNS; k++)
            if (!(t[k] = run(bio, buf, rows[r].size, rows[r].count, rows[r].random)))
                ok = 0;
        out->blockio_ns[rows[r].slot] = median_u64(t, RUNS) * 1000 / (tsc_hz / 1000000);
        out->blockio_bytes[rows[r].slot] = (uint64_t)rows[r].size * rows[r].count;
    }
    if (ok && bio->ReadBlocks(bio, bio->Media->MediaId, 0, 64 * KIB, buf) == EFI_SUCCESS) {
        uint64_t h = 14695981039346656037ull;
        for (uint32_t i = 0; i < 64 * KIB; i++)
            h = (h ^ buf[i]) * 1099511628211ull;
        out->blockio_ns[NVME_FWB_CHECK] = h;
        out->blockio_bytes[NVME_FWB_CHECK] = 64 * KIB;
    }
    out->valid = ok;
    bs->FreePages(pa, MIB / 4096);
}
