/*
 * empty_iteration.c -- libuv "empty-iteration" peer benchmark.
 *
 * Measures: the fixed cost of one loop iteration.  One idle handle with an
 * empty callback keeps the loop alive (and forces a zero poll timeout); we
 * call uv_run(loop, UV_RUN_NOWAIT) 10,000,000 times and report ns per call.
 * No fds are watched, so libuv 1.44's uv__io_poll returns without calling
 * epoll_wait: each iteration is update-time + timers + pending + idle
 * callback + prepare + check + closing phases, with no syscall.
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
