/*
 * bench_common.h -- shared helpers for the libuv peer benchmarks.
 *
 * CHECK() is an assertion that is never compiled out (independent of NDEBUG)
 * and REPORT() prints the one result line the driver script expects:
 *     libuv NAME ns_per_op=X
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#define CHECK(expr)                                                        \
  do {                                                                     \
    if (!(expr)) {                                                         \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,     \
              #expr);                                                      \
      abort();                                                             \
    }                                                                      \
  } while (0)

/* Check a libuv return code (0 on success). */
#define CHECK_UV(call)                                                     \
  do {                                                                     \
    int check_uv_rc_ = (call);                                             \
    if (check_uv_rc_ != 0) {                                               \
      fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, \
              uv_strerror(check_uv_rc_));                                  \
      abort();                                                             \
    }                                                                      \
  } while (0)

static inline void report(const char* name, uint64_t elapsed_ns,
                          uint64_t ops) {
  printf("libuv %s ns_per_op=%.1f\n", name, (double) elapsed_ns / (double) ops);
  fflush(stdout);
}

/* xorshift64 (Marsaglia), deterministic: callers seed it with a constant. */
static inline uint64_t xorshift64(uint64_t* state) {
  uint64_t x = *state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *state = x;
  return x;
}

#endif /* BENCH_COMMON_H */
