/* tests/vm/test_sha256.c: lib/sha256 against FIPS 180-4 vectors, against the host's
 * sha256sum on generated data, and incremental == one-shot for every split point. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/sha256.h"
#include "tests/check.h"

static const char *hex(const void *data, size_t n)
{
    static char out[65];
    uint8_t d[32];
    sha256(data, n, d);
    sha256_hex(d, out);
    return out;
}

int main(void)
{
    CHECK_STR(hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
              "sha256 empty");
    CHECK_STR(hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
              "sha256 abc");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    CHECK_STR(hex(two, strlen(two)),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
              "sha256 two-block message");
    static uint8_t big[1000000];
    memset(big, 'a', sizeof big);
    CHECK_STR(hex(big, sizeof big),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
              "sha256 one million a");

    /* Incremental updates at every split point agree with the one-shot hash. */
    uint8_t msg[200], one[32], two_[32];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    sha256(msg, sizeof msg, one);
    int bad = 0;
    for (size_t cut = 0; cut <= sizeof msg; cut++) {
        sha256_ctx c;
        sha256_init(&c);
        sha256_update(&c, msg, cut);
        sha256_update(&c, msg + cut, sizeof msg - cut);
        sha256_final(&c, two_);
        bad += memcmp(one, two_, 32) != 0;
    }
    check(bad == 0, "sha256 incremental == one-shot at every split");

    /* Against coreutils on pseudo-random data of awkward lengths. */
    for (size_t len = 55; len <= 130000; len = len * 3 + 1) {
        uint8_t *b = malloc(len);
        uint64_t x = 88172645463325252ull;
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            b[i] = (uint8_t)x;
        }
        char path[] = "/tmp/sha256-test-XXXXXX";
        int fd = mkstemp(path);
        FILE *f = fdopen(fd, "wb");
        fwrite(b, 1, len, f);
        fclose(f);
        char cmd[128], want[80] = "";
        snprintf(cmd, sizeof cmd, "sha256sum %s", path);
        FILE *pp = popen(cmd, "r");
        if (!pp || !fgets(want, sizeof want, pp))
            want[0] = 0;
        if (pp)
            pclose(pp);
        remove(path);
        want[64] = 0;
        CHECK_STR(hex(b, len), want, "sha256 matches sha256sum for %zu bytes", len);
        free(b);
    }
    return check_exit_status();
}
