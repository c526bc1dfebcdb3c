/* Host unit test of NVMe completion-status decoding (drivers/nvme/nvme_status.c). */
#include "drivers/nvme/nvme_spec.h"
#include "drivers/nvme/nvme_status.h"
#include "lib/blkdev.h"
#include "tests/check.h"

/* Status field from its parts (the CQE's dword 3 >> 17). */
static uint16_t sf(unsigned sct, unsigned sc, int more, int dnr)
{
    return (uint16_t)(sc | sct << 8 | (unsigned)more << 13 | (unsigned)dnr << 14);
}

int main(void)
{
    char buf[160];
    /* Field extraction from a raw dword 3: cid 0x1234, phase 1, SCT 2, SC 0x81, M, DNR. */
    uint32_t dw3 = 0x1234u | 1u << 16 | (uint32_t)sf(2, 0x81, 1, 1) << 17;
    CHECK_EQ_U64(NVME_CQE_CID(dw3), 0x1234, "cqe cid");
    CHECK_EQ_U64(NVME_CQE_PHASE(dw3), 1, "cqe phase");
    struct nvme_status s = nvme_status_decode(NVME_CQE_STATUS(dw3));
    CHECK_EQ_U64(s.sct, 2, "decode sct");
    CHECK_EQ_U64(s.sc, 0x81, "decode sc");
    CHECK_EQ_U64(s.more, 1, "decode more");
    CHECK_EQ_U64(s.dnr, 1, "decode dnr");
    s = nvme_status_decode((uint16_t)(3u << 11));
    CHECK_EQ_U64(s.crd, 3, "decode crd");

    CHECK_STR(nvme_status_format(0, buf, sizeof buf), "success", "format success");
    CHECK_STR(nvme_status_format(sf(2, 0x81, 0, 0), buf, sizeof buf),
              "media error: unrecovered read error (SCT 2h SC 81h)", "format unrecovered read");
    CHECK_STR(nvme_status_format(sf(2, 0x80, 1, 1), buf, sizeof buf),
              "media error: write fault (SCT 2h SC 80h, do not retry, more in error log)",
              "format write fault dnr more");
    CHECK_STR(nvme_status_format(sf(0, 0x80, 0, 1), buf, sizeof buf),
              "generic status: LBA out of range (SCT 0h SC 80h, do not retry)", "format lba range");
    CHECK_STR(nvme_status_format(sf(1, 0x01, 0, 1), buf, sizeof buf),
              "command specific status: invalid queue identifier (SCT 1h SC 01h, do not retry)",
              "format invalid qid");
    CHECK_STR(nvme_status_format(sf(0, 0x13, 0, 0), buf, sizeof buf),
              "generic status: PRP offset invalid (SCT 0h SC 13h)", "format prp offset");
    CHECK_STR(nvme_status_format(sf(3, 0x71, 0, 0), buf, sizeof buf),
              "path error: command aborted by host (SCT 3h SC 71h)", "format path");
    CHECK_STR(nvme_status_format(sf(7, 0xc4, 0, 0), buf, sizeof buf),
              "vendor specific status: reserved or vendor code (SCT 7h SC c4h)", "format vendor");
    CHECK_STR(nvme_status_format(sf(5, 0x00, 0, 0), buf, sizeof buf),
              "reserved status type: reserved or vendor code (SCT 5h SC 00h)", "format reserved sct");
    CHECK_STR(nvme_status_format(sf(0, 0x7f, 0, 0), buf, sizeof buf),
              "generic status: reserved or vendor code (SCT 0h SC 7fh)", "format unknown generic");
    /* A success code with DNR set is still reported, not hidden as "success". */
    CHECK_STR(nvme_status_format(sf(0, 0, 0, 1), buf, sizeof buf),
              "generic status: success (SCT 0h SC 00h, do not retry)", "format odd success");
    char small[8];
    nvme_status_format(sf(2, 0x81, 0, 0), small, sizeof small);
    CHECK_EQ_U64(strlen(small), 7, "format truncates and terminates");
    CHECK_STR(nvme_status_str(2, 0x87), "deallocated or unwritten logical block", "str media 87");
    CHECK_STR(nvme_status_str(0, 0x04), "data transfer error", "str generic 04");

    CHECK_EQ_U64(nvme_status_blk(0), BLK_OK, "blk success");
    CHECK_EQ_U64(nvme_status_blk(sf(2, 0x81, 0, 0)), BLK_EIO, "blk media read");
    CHECK_EQ_U64(nvme_status_blk(sf(2, 0x80, 0, 1)), BLK_EIO, "blk media write");
    CHECK_EQ_U64(nvme_status_blk(sf(0, 0x80, 0, 1)), BLK_ERANGE, "blk lba range");
    CHECK_EQ_U64(nvme_status_blk(sf(0, 0x02, 0, 1)), BLK_EINVAL, "blk invalid field");
    CHECK_EQ_U64(nvme_status_blk(sf(0, 0x20, 0, 1)), BLK_EROFS, "blk write protected");
    CHECK_EQ_U64(nvme_status_blk(sf(0, 0x06, 0, 0)), BLK_EIO, "blk internal error");
    return check_exit_status();
}
