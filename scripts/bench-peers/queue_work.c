/*
 * queue_work.c -- libuv "queue-work" peer benchmark.
 *
 * Measures: cost of one thread-pool round trip.  200,000 uv_work_t (one
 * array) are queued with uv_queue_work, a no-op work callback and an
 * after-work callback that counts, all before the loop runs; then
 * uv_run(UV_RUN_DEFAULT) until every after-work callback ran.  The pool has
 * libuv's default 4 threads (UV_THREADPOOL_SIZE is removed from the
 * environment by bench-peers.sh) and starts inside the first uv_queue_work,
 * inside the timed region, as loop-fs's does.  Timed from before the first
 * uv_queue_work to uv_run's return; reported figure is ns per item.
 */
#include "bench_common.h"

#define NUM_ITEMS 200000

static int done;

static void work_cb(uv_work_t* req) {
  (void) req;
}

static void after_work_cb(uv_work_t* req, int status) {
  (void) req;
  CHECK(status == 0);
  done++;
}

int main(void) {
  uv_loop_t* loop = uv_default_loop();
  uv_work_t* reqs;
  uint64_t t0, t1;
  int i;

  reqs = malloc(NUM_ITEMS * sizeof(reqs[0]));
  CHECK(reqs != NULL);

  t0 = uv_hrtime();
  for (i = 0; i < NUM_ITEMS; i++)
    CHECK_UV(uv_queue_work(loop, &reqs[i], work_cb, after_work_cb));
  CHECK_UV(uv_run(loop, UV_RUN_DEFAULT));
  t1 = uv_hrtime();

  CHECK(done == NUM_ITEMS);
  report("queue-work", t1 - t0, NUM_ITEMS);

  free(reqs);
  return 0;
}
