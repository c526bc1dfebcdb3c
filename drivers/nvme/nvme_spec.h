/* drivers/nvme/nvme_spec.h: what the NVMe base specification (1.4/2.0) and the NVM command
 * set define that this driver uses: controller registers, register fields, opcodes, the
 * layout of submission and completion entries and of the Identify data structures.
 *
 * Portable: no hardware access, so the host unit tests include it too.  Fields of
 * Identify data are byte offsets read with lib/bytes.h loaders, never packed structs. */
#ifndef DRIVERS_NVME_NVME_SPEC_H
#define DRIVERS_NVME_NVME_SPEC_H
#include <stdint.h>

/* Controller registers (BAR0), base spec §3.1. */
enum nvme_reg {
    NVME_REG_CAP = 0x00,   /* 64: Controller Capabilities */
    NVME_REG_VS = 0x08,    /* 32: Version (major 31:16, minor 15:8, tertiary 7:0) */
    NVME_REG_INTMS = 0x0c, /* 32: Interrupt Mask Set (pin/MSI only; never touched with MSI-X) */
    NVME_REG_INTMC = 0x10, /* 32: Interrupt Mask Clear (likewise) */
    NVME_REG_CC = 0x14,    /* 32: Controller Configuration */
    NVME_REG_CSTS = 0x1c,  /* 32: Controller Status */
    NVME_REG_AQA = 0x24,   /* 32: Admin Queue Attributes (sizes, 0-based) */
    NVME_REG_ASQ = 0x28,   /* 64: Admin Submission Queue base */
    NVME_REG_ACQ = 0x30,   /* 64: Admin Completion Queue base */
    NVME_REG_DBS = 0x1000, /* doorbells: SQ y tail at (2y)*stride, CQ y head at (2y+1)*stride */
};

/* CAP fields: shift and mask. */
#define NVME_CAP_MQES(cap) ((uint32_t)((cap)&0xffff))            /* max queue entries, 0-based */
#define NVME_CAP_TO(cap) ((uint32_t)(((cap) >> 24) & 0xff))     /* ready timeout, 500 ms units */
#define NVME_CAP_DSTRD(cap) ((uint32_t)(((cap) >> 32) & 0xf))   /* doorbell stride 4 << DSTRD */
#define NVME_CAP_CSS_NVM(cap) ((uint32_t)(((cap) >> 37) & 1))   /* NVM command set supported */
#define NVME_CAP_MPSMIN(cap) ((uint32_t)(((cap) >> 48) & 0xf))  /* min page 2^(12+MPSMIN) */
#define NVME_CAP_MPSMAX(cap) ((uint32_t)(((cap) >> 52) & 0xf))  /* max page 2^(12+MPSMAX) */
#define NVME_TO_UNIT_MS 500u

/* CC fields. */
enum nvme_cc {
    NVME_CC_EN = 1u << 0,            /* enable: 1 starts the controller, 0 resets it */
    NVME_CC_CSS_SHIFT = 4,           /* I/O command set: 0 = NVM */
    NVME_CC_MPS_SHIFT = 7,           /* memory page size 2^(12+MPS) */
    NVME_CC_AMS_SHIFT = 11,          /* arbitration: 0 = round robin */
    NVME_CC_SHN_SHIFT = 14,          /* shutdown notification */
    NVME_CC_IOSQES_SHIFT = 16,       /* I/O SQ entry size, log2 */
    NVME_CC_IOCQES_SHIFT = 20,       /* I/O CQ entry size, log2 */
};

/* CSTS bits. */
enum nvme_csts {
    NVME_CSTS_RDY = 1u << 0,  /* ready: follows CC.EN once the controller has settled */
    NVME_CSTS_CFS = 1u << 1,  /* controller fatal status: only a reset recovers */
    NVME_CSTS_SHST = 3u << 2, /* shutdown status */
};

#define NVME_AQA(sq_entries, cq_entries) \
    ((uint32_t)((sq_entries)-1) | (uint32_t)((cq_entries)-1) << 16)

/* Entry sizes. */
enum {
    NVME_SQE_SIZE = 64,
    NVME_CQE_SIZE = 16,
    NVME_SQE_LOG2 = 6,
    NVME_CQE_LOG2 = 4,
    NVME_PRP_SIZE = 8,        /* one PRP entry */
    NVME_IDENTIFY_SIZE = 4096,
};

/* Admin opcodes (§5). */
enum nvme_admin_opc {
    NVME_ADM_DELETE_SQ = 0x00,
    NVME_ADM_CREATE_SQ = 0x01,
    NVME_ADM_DELETE_CQ = 0x04,
    NVME_ADM_CREATE_CQ = 0x05,
    NVME_ADM_IDENTIFY = 0x06,
    NVME_ADM_SET_FEATURES = 0x09,
    NVME_ADM_GET_FEATURES = 0x0a,
};

/* NVM command set opcodes. */
enum nvme_io_opc {
    NVME_CMD_FLUSH = 0x00,
    NVME_CMD_WRITE = 0x01,
    NVME_CMD_READ = 0x02,
};

/* Identify CNS values (CDW10 bits 7:0). */
enum nvme_cns {
    NVME_CNS_NS = 0x00,        /* Identify Namespace for NSID */
    NVME_CNS_CTRL = 0x01,      /* Identify Controller */
    NVME_CNS_ACTIVE_NS = 0x02, /* active namespace IDs greater than NSID, ascending */
};

/* Feature identifiers. */
enum nvme_feature {
    NVME_FEAT_NUM_QUEUES = 0x07, /* CDW11: NSQR 15:0, NCQR 31:16, both 0-based */
};

/* Submission queue entry: dword indices. */
enum nvme_sqe_dw {
    NVME_SQE_CDW0 = 0,  /* opcode 7:0, fuse 9:8, PSDT 15:14 (0 = PRPs), command id 31:16 */
    NVME_SQE_NSID = 1,
    NVME_SQE_PRP1 = 6,  /* 64-bit, dwords 6-7 */
    NVME_SQE_PRP2 = 8,  /* 64-bit, dwords 8-9 */
    NVME_SQE_CDW10 = 10,
    NVME_SQE_CDW11 = 11,
    NVME_SQE_CDW12 = 12,
};

/* Create I/O queue flags (CDW11). */
enum {
    NVME_Q_PC = 1u << 0,    /* physically contiguous */
    NVME_CQ_IEN = 1u << 1,  /* interrupts enabled (vector in bits 31:16) */
};

/* Completion queue entry: dword 2 = SQ head 15:0 and SQ id 31:16; dword 3 = command id 15:0,
 * phase tag bit 16, status field bits 31:17. */
#define NVME_CQE_CID(dw3) ((uint16_t)((dw3)&0xffff))
#define NVME_CQE_PHASE(dw3) (((dw3) >> 16) & 1u)
#define NVME_CQE_STATUS(dw3) ((uint16_t)((dw3) >> 17)) /* SC 7:0, SCT 10:8, CRD 12:11, M 13, DNR 14 */

/* Identify Controller byte offsets. */
enum nvme_id_ctrl {
    NVME_IDC_VID = 0,       /* 16 */
    NVME_IDC_SN = 4,        /* 20 ASCII, space padded */
    NVME_IDC_MN = 24,       /* 40 ASCII */
    NVME_IDC_FR = 64,       /* 8 ASCII */
    NVME_IDC_MDTS = 77,     /* 8: max transfer 2^MDTS * CAP.MPSMIN pages, 0 = no limit */
    NVME_IDC_CNTLID = 78,   /* 16 */
    NVME_IDC_VER = 80,      /* 32 */
    NVME_IDC_SQES = 512,    /* 8: required 3:0, maximum 7:4 (log2) */
    NVME_IDC_CQES = 513,
    NVME_IDC_NN = 516,      /* 32: number of namespaces (highest valid NSID) */
    NVME_IDC_VWC = 525,     /* 8: bit 0 = volatile write cache present */
    NVME_IDC_SN_LEN = 20,
    NVME_IDC_MN_LEN = 40,
    NVME_IDC_FR_LEN = 8,
};

/* Identify Namespace byte offsets. */
enum nvme_id_ns {
    NVME_IDN_NSZE = 0,     /* 64: size in logical blocks */
    NVME_IDN_NCAP = 8,     /* 64 */
    NVME_IDN_NLBAF = 25,   /* 8: number of LBA formats, 0-based */
    NVME_IDN_FLBAS = 26,   /* 8: format index 3:0 (and 6:5 as the upper bits in 2.0) */
    NVME_IDN_LBAF = 128,   /* 16 x 32: MS 15:0, LBADS 23:16 (log2 of LBA size), RP 25:24 */
    NVME_IDN_LBAF_MAX = 64,
};
#define NVME_FLBAS_INDEX(f) ((unsigned)(((f)&0xf) | (((f) >> 5) & 3) << 4))

#endif
