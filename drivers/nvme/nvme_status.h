/* drivers/nvme/nvme_status.h: decoding an NVMe completion status into words.
 *
 * Interface: nvme_status_decode(status) splits the 15-bit status field of a completion
 * entry (NVME_CQE_STATUS(dw3)) into SCT/SC/CRD/More/DNR; nvme_status_str(sct, sc) names the
 * code; nvme_status_format() writes one line such as
 *     "media error: unrecovered read error (SCT 2h SC 81h, do not retry)";
 * nvme_status_blk() maps it to the block-device error a client sees.
 * Portable (no hardware headers); unit-tested on the host. */
#ifndef DRIVERS_NVME_NVME_STATUS_H
#define DRIVERS_NVME_NVME_STATUS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Status code types. */
enum nvme_sct {
    NVME_SCT_GENERIC = 0,   /* generic command status */
    NVME_SCT_CMD = 1,       /* command specific */
    NVME_SCT_MEDIA = 2,     /* media and data integrity errors */
    NVME_SCT_PATH = 3,      /* path related */
    NVME_SCT_VENDOR = 7,
};

/* Codes the driver acts on by name. */
enum {
    NVME_SC_SUCCESS = 0x00,
    NVME_SC_INVALID_FIELD = 0x02,
    NVME_SC_LBA_RANGE = 0x80,         /* generic: LBA out of range */
    NVME_SC_NS_WRITE_PROTECTED = 0x20,
    NVME_SC_WRITE_FAULT = 0x80,       /* media */
    NVME_SC_UNRECOVERED_READ = 0x81,  /* media */
};

struct nvme_status {
    uint8_t sct, sc;
    uint8_t crd;     /* command retry delay index */
    bool more;       /* more information in the Error Information log page */
    bool dnr;        /* do not retry: the same command would fail again */
};

struct nvme_status nvme_status_decode(uint16_t status);
/* "success", or the spec's name for the code ("reserved or vendor code" if unknown). */
const char *nvme_status_str(uint8_t sct, uint8_t sc);
const char *nvme_sct_str(uint8_t sct);
/* One readable line into BUF (always terminated); returns BUF. */
char *nvme_status_format(uint16_t status, char *buf, size_t n);
/* enum blk_err for a completion status (BLK_OK for success). */
int nvme_status_blk(uint16_t status);

#endif
