/* stft.c - windowed single-precision FFT of one frame and its power spectrum
 * (docs/features.md: periodic Hamming window, bins 0..N/2). */
#include "stft.h"
#include <fftw3.h>
#include <math.h>

struct AcrnnStft {
  int n_fft;
  float *window;      /* periodic Hamming, n_fft values */
  float *in;          /* fftwf_malloc'd: windowed frame */
  fftwf_complex *out; /* fftwf_malloc'd: n_fft/2 + 1 bins */
  fftwf_plan plan;
};

/* FFTW's planner is not thread-safe: plans are made and destroyed under this
 * lock (executing a plan is thread-safe). */
static GMutex plan_lock;

AcrnnStft *acrnn_stft_new(int n_fft) {
  AcrnnStft *s = g_new0(AcrnnStft, 1);
  s->n_fft = n_fft;
  s->window = g_new(float, n_fft);
  for (int n = 0; n < n_fft; n++)
    s->window[n] = (float)(0.54 - 0.46 * cos(2.0 * G_PI * n / n_fft));
  s->in = fftwf_malloc(sizeof(float) * (size_t)n_fft);
  s->out = fftwf_malloc(sizeof(fftwf_complex) * (size_t)(n_fft / 2 + 1));
  g_mutex_lock(&plan_lock);
  s->plan = fftwf_plan_dft_r2c_1d(n_fft, s->in, s->out, FFTW_ESTIMATE);
  g_mutex_unlock(&plan_lock);
  return s;
}

void acrnn_stft_free(AcrnnStft *s) {
  if (s == NULL)
    return;
  g_mutex_lock(&plan_lock);
  fftwf_destroy_plan(s->plan);
  g_mutex_unlock(&plan_lock);
  fftwf_free(s->in);
  fftwf_free(s->out);
  g_free(s->window);
  g_free(s);
}

void acrnn_stft_power(AcrnnStft *s, const float *frame, float *power) {
  const int n = s->n_fft;
  for (int i = 0; i < n; i++)
    s->in[i] = s->window[i] * frame[i];
  fftwf_execute(s->plan);
  for (int k = 0; k <= n / 2; k++) {
    float re = s->out[k][0], im = s->out[k][1];
    power[k] = re * re + im * im;
  }
}
