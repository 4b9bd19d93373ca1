/* clip_score.c - the mean-probability clip decision and top-k ordering of
 * acrnn/clip_score.h. */
#include <acrnn/clip_score.h>
#include <string.h>

struct AcrnnClipScore {
  int n_classes;
  guint64 count;
  double *sum;
};

AcrnnClipScore *acrnn_clip_score_new(int n_classes) {
  g_return_val_if_fail(n_classes >= 1, NULL);
  AcrnnClipScore *score = g_new0(AcrnnClipScore, 1);
  score->n_classes = n_classes;
  score->sum = g_new0(double, n_classes);
  return score;
}

void acrnn_clip_score_free(AcrnnClipScore *score) {
  if (score == NULL)
    return;
  g_free(score->sum);
  g_free(score);
}

void acrnn_clip_score_reset(AcrnnClipScore *score) {
  memset(score->sum, 0, sizeof(double) * (size_t)score->n_classes);
  score->count = 0;
}

void acrnn_clip_score_add(AcrnnClipScore *score, const float *probs, size_t n) {
  int c = score->n_classes;
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < c; k++)
      score->sum[k] += probs[i * (size_t)c + (size_t)k];
  score->count += n;
}

guint64 acrnn_clip_score_count(const AcrnnClipScore *score) {
  return score->count;
}

int acrnn_clip_score_mean(const AcrnnClipScore *score, float *mean) {
  for (int k = 0; k < score->n_classes; k++)
    mean[k] =
        score->count > 0 ? (float)(score->sum[k] / (double)score->count) : 0.0f;
  return acrnn_argmax(mean, score->n_classes);
}

int acrnn_argmax(const float *x, int n) {
  int best = 0;
  for (int i = 1; i < n; i++)
    if (x[i] > x[best])
      best = i;
  return best;
}

void acrnn_top_k(const float *probs, int n, int k, int *order) {
  for (int i = 0; i < n; i++)
    order[i] = i;
  for (int i = 0; i < k; i++) /* partial selection sort, descending */
    for (int j = i + 1; j < n; j++)
      if (probs[order[j]] > probs[order[i]]) {
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
}
