/* kernel/efi_fatbench.c: the firmware side of the FAT benchmark.  Implements the weak hook
 * efi_firmware_fat_bench() of efi_boot.c, run before ExitBootServices while the firmware's
 * own FAT driver (EFI_SIMPLE_FILE_SYSTEM_PROTOCOL over its NVMe driver) still works.
 *
 * It runs only when QEMU passes the fw_cfg file "opt/velocity/fatbench" (the bench script
 * does), whose contents name the file to read, e.g. "/BENCH.BIN".  It opens that file on
 * the first file system whose device path has an NVMe namespace node and reads it into
 * one buffer, whole in one EFI_FILE_PROTOCOL.Read call and in 1 MiB Read calls - the two
 * read sizes `fsbench` uses for ours - storing the median of five timed passes of each in
 * fw_bench.fatfile_ns / fatfile_1m_ns (and the size in fatfile_bytes).
 * Time comes from the TSC, calibrated here against the firmware's Stall(). */
#include <efi.h>
#include <stdbool.h>
#include <string.h>
#include "arch/x86_64/cpu.h"
#include "kernel/boot.h"
#include "lib/median.h"

/* QEMU fw_cfg (docs/specs/fw_cfg.rst): selector and data ports, and the file directory
 * whose entries are { be32 size, be16 select, be16 reserved, char name[56] }. */
enum fw_cfg_port { FW_CFG_SELECTOR = 0x510, FW_CFG_DATA = 0x511 };
enum fw_cfg_key { FW_CFG_SIGNATURE = 0x0000, FW_CFG_FILE_DIR = 0x0019 };
enum { FWF_SIZE = 0, FWF_SELECT = 4, FWF_NAME = 8, FWF_NAME_LEN = 56, FWF_ENTRY = 64 };
static const char bench_file[] = "opt/velocity/fatbench";

enum { DP_MSG_NVME_NAMESPACE = 0x17 }; /* messaging device path subtype (UEFI 2.x §10.3.4) */
enum { RUNS = 5, PATH_MAX16 = 128, MAX_FILE = 256 << 20 };

static void fw_cfg_read(void *buf, uint32_t n)
{
    uint8_t *p = buf;
    for (uint32_t i = 0; i < n; i++)
        p[i] = inb(FW_CFG_DATA);
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

/* The fw_cfg file's contents as a UEFI path ('/' becomes '\'); false when absent. */
static bool bench_path(CHAR16 *out)
{
    char sig[4];
    outw(FW_CFG_SELECTOR, FW_CFG_SIGNATURE);
    fw_cfg_read(sig, 4);
    if (memcmp(sig, "QEMU", 4) != 0)
        return false;
    uint8_t cnt[4], e[FWF_ENTRY];
    outw(FW_CFG_SELECTOR, FW_CFG_FILE_DIR);
    fw_cfg_read(cnt, 4);
    for (uint32_t i = 0, n = be32(cnt); i < n && i < 4096; i++) {
        fw_cfg_read(e, sizeof e);
        if (strncmp((const char *)e + FWF_NAME, bench_file, FWF_NAME_LEN) != 0)
            continue;
        uint32_t size = be32(e + FWF_SIZE);
        if (size == 0 || size >= PATH_MAX16)
            return false;
        char path[PATH_MAX16];
        outw(FW_CFG_SELECTOR, (uint16_t)(e[FWF_SELECT] << 8 | e[FWF_SELECT + 1]));
        fw_cfg_read(path, size);
        uint32_t k = 0;
        for (uint32_t j = 0; j < size && path[j] && path[j] != '\n'; j++)
            out[k++] = path[j] == '/' ? L'\\' : (CHAR16)(uint8_t)path[j];
        out[k] = 0;
        return k > 0;
    }
    return false;
}

static bool on_nvme(EFI_BOOT_SERVICES *bs, EFI_HANDLE h)
{
    EFI_GUID dp_guid = EFI_DEVICE_PATH_PROTOCOL_GUID;
    EFI_DEVICE_PATH_PROTOCOL *dp = NULL;
    if (bs->HandleProtocol(h, &dp_guid, (void **)&dp) != EFI_SUCCESS || !dp)
        return false;
    for (int guard = 0; guard < 64 && !IsDevicePathEnd(dp); guard++, dp = NextDevicePathNode(dp)) {
        if (DevicePathType(dp) == MESSAGING_DEVICE_PATH && DevicePathSubType(dp) == DP_MSG_NVME_NAMESPACE)
            return true;
        if (DevicePathNodeLength(dp) < 4)
            return false;
    }
    return false;
}

/* The bench file, opened on the NVMe disk's file system, or NULL. */
static EFI_FILE_HANDLE open_on_nvme(EFI_BOOT_SERVICES *bs, CHAR16 *path)
{
    EFI_GUID sfs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
    EFI_HANDLE *handles = NULL;
    UINTN n = 0;
    EFI_FILE_HANDLE file = NULL;
    if (bs->LocateHandleBuffer(ByProtocol, &sfs_guid, NULL, &n, &handles) != EFI_SUCCESS)
        return NULL;
    for (UINTN i = 0; i < n && !file; i++) {
        EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs = NULL;
        EFI_FILE_HANDLE root = NULL;
        if (!on_nvme(bs, handles[i]) ||
            bs->HandleProtocol(handles[i], &sfs_guid, (void **)&fs) != EFI_SUCCESS || !fs ||
            fs->OpenVolume(fs, &root) != EFI_SUCCESS)
            continue;
        if (root->Open(root, &file, path, EFI_FILE_MODE_READ, 0) != EFI_SUCCESS)
            file = NULL;
        root->Close(root);
    }
    bs->FreePool(handles);
    return file;
}

/* Median TSC ticks of RUNS passes reading FILE's SIZE bytes from the start in CHUNK-byte
 * Read calls; 0 if a read fails or comes up short. */
static uint64_t timed_read(EFI_FILE_HANDLE file, uint8_t *buf, UINT64 size, UINT64 chunk)
{
    uint64_t t[RUNS];
    for (int k = 0; k < RUNS; k++) {
        uint64_t t0 = rdtsc();
        if (file->SetPosition(file, 0) != EFI_SUCCESS)
            return 0;
        for (UINT64 off = 0; off < size;) {
            UINTN n = size - off < chunk ? size - off : chunk, got = n;
            if (file->Read(file, &got, buf + off) != EFI_SUCCESS || got != n)
                return 0;
            off += n;
        }
        t[k] = rdtsc() - t0;
    }
    return median_u64(t, RUNS);
}

void efi_firmware_fat_bench(EFI_SYSTEM_TABLE *st, struct fw_bench *out)
{
    CHAR16 path[PATH_MAX16];
    if (!bench_path(path))
        return;
    EFI_BOOT_SERVICES *bs = st->BootServices;
    EFI_FILE_HANDLE file = open_on_nvme(bs, path);
    if (!file)
        return;
    UINT64 size = 0;
    if (file->SetPosition(file, ~0ull) != EFI_SUCCESS || file->GetPosition(file, &size) != EFI_SUCCESS ||
        size == 0 || size > MAX_FILE) {
        file->Close(file);
        return;
    }
    UINTN pages = (size + 4095) / 4096;
    EFI_PHYSICAL_ADDRESS pa = 0;
    if (bs->AllocatePages(AllocateAnyPages, EfiLoaderData, pages, &pa) != EFI_SUCCESS) {
        file->Close(file);
        return;
    }
    void *buf = (void *)(uintptr_t)pa;
    memset(buf, 0, pages * 4096); /* touch the buffer before timing */

    uint64_t c0 = rdtsc();
    bs->Stall(10000);   /* 10 ms */
    uint64_t tsc_hz = (rdtsc() - c0) * 100;

    uint64_t whole = timed_read(file, buf, size, size), chunked = timed_read(file, buf, size, 1 << 20);
    file->Close(file);
    bs->FreePages(pa, pages);
    if (!whole || !chunked)
        return;
    out->fatfile_ns = whole * 1000 / (tsc_hz / 1000000);
    out->fatfile_1m_ns = chunked * 1000 / (tsc_hz / 1000000);
    out->fatfile_bytes = size;
}
