/* tests/pci/test_pci_names.c: the generated name table (tools/pciids) against pci.ids.
 *
 *   test_pci_names [PCI_IDS [SELECT]]
 *
 * Reads pci.ids independently of the generator (a deliberately plain parser) and checks:
 * every class, subclass and prog-if name comes back exactly; every vendor pci.ids lists
 * `vendors-with-devices` or more devices for is named, exactly; any vendor or device name
 * the table has is exact; the devices of every machine QEMU builds in our tests are named;
 * unknown ids say so; a short buffer truncates safely. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drivers/pci/pci_names.h"
#include "tests/check.h"

static int hexn(const char *s, int n, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return 0;
        *v = *v * 16 + (unsigned)d;
    }
    return s[n] == ' ' && s[n + 1] == ' ';
}

static int min_devices(const char *select)
{
    FILE *f = fopen(select, "r");
    char line[256];
    int n = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, " vendors-with-devices %d", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    const char *ids = argc > 1 ? argv[1] : "/usr/share/misc/pci.ids";
    const char *select = argc > 2 ? argv[2] : "tools/pciids/select.txt";
    int want_min = min_devices(select);
    check(want_min > 0, "select file names vendors-with-devices");
    FILE *f = fopen(ids, "r");
    if (!check(f != NULL, "%s opens", ids))
        return 1;

    char line[1024], buf[256];
    unsigned cls = 0, sub = 0, vendor = 0, id;
    int in_class = 0;
    long classes = 0, class_bad = 0, vendors_named = 0, vendors_wrong = 0, devices_named = 0, devices_wrong = 0;
    long vendor_devices = 0;
    char vendor_name[256] = "", first_bad[400] = "";
    static int devcount[65536];
    /* Pass 1: devices per vendor. */
    while (fgets(line, sizeof line, f))
        if (line[0] == '\t' && line[1] != '\t' && hexn(line + 1, 4, &id) && !in_class)
            devcount[vendor]++;
        else if (line[0] != '\t' && line[0] != '#' && hexn(line, 4, &id))
            vendor = id;
        else if (line[0] == 'C' && line[1] == ' ')
            in_class = 1;
    rewind(f);
    in_class = 0;
    (void)vendor_devices;

    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == '#' || line[0] == 0)
            continue;
        bool ok;
        if (line[0] == 'C' && line[1] == ' ' && hexn(line + 2, 2, &cls)) {
            in_class = 1;
            ok = pci_name_class((uint8_t)cls, buf, sizeof buf) && !strcmp(buf, line + 6);
        } else if (in_class && line[0] == '\t' && line[1] != '\t' && hexn(line + 1, 2, &sub)) {
            ok = pci_name_subclass((uint8_t)cls, (uint8_t)sub, buf, sizeof buf) && !strcmp(buf, line + 5);
        } else if (in_class && line[0] == '\t' && line[1] == '\t' && hexn(line + 2, 2, &id)) {
            ok = pci_name_progif((uint8_t)cls, (uint8_t)sub, (uint8_t)id, buf, sizeof buf) && !strcmp(buf, line + 6);
        } else if (!in_class && line[0] != '\t' && hexn(line, 4, &vendor)) {
            snprintf(vendor_name, sizeof vendor_name, "%s", line + 6);
            bool have = pci_name_vendor((uint16_t)vendor, buf, sizeof buf);
            vendors_named += have;
            if ((have && strcmp(buf, vendor_name)) || (!have && devcount[vendor] >= want_min)) {
                if (!vendors_wrong++)
                    snprintf(first_bad, sizeof first_bad, "vendor %04x: %s, want %s", vendor, have ? buf : "(none)", vendor_name);
            }
            continue;
        } else if (!in_class && line[0] == '\t' && line[1] != '\t' && hexn(line + 1, 4, &id)) {
            if (pci_name_device((uint16_t)vendor, (uint16_t)id, buf, sizeof buf)) {
                devices_named++;
                if (strcmp(buf, line + 7) && !devices_wrong++)
                    snprintf(first_bad, sizeof first_bad, "device %04x:%04x: %s, want %s", vendor, id, buf, line + 7);
            }
            continue;
        } else {
            continue;
        }
        classes++;
        if (!ok && !class_bad++)
            snprintf(first_bad, sizeof first_bad, "class line \"%s\": got \"%s\"", line, buf);
    }
    fclose(f);
    check(classes > 200 && class_bad == 0, "all %ld class, subclass and prog-if names exact%s%s", classes,
          class_bad ? ": " : "", class_bad ? first_bad : "");
    check(vendors_wrong == 0, "vendor names exact, and every vendor with %d+ devices named (%ld named)%s%s", want_min,
          vendors_named, vendors_wrong ? ": " : "", vendors_wrong ? first_bad : "");
    check(devices_wrong == 0 && devices_named > 100, "device names exact (%ld named)%s%s", devices_named,
          devices_wrong ? ": " : "", devices_wrong ? first_bad : "");

    /* The functions of the machines tests/qemu/test_pci.py builds (pcie-pci-bridge,
     * 1b36:000e, is not in pci.ids 2023-04, and lspci names it numerically too). */
    static const struct { uint16_t v, d; const char *name; } qemu[] = {
        { 0x1b36, 0x0010, "QEMU NVM Express Controller" }, { 0x8086, 0x29c0, "82G33/G31/P35/P31 Express DRAM Controller" },
        { 0x8086, 0x2918, "82801IB (ICH9) LPC Interface Controller" }, { 0x8086, 0x2922, "82801IR/IO/IH (ICH9R/DO/DH) 6 port SATA Controller [AHCI mode]" },
        { 0x8086, 0x2930, "82801I (ICH9 Family) SMBus Controller" }, { 0x1b36, 0x000c, "QEMU PCIe Root port" },
        { 0x1b36, 0x000d, "QEMU XHCI Host Controller" }, { 0x1af4, 0x1000, "Virtio network device" },
        { 0x1af4, 0x1005, "Virtio RNG" }, { 0x1af4, 0x1002, "Virtio memory balloon" },
        { 0x1af4, 0x1110, "Inter-VM shared memory" }, { 0x8086, 0x1237, "440FX - 82441FX PMC [Natoma]" },
        { 0x8086, 0x7000, "82371SB PIIX3 ISA [Natoma/Triton II]" }, { 0x8086, 0x7010, "82371SB PIIX3 IDE [Natoma/Triton II]" },
        { 0x8086, 0x7113, "82371AB/EB/MB PIIX4 ACPI" }, { 0x1b36, 0x0001, "QEMU PCI-PCI bridge" },
        { 0x8086, 0x100e, "82540EM Gigabit Ethernet Controller" }, { 0x10ec, 0x8139, "RTL-8100/8101L/8139 PCI Fast Ethernet Adapter" },
    };
    for (size_t i = 0; i < sizeof qemu / sizeof qemu[0]; i++) {
        bool have = pci_name_device(qemu[i].v, qemu[i].d, buf, sizeof buf);
        check(have && !strcmp(buf, qemu[i].name), "QEMU device %04x:%04x named \"%s\" (got \"%s\")", qemu[i].v,
              qemu[i].d, qemu[i].name, buf);
    }

    check(!pci_name_vendor(0x1234, buf, sizeof buf) && buf[0] == 0, "unknown vendor: not found, empty buffer");
    check(!pci_name_device(0x8086, 0xfffe, buf, sizeof buf), "unknown device: not found");
    check(!pci_name_subclass(0x01, 0x7f, buf, sizeof buf), "unknown subclass: not found");
    char small[8];
    memset(small, 'x', sizeof small);
    check(pci_name_vendor(0x1af4, small, 6) && !strcmp(small, "Red H") && small[6] == 'x',
          "a short buffer is truncated and terminated in bounds");
    return check_exit_status();
}
