/*
 * timer_churn.c -- libuv "timer-churn" peer benchmark.
 *
 * Measures: cost of re-arming a timer in a populated timer set.  10,000
 * timers are started with random timeouts in [1, 100000] ms; then 1,000,000
 * times a random timer is picked and re-armed with uv_timer_stop followed by
 * uv_timer_start (new random timeout in [1, 100000] ms).  Randomness comes
 * from xorshift64 seeded with a constant, so every run does the same work.
 * Only the re-arm loop is timed; reported figure is ns per re-arm
 * (one stop + one start).  The loop is not run during the churn, so no timer
 * fires; afterwards all timers are closed and the loop is run until it exits.
 */
#include "bench_common.h"

#define NUM_TIMERS 10000
#define NUM_REARMS 1000000
#define MAX_TIMEOUT_MS 100000

static int fired;
static int closed;

static void timer_cb(uv_timer_t* handle) {
  (void) handle;
  fired++;
}

static void close_cb(uv_handle_t* handle) {
  (void) handle;
  closed++;
}

int main(void) {
  uv_loop_t loop;
  uv_timer_t* timers;
  uint64_t rng = UINT64_C(0x9E3779B97F4A7C15);
  uint64_t t0, t1;
  int i;

  timers = malloc(NUM_TIMERS * sizeof(timers[0]));
  CHECK(timers != NULL);
  CHECK_UV(uv_loop_init(&loop));

  for (i = 0; i < NUM_TIMERS; i++) {
    CHECK_UV(uv_timer_init(&loop, &timers[i]));
    CHECK_UV(uv_timer_start(&timers[i], timer_cb,
                            1 + xorshift64(&rng) % MAX_TIMEOUT_MS, 0));
  }

  t0 = uv_hrtime();
  for (i = 0; i < NUM_REARMS; i++) {
    uv_timer_t* t = &timers[xorshift64(&rng) % NUM_TIMERS];
    uint64_t timeout = 1 + xorshift64(&rng) % MAX_TIMEOUT_MS;
    CHECK_UV(uv_timer_stop(t));
    CHECK_UV(uv_timer_start(t, timer_cb, timeout, 0));
  }
  t1 = uv_hrtime();

  report("timer-churn", t1 - t0, NUM_REARMS);

  for (i = 0; i < NUM_TIMERS; i++)
    uv_close((uv_handle_t*) &timers[i], close_cb);
  CHECK_UV(uv_run(&loop, UV_RUN_DEFAULT));
  CHECK(closed == NUM_TIMERS);
  CHECK(fired == 0);
  CHECK_UV(uv_loop_close(&loop));
  free(timers);
  return 0;
}
