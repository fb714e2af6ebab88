/*
 * empty_iteration.c -- libuv "empty-iteration" peer benchmark.
 *
 * Measures: the fixed cost of one loop iteration.  One idle handle with an
 * empty callback keeps the loop alive (and forces a zero poll timeout); we
 * call uv_run(loop, UV_RUN_NOWAIT) 10,000,000 times and report ns per call.
 * NOTE: although the benchmark registers no fd, uv_loop_init in libuv 1.44
 * itself watches two fds (the threadpool's wq_async eventfd and the
 * child-signal pipe), so every iteration makes one epoll_wait(timeout=0)
 * syscall.  On the reference VM that syscall alone is ~160-170 ns of the
 * ~225 ns per iteration; the loop's own bookkeeping is the remainder.
 */
#include "bench_common.h"

#define NUM_ITERATIONS 10000000

static uint64_t idle_calls;

static void idle_cb(uv_idle_t* handle) {
  (void) handle;
  idle_calls++;
}

static void close_cb(uv_handle_t* handle) {
  (void) handle;
}

int main(void) {
  uv_loop_t loop;
  uv_idle_t idle;
  uint64_t t0, t1;
  int i;

  CHECK_UV(uv_loop_init(&loop));
  CHECK_UV(uv_idle_init(&loop, &idle));
  CHECK_UV(uv_idle_start(&idle, idle_cb));

  t0 = uv_hrtime();
  for (i = 0; i < NUM_ITERATIONS; i++)
    uv_run(&loop, UV_RUN_NOWAIT); /* returns non-zero: idle keeps it alive */
  t1 = uv_hrtime();

  CHECK(idle_calls == NUM_ITERATIONS);
  report("empty-iteration", t1 - t0, NUM_ITERATIONS);

  uv_close((uv_handle_t*) &idle, close_cb);
  CHECK_UV(uv_run(&loop, UV_RUN_DEFAULT));
  CHECK_UV(uv_loop_close(&loop));
  return 0;
}
