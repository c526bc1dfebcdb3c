/* NVMe completion status decoding; see nvme_status.h.  Tables are (code, text) pairs per
 * status code type, names as in the base specification (§4.6.1) and the NVM command set. */
#include "drivers/nvme/nvme_status.h"
#include <stdio.h>
#include "lib/blkdev.h"

struct code_name {
    uint8_t sc;
    const char *name;
};

static const struct code_name generic_codes[] = {
    { 0x00, "success" },
    { 0x01, "invalid command opcode" },
    { 0x02, "invalid field in command" },
    { 0x03, "command ID conflict" },
    { 0x04, "data transfer error" },
    { 0x05, "commands aborted due to power loss notification" },
    { 0x06, "internal error" },
    { 0x07, "command abort requested" },
    { 0x08, "command aborted due to SQ deletion" },
    { 0x09, "command aborted due to failed fused command" },
    { 0x0a, "command aborted due to missing fused command" },
    { 0x0b, "invalid namespace or format" },
    { 0x0c, "command sequence error" },
    { 0x0d, "invalid SGL segment descriptor" },
    { 0x0e, "invalid number of SGL descriptors" },
    { 0x0f, "data SGL length invalid" },
    { 0x10, "metadata SGL length invalid" },
    { 0x11, "SGL descriptor type invalid" },
    { 0x12, "invalid use of controller memory buffer" },
    { 0x13, "PRP offset invalid" },
    { 0x14, "atomic write unit exceeded" },
    { 0x15, "operation denied" },
    { 0x16, "SGL offset invalid" },
    { 0x18, "host identifier inconsistent format" },
    { 0x19, "keep alive timer expired" },
    { 0x1a, "keep alive timeout invalid" },
    { 0x1b, "command aborted due to preempt and abort" },
    { 0x1c, "sanitize failed" },
    { 0x1d, "sanitize in progress" },
    { 0x1e, "SGL data block granularity invalid" },
    { 0x1f, "command not supported for queue in CMB" },
    { 0x20, "namespace is write protected" },
    { 0x21, "command interrupted" },
    { 0x22, "transient transport error" },
    { 0x80, "LBA out of range" },
    { 0x81, "capacity exceeded" },
    { 0x82, "namespace not ready" },
    { 0x83, "reservation conflict" },
    { 0x84, "format in progress" },
};

static const struct code_name cmd_codes[] = {
    { 0x00, "completion queue invalid" },
    { 0x01, "invalid queue identifier" },
    { 0x02, "invalid queue size" },
    { 0x03, "abort command limit exceeded" },
    { 0x05, "asynchronous event request limit exceeded" },
    { 0x06, "invalid firmware slot" },
    { 0x07, "invalid firmware image" },
    { 0x08, "invalid interrupt vector" },
    { 0x09, "invalid log page" },
    { 0x0a, "invalid format" },
    { 0x0b, "firmware activation requires conventional reset" },
    { 0x0c, "invalid queue deletion" },
    { 0x0d, "feature identifier not saveable" },
    { 0x0e, "feature not changeable" },
    { 0x0f, "feature not namespace specific" },
    { 0x10, "firmware activation requires NVM subsystem reset" },
    { 0x11, "firmware activation requires controller level reset" },
    { 0x12, "firmware activation requires maximum time violation" },
    { 0x13, "firmware activation prohibited" },
    { 0x14, "overlapping range" },
    { 0x15, "namespace insufficient capacity" },
    { 0x16, "namespace identifier unavailable" },
    { 0x18, "namespace already attached" },
    { 0x19, "namespace is private" },
    { 0x1a, "namespace not attached" },
    { 0x1b, "thin provisioning not supported" },
    { 0x1c, "controller list invalid" },
    { 0x80, "conflicting attributes" },
    { 0x81, "invalid protection information" },
    { 0x82, "attempted write to read only range" },
};

static const struct code_name media_codes[] = {
    { 0x80, "write fault" },
    { 0x81, "unrecovered read error" },
    { 0x82, "end-to-end guard check error" },
    { 0x83, "end-to-end application tag check error" },
    { 0x84, "end-to-end reference tag check error" },
    { 0x85, "compare failure" },
    { 0x86, "access denied" },
    { 0x87, "deallocated or unwritten logical block" },
};

static const struct code_name path_codes[] = {
    { 0x00, "internal path error" },
    { 0x01, "asymmetric access persistent loss" },
    { 0x02, "asymmetric access inaccessible" },
    { 0x03, "asymmetric access transition" },
    { 0x60, "controller pathing error" },
    { 0x70, "host pathing error" },
    { 0x71, "command aborted by host" },
};

#define TABLE(t) t, sizeof t / sizeof t[0]

static const char *lookup(const struct code_name *t, size_t n, uint8_t sc)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].sc == sc)
            return t[i].name;
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
