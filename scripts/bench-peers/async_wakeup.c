/*
 * async_wakeup.c -- libuv "async-wakeup" peer benchmark.
 *
 * Measures: cross-thread wake-up round-trip latency.  A second thread
 * (uv_thread_create) calls uv_async_send and then blocks on a uv_sem_t; the
 * loop's async callback posts the semaphore, releasing the thread for the
 * next round.  100,000 round trips; after the last one the callback closes
 * the async handle so uv_run returns.  Timed on the main thread around
 * uv_run (thread creation happens before the clock starts); reported figure
 * is ns per round trip.  Each round trip contains an eventfd write, an
 * epoll_wait wake-up of the loop thread, an eventfd read and a futex
 * wake-up of the sender, so this is dominated by kernel/scheduler latency.
 */
#include "bench_common.h"

#define NUM_ROUND_TRIPS 100000

static uv_async_t async;
static uv_sem_t back;
static int round_trips;

static void async_cb(uv_async_t* handle) {
  round_trips++;
  if (round_trips == NUM_ROUND_TRIPS)
    uv_close((uv_handle_t*) handle, NULL);
  uv_sem_post(&back);
}

static void sender(void* arg) {
  int i;
  (void) arg;
  for (i = 0; i < NUM_ROUND_TRIPS; i++) {
    CHECK_UV(uv_async_send(&async));
    uv_sem_wait(&back);
  }
}

int main(void) {
  uv_loop_t loop;
  uv_thread_t thread;
  uint64_t t0, t1;

  CHECK_UV(uv_loop_init(&loop));
  CHECK_UV(uv_async_init(&loop, &async, async_cb));
  CHECK_UV(uv_sem_init(&back, 0));
  CHECK_UV(uv_thread_create(&thread, sender, NULL));

  t0 = uv_hrtime();
  CHECK_UV(uv_run(&loop, UV_RUN_DEFAULT));
  t1 = uv_hrtime();

  CHECK_UV(uv_thread_join(&thread));
  CHECK(round_trips == NUM_ROUND_TRIPS);
  report("async-wakeup", t1 - t0, NUM_ROUND_TRIPS);

  uv_sem_destroy(&back);
  CHECK_UV(uv_loop_close(&loop));
  return 0;
}
