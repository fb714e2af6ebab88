/*
 * version.c -- not a benchmark: prints the runtime libuv version
 * (uv_version_string()) as "# libuv X.Y.Z" so results can be attributed.
 */
#include <stdio.h>
#include <uv.h>

int main(void) {
  printf("# libuv %s\n", uv_version_string());
  return 0;
}
