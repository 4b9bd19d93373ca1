/* bench_peak.c - the arithmetic peaks of this machine, for the roofline
 * table of the README: a loop of independent fp32 FMAs (VFMADD231PS) and
 * one of bf16 dot products (VDPBF16PS, 2 multiply-adds per fp32 lane),
 * 12 zmm accumulators per thread, on 1 and on N threads at once.
 *
 *   bench_peak [--threads N] [--seconds S]
 * Prints "name threads gflops gflops_per_cpu_s" lines: fp32_fma and
 * bf16_dot (the latter only where the CPU has AVX512_BF16). Needs AVX-512;
 * prints nothing measured without it. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define ACC 12
#define INNER 4096

/* FLOP per INNER iteration block: ACC vectors x 16 lanes x 2 (FMA), and
 * x 2 more for the dot product (a pair per lane). */
__attribute__((target("avx512f"), noinline)) static double
fma_loop(long blocks) {
  __m512 acc[ACC];
  for (int i = 0; i < ACC; i++)
    acc[i] = _mm512_set1_ps((float)i);
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-3f);
  for (long r = 0; r < blocks; r++)
    for (int k = 0; k < INNER; k++) {
#pragma GCC unroll 12
      for (int i = 0; i < ACC; i++)
        acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
  __m512 s = acc[0];
  for (int i = 1; i < ACC; i++)
    s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx512bf16,avx512f,avx512vl,avx512bw"),
               noinline)) static double
dot_loop(long blocks) {
  __m512 acc[ACC];
  for (int i = 0; i < ACC; i++)
    acc[i] = _mm512_set1_ps((float)i);
  const __m512bh a = (__m512bh)_mm512_set1_epi32(0x3f803f80);
  const __m512bh b = (__m512bh)_mm512_set1_epi32(0x3a833a83);
  for (long r = 0; r < blocks; r++)
    for (int k = 0; k < INNER; k++) {
#pragma GCC unroll 12
      for (int i = 0; i < ACC; i++)
        acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
    }
  __m512 s = acc[0];
  for (int i = 1; i < ACC; i++)
    s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

typedef struct {
  int dot;
  long blocks;
  double sink;
} Job;

static gpointer run_job(gpointer data) {
  Job *j = data;
  j->sink = j->dot ? dot_loop(j->blocks) : fma_loop(j->blocks);
  return NULL;
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* GFLOP/s of nt threads running the loop for about seconds of wall time:
 * returns the wall figure, and per CPU second (all threads) in *per_cpu. */
static double measure(int dot, int nt, double seconds, double *per_cpu) {
  const double flop_per_block = (double)INNER * ACC * 16 * 2 * (dot ? 2 : 1);
  long blocks = 16;
  for (;;) {
    Job jobs[64];
    GThread *th[64];
    const gint64 t0 = g_get_monotonic_time();
    const double c0 = cpu_now();
    for (int t = 0; t < nt; t++) {
      jobs[t] = (Job){dot, blocks, 0.0};
      th[t] = g_thread_new("peak", run_job, &jobs[t]);
    }
    for (int t = 0; t < nt; t++)
      g_thread_join(th[t]);
    const double dt = (g_get_monotonic_time() - t0) / 1e6;
    const double dc = cpu_now() - c0;
    if (dt >= seconds) {
      *per_cpu = nt * blocks * flop_per_block / dc / 1e9;
      return nt * blocks * flop_per_block / dt / 1e9;
    }
    blocks = dt > 0.01 ? (long)(blocks * seconds / dt * 1.1) : blocks * 8;
  }
}
#endif

int main(int argc, char **argv) {
  int threads = 1;
  double seconds = 1.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--threads") == 0)
      threads = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--seconds") == 0)
      seconds = atof(argv[i + 1]);
  }
  if (threads < 1 || threads > 64)
    threads = 1;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f")) {
    printf("# no AVX-512: nothing measured\n");
    return 0;
  }
  printf("# name threads gflops gflops_per_cpu_s (%d x 12 zmm "
         "accumulators; the last is per second of CPU time, which other load "
         "on a shared machine disturbs less)\n",
         threads);
  double c;
  double g = measure(0, threads, seconds, &c);
  printf("fp32_fma %d %.1f %.1f\n", threads, g, c);
  if (__builtin_cpu_supports("avx512bf16")) {
    g = measure(1, threads, seconds, &c);
    printf("bf16_dot %d %.1f %.1f\n", threads, g, c);
  }
#else
  printf("# not an x86-64 CPU: nothing measured\n");
#endif
  return 0;
}
