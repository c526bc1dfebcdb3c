/* kernel/efi_boot.c: the firmware stage.  The only file that calls UEFI.
 *
 * efi_main (called by gnu-efi's self-relocating start-up code) collects what the kernel
 * needs from the firmware — memory map, ACPI RSDP, framebuffer — allocates the kernel
 * stack, calls ExitBootServices, switches to the new stack and enters kmain().  From then
 * on no firmware service is used.  The memory map is converted to our own compact form
 * only after ExitBootServices, because any allocation before it would change the map key. */
#include <efi.h>
#include <string.h>
#include "arch/x86_64/cpu.h"
#include "kernel/boot.h"

static struct bootinfo bootinfo;
static uint8_t efi_map_buf[48 * 1024];   /* raw UEFI descriptors; typically ~6 KiB */

extern void arch_switch_stack(uint64_t new_top, void (*fn)(struct bootinfo *), struct bootinfo *arg)
    __attribute__((noreturn));

static int guid_eq(const EFI_GUID *a, const EFI_GUID *b) { return memcmp(a, b, sizeof *a) == 0; }

static void find_rsdp(EFI_SYSTEM_TABLE *st)
{
    EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
    for (UINTN i = 0; i < st->NumberOfTableEntries; i++) {
        EFI_CONFIGURATION_TABLE *t = &st->ConfigurationTable[i];
        if (guid_eq(&t->VendorGuid, &acpi20)) {
            bootinfo.rsdp = (uint64_t)(uintptr_t)t->VendorTable;
            return;
        }
        if (guid_eq(&t->VendorGuid, &acpi10) && !bootinfo.rsdp)
            bootinfo.rsdp = (uint64_t)(uintptr_t)t->VendorTable;
    }
}

static void find_framebuffer(EFI_BOOT_SERVICES *bs)
{
    EFI_GUID gop_guid = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;
    EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = NULL;
    if (bs->LocateProtocol(&gop_guid, NULL, (void **)&gop) != EFI_SUCCESS || !gop || !gop->Mode)
        return;
    bootinfo.fb.base = gop->Mode->FrameBufferBase;
    bootinfo.fb.size = gop->Mode->FrameBufferSize;
    bootinfo.fb.width = gop->Mode->Info->HorizontalResolution;
    bootinfo.fb.height = gop->Mode->Info->VerticalResolution;
    bootinfo.fb.pitch = gop->Mode->Info->PixelsPerScanLine;
}

static uint32_t kind_of(uint32_t efi_type)
{
    switch (efi_type) {
    case EfiConventionalMemory:
        return MEM_USABLE;
    case EfiBootServicesCode:
    case EfiBootServicesData:
        return MEM_BOOT;
    case EfiLoaderCode:
    case EfiLoaderData:
        return MEM_KERNEL;
    case EfiACPIReclaimMemory:
        return MEM_ACPI;
    case EfiMemoryMappedIO:
    case EfiMemoryMappedIOPortSpace:
        return MEM_MMIO;
    default:
        return MEM_FIRMWARE;
    }
}

/* Convert the raw map, merging neighbours of the same kind so the table stays small. */
static void convert_map(UINTN size, UINTN desc_size)
{
    size_t n = 0;
    for (UINTN off = 0; off + desc_size <= size; off += desc_size) {
        EFI_MEMORY_DESCRIPTOR *d = (EFI_MEMORY_DESCRIPTOR *)(efi_map_buf + off);
        uint32_t kind = kind_of(d->Type);
        if (n > 0) {
            struct mem_region *p = &bootinfo.map[n - 1];
            if (p->kind == kind && p->efi_type == d->Type &&
                p->base + p->pages * 4096 == d->PhysicalStart) {
                p->pages += d->NumberOfPages;
                continue;
            }
        }
        if (n == BOOT_MAX_REGIONS)
            break; /* the rest is ignored: better fewer pages than a corrupt table */
        bootinfo.map[n++] = (struct mem_region){ d->PhysicalStart, d->NumberOfPages, kind, d->Type };
    }
    bootinfo.map_count = n;
}

/* Hook for measurements that need the firmware's own drivers (see drivers/nvme and fs
 * benchmarks); weak so the kernel links without them. */
__attribute__((weak)) void efi_firmware_bench(EFI_SYSTEM_TABLE *st, struct fw_bench *out)
{
    (void)st;
    (void)out;
}

/* The same for the FAT benchmark (kernel/efi_fatbench.c): the firmware's file system. */
__attribute__((weak)) void efi_firmware_fat_bench(EFI_SYSTEM_TABLE *st, struct fw_bench *out)
{
    (void)st;
    (void)out;
}

/* Called by gnu-efi's crt0 with the SysV convention (it converts from the firmware's). */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
    bootinfo.tsc_entry = rdtsc();
    EFI_BOOT_SERVICES *bs = st->BootServices;

    EFI_GUID lip_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
    EFI_LOADED_IMAGE *li = NULL;
    if (bs->HandleProtocol(image, &lip_guid, (void **)&li) == EFI_SUCCESS && li) {
        bootinfo.image_base = (uint64_t)(uintptr_t)li->ImageBase;
        bootinfo.image_size = li->ImageSize;
    }
    /* The firmware's watchdog would reset the machine after 5 minutes. */
    bs->SetWatchdogTimer(0, 0, 0, NULL);
    find_rsdp(st);
    find_framebuffer(bs);
    uint64_t b0 = rdtsc();
    efi_firmware_bench(st, &bootinfo.bench);
    efi_firmware_fat_bench(st, &bootinfo.bench);
    bootinfo.tsc_bench = rdtsc() - b0;

    EFI_PHYSICAL_ADDRESS stack = 0;
    if (bs->AllocatePages(AllocateAnyPages, EfiLoaderData, BOOT_STACK_PAGES + 1, &stack) != EFI_SUCCESS) {
        st->ConOut->OutputString(st->ConOut, L"VELOCITY-OS: cannot allocate the kernel stack\r\n");
        return EFI_OUT_OF_RESOURCES;
    }
    bootinfo.stack_base = stack;

    /* GetMemoryMap + ExitBootServices: the key goes stale if anything allocates in
     * between (firmware timers may), so retry a few times. */
    for (int attempt = 0; attempt < 8; attempt++) {
        UINTN size = sizeof efi_map_buf, key = 0, desc_size = 0;
        UINT32 desc_ver = 0;
        if (bs->GetMemoryMap(&size, (EFI_MEMORY_DESCRIPTOR *)efi_map_buf, &key, &desc_size,
                             &desc_ver) != EFI_SUCCESS)
            continue;
        if (bs->ExitBootServices(image, key) == EFI_SUCCESS) {
            bootinfo.tsc_ebs = rdtsc();
            irq_disable();
            convert_map(size, desc_size);
            arch_switch_stack(stack + (BOOT_STACK_PAGES + 1) * 4096, kmain, &bootinfo);
        }
    }
    st->ConOut->OutputString(st->ConOut, L"VELOCITY-OS: ExitBootServices failed\r\n");
    return EFI_ABORTED;
}
