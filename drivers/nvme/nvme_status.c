/* NVMe completion status decoding; see nvme_status.h.  Tables are (code, text) pairs per
 * status code type, names as in the base specification (§4.6.1) and the NVM command set. */
#include "drivers/nvme/nvme_status.h"
#include <stdio.h>
#include <string.h>
#include "lib/blkdev.h"

/* Each table is one string of entries: the code as one byte, then its NUL-terminated name.
 * (An array of pointers would cost a pointer and a load-time relocation per name.) */
#define E(code, name) code name "\0"

static const char generic_codes[] =
    E("\x00", "success")
    E("\x01", "invalid command opcode")
    E("\x02", "invalid field in command")
    E("\x03", "command ID conflict")
    E("\x04", "data transfer error")
    E("\x05", "commands aborted due to power loss notification")
    E("\x06", "internal error")
    E("\x07", "command abort requested")
    E("\x08", "command aborted due to SQ deletion")
    E("\x09", "command aborted due to failed fused command")
    E("\x0a", "command aborted due to missing fused command")
    E("\x0b", "invalid namespace or format")
    E("\x0c", "command sequence error")
    E("\x0d", "invalid SGL segment descriptor")
    E("\x0e", "invalid number of SGL descriptors")
    E("\x0f", "data SGL length invalid")
    E("\x10", "metadata SGL length invalid")
    E("\x11", "SGL descriptor type invalid")
    E("\x12", "invalid use of controller memory buffer")
    E("\x13", "PRP offset invalid")
    E("\x14", "atomic write unit exceeded")
    E("\x15", "operation denied")
    E("\x16", "SGL offset invalid")
    E("\x18", "host identifier inconsistent format")
    E("\x19", "keep alive timer expired")
    E("\x1a", "keep alive timeout invalid")
    E("\x1b", "command aborted due to preempt and abort")
    E("\x1c", "sanitize failed")
    E("\x1d", "sanitize in progress")
    E("\x1e", "SGL data block granularity invalid")
    E("\x1f", "command not supported for queue in CMB")
    E("\x20", "namespace is write protected")
    E("\x21", "command interrupted")
    E("\x22", "transient transport error")
    E("\x80", "LBA out of range")
    E("\x81", "capacity exceeded")
    E("\x82", "namespace not ready")
    E("\x83", "reservation conflict")
    E("\x84", "format in progress");

static const char cmd_codes[] =
    E("\x00", "completion queue invalid")
    E("\x01", "invalid queue identifier")
    E("\x02", "invalid queue size")
    E("\x03", "abort command limit exceeded")
    E("\x05", "asynchronous event request limit exceeded")
    E("\x06", "invalid firmware slot")
    E("\x07", "invalid firmware image")
    E("\x08", "invalid interrupt vector")
    E("\x09", "invalid log page")
    E("\x0a", "invalid format")
    E("\x0b", "firmware activation requires conventional reset")
    E("\x0c", "invalid queue deletion")
    E("\x0d", "feature identifier not saveable")
    E("\x0e", "feature not changeable")
    E("\x0f", "feature not namespace specific")
    E("\x10", "firmware activation requires NVM subsystem reset")
    E("\x11", "firmware activation requires controller level reset")
    E("\x12", "firmware activation requires maximum time violation")
    E("\x13", "firmware activation prohibited")
    E("\x14", "overlapping range")
    E("\x15", "namespace insufficient capacity")
    E("\x16", "namespace identifier unavailable")
    E("\x18", "namespace already attached")
    E("\x19", "namespace is private")
    E("\x1a", "namespace not attached")
    E("\x1b", "thin provisioning not supported")
    E("\x1c", "controller list invalid")
    E("\x80", "conflicting attributes")
    E("\x81", "invalid protection information")
    E("\x82", "attempted write to read only range");

static const char media_codes[] =
    E("\x80", "write fault")
    E("\x81", "unrecovered read error")
    E("\x82", "end-to-end guard check error")
    E("\x83", "end-to-end application tag check error")
    E("\x84", "end-to-end reference tag check error")
    E("\x85", "compare failure")
    E("\x86", "access denied")
    E("\x87", "deallocated or unwritten logical block");

static const char path_codes[] =
    E("\x00", "internal path error")
    E("\x01", "asymmetric access persistent loss")
    E("\x02", "asymmetric access inaccessible")
    E("\x03", "asymmetric access transition")
    E("\x60", "controller pathing error")
    E("\x70", "host pathing error")
    E("\x71", "command aborted by host");

#define TABLE(t) t, sizeof t - 1

static const char *lookup(const char *t, size_t n, uint8_t sc)
{
    for (const char *p = t; p < t + n; p += strlen(p + 1) + 2)
        if ((uint8_t)p[0] == sc)
            return p + 1;
    return NULL;
}

struct nvme_status nvme_status_decode(uint16_t status)
{
    struct nvme_status s;
    s.sc = (uint8_t)(status & 0xff);
    s.sct = (uint8_t)((status >> 8) & 7);
    s.crd = (uint8_t)((status >> 11) & 3);
    s.more = (status >> 13) & 1;
    s.dnr = (status >> 14) & 1;
    return s;
}

const char *nvme_sct_str(uint8_t sct)
{
    switch (sct) {
    case NVME_SCT_GENERIC: return "generic status";
    case NVME_SCT_CMD: return "command specific status";
    case NVME_SCT_MEDIA: return "media error";
    case NVME_SCT_PATH: return "path error";
    case NVME_SCT_VENDOR: return "vendor specific status";
    }
    return "reserved status type";
}

const char *nvme_status_str(uint8_t sct, uint8_t sc)
{
    const char *s = NULL;
    switch (sct) {
    case NVME_SCT_GENERIC: s = lookup(TABLE(generic_codes), sc); break;
    case NVME_SCT_CMD: s = lookup(TABLE(cmd_codes), sc); break;
    case NVME_SCT_MEDIA: s = lookup(TABLE(media_codes), sc); break;
    case NVME_SCT_PATH: s = lookup(TABLE(path_codes), sc); break;
    }
    return s ? s : "reserved or vendor code";
}

char *nvme_status_format(uint16_t status, char *buf, size_t n)
{
    struct nvme_status s = nvme_status_decode(status);
    if (n == 0)
        return buf;
    if (s.sct == NVME_SCT_GENERIC && s.sc == NVME_SC_SUCCESS && !s.dnr && !s.more) {
        snprintf(buf, n, "success");
        return buf;
    }
    snprintf(buf, n, "%s: %s (SCT %xh SC %02xh%s%s)", nvme_sct_str(s.sct),
             nvme_status_str(s.sct, s.sc), s.sct, s.sc, s.dnr ? ", do not retry" : "",
             s.more ? ", more in error log" : "");
    return buf;
}

int nvme_status_blk(uint16_t status)
{
    struct nvme_status s = nvme_status_decode(status);
    if (s.sct == NVME_SCT_GENERIC) {
        switch (s.sc) {
        case NVME_SC_SUCCESS: return BLK_OK;
        case NVME_SC_LBA_RANGE: return BLK_ERANGE;
        case NVME_SC_INVALID_FIELD: return BLK_EINVAL;
        case NVME_SC_NS_WRITE_PROTECTED: return BLK_EROFS;
        }
    }
    if (s.sct == NVME_SCT_CMD && s.sc == 0x82)
        return BLK_EROFS;
    return BLK_EIO;
}
