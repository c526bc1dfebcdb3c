/* Minimal check helpers for host unit tests.  Every check prints exactly one line,
 * `ok NAME` or `not ok NAME: why`, which tools/testrun.sh counts.  main() returns
 * check_exit_status() so a failure also shows in the exit code. */
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

static inline __attribute__((format(printf, 2, 3))) int check(int cond, const char *name, ...)
{
    va_list ap;
    va_start(ap, name);
    printf(cond ? "ok " : "not ok ");
    vprintf(name, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    if (!cond)
        check_failures++;
    return cond;
}

/* Like check(), but with an explanation on failure. */
#define CHECK_EQ_U64(got, want, ...)                                                      \
    do {                                                                                  \
        unsigned long long g_ = (unsigned long long)(got), w_ = (unsigned long long)(want); \
        if (g_ == w_) {                                                                   \
            check(1, __VA_ARGS__);                                                        \
        } else {                                                                          \
            printf("not ok ");                                                            \
            printf(__VA_ARGS__);                                                          \
            printf(": got %llu (0x%llx), want %llu (0x%llx)\n", g_, g_, w_, w_);          \
            check_failures++;                                                             \
        }                                                                                 \
    } while (0)

#define CHECK_STR(got, want, ...)                                                         \
    do {                                                                                  \
        const char *g_ = (got), *w_ = (want);                                             \
        if (strcmp(g_, w_) == 0) {                                                        \
            check(1, __VA_ARGS__);                                                        \
        } else {                                                                          \
            printf("not ok ");                                                            \
            printf(__VA_ARGS__);                                                          \
            printf(": got \"%s\", want \"%s\"\n", g_, w_);                                \
            check_failures++;                                                             \
        }                                                                                 \
    } while (0)

static inline int check_exit_status(void) { return check_failures ? 1 : 0; }

#endif
