/* test_model_cache.c - acrnn_model_load_shared(): nets loaded from one
 * unchanged file share one sealed weight block and infer exactly as a net of
 * acrnn_model_load() does; a touched or rewritten file is loaded anew; a
 * block goes with its last net; a writer gets its own copy; concurrent
 * loads from many threads end up on one block; errors are those of
 * acrnn_model_load(). */
#include "model_cache.h"
#include <acrnn/model.h>
#include <acrnn/rng.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#define BANDS 32
#define FRAMES 36
#define N_LABELS 4
#define N_THREADS 8

static char *tmpdir;

/* A random model of the small size, saved at path. */
static void save_model(const char *path, uint64_t seed) {
  AcrnnModelInfo info;
  acrnn_model_info_init(&info);
  info.labels = g_new0(char *, N_LABELS + 1);
  for (int i = 0; i < N_LABELS; i++)
    info.labels[i] = g_strdup_printf("class%d", i);
  info.n_labels = N_LABELS;
  info.features.bands = BANDS;
  info.segment_frames = FRAMES;
  info.segment_hop = FRAMES / 2;
  AcrnnNetConfig cfg;
  acrnn_model_info_net_config(&info, &cfg);
  AcrnnNet *net = acrnn_net_new(&cfg, NULL);
  acrnn_net_init_random(net, seed);
  GError *error = NULL;
  g_assert_true(acrnn_model_save(path, net, &info, &error));
  g_assert_no_error(error);
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
}

static AcrnnNet *load_shared(const char *path, AcrnnModelInfo *info) {
  GError *error = NULL;
  AcrnnNet *net = acrnn_model_load_shared(path, info, &error);
  g_assert_no_error(error);
  g_assert_nonnull(net);
  g_assert_true(acrnn_net_is_sealed(net));
  return net;
}

static void probabilities(AcrnnNet *net, float out[2 * N_LABELS]) {
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 77);
  float x[2 * 2 * BANDS * FRAMES];
  for (size_t i = 0; i < G_N_ELEMENTS(x); i++)
    x[i] = (float)acrnn_rng_normal(&rng);
  acrnn_net_forward(net, x, 2, FALSE, NULL);
  acrnn_net_probabilities(net, out);
}

/* Moves the file's modification time one second on, as touch would (the
 * clock may not have moved since the file was written). */
static void touch(const char *path) {
  struct stat st;
  g_assert_cmpint(g_stat(path, &st), ==, 0);
  struct timespec t[2] = {st.st_atim, st.st_mtim};
  t[1].tv_sec += 1;
  g_assert_cmpint(utimensat(AT_FDCWD, path, t, 0), ==, 0);
}

/* Two loads of one file: one block, the same info, and the same inference
 * as a net of the plain loader; the block goes with the last of them. */
static void test_shared(void) {
  char *path = g_build_filename(tmpdir, "shared.safetensors", NULL);
  save_model(path, 1);
  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 0);
  AcrnnModelInfo ia, ib;
  AcrnnNet *a = load_shared(path, &ia), *b = load_shared(path, &ib);
  g_assert_true(acrnn_net_shares_weights(a, b));
  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 1);
  g_assert_cmpint(ia.n_labels, ==, N_LABELS);
  g_assert_cmpint(ib.n_labels, ==, N_LABELS);
  g_assert_true(ia.labels != ib.labels); /* each caller owns its info */
  g_assert_cmpstr(ib.labels[3], ==, "class3");

  GError *error = NULL;
  AcrnnNet *plain = acrnn_model_load(path, NULL, &error);
  g_assert_no_error(error);
  g_assert_false(acrnn_net_shares_weights(plain, a));
  float want[2 * N_LABELS], got[2 * N_LABELS];
  probabilities(plain, want);
  probabilities(a, got);
  g_assert_cmpmem(got, sizeof got, want, sizeof want);
  probabilities(b, got);
  g_assert_cmpmem(got, sizeof got, want, sizeof want);

  /* the element's worker threads: copies share the block too */
  AcrnnNet *copy = acrnn_net_copy(b);
  g_assert_true(acrnn_net_shares_weights(copy, a));
  acrnn_net_free(a);
  acrnn_net_free(b);
  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 1);
  acrnn_net_free(copy);
  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 0);
  acrnn_net_free(plain);
  acrnn_model_info_clear(&ia);
  acrnn_model_info_clear(&ib);
  g_free(path);
}

/* A touched file and a rewritten one are loaded anew; nets of the old
 * version keep theirs until they go. */
static void test_changed_file(void) {
  char *path = g_build_filename(tmpdir, "changed.safetensors", NULL);
  save_model(path, 2);
  AcrnnNet *old = load_shared(path, NULL);
  float want_old[2 * N_LABELS], want_new[2 * N_LABELS], got[2 * N_LABELS];
  probabilities(old, want_old);

  touch(path);
  AcrnnNet *touched = load_shared(path, NULL);
  g_assert_false(acrnn_net_shares_weights(touched, old));
  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 2);
  AcrnnNet *again = load_shared(path, NULL);
  g_assert_true(acrnn_net_shares_weights(again, touched));
  probabilities(touched, got);
  g_assert_cmpmem(got, sizeof got, want_old, sizeof want_old);

  save_model(path, 3); /* other weights, renamed over the file */
  AcrnnNet *rewritten = load_shared(path, NULL);
  g_assert_false(acrnn_net_shares_weights(rewritten, touched));
  GError *error = NULL;
  AcrnnNet *plain = acrnn_model_load(path, NULL, &error);
  g_assert_no_error(error);
  probabilities(plain, want_new);
  g_assert_true(memcmp(want_new, want_old, sizeof want_new) != 0);
  probabilities(rewritten, got);
  g_assert_cmpmem(got, sizeof got, want_new, sizeof want_new);
  probabilities(old, got); /* the old version, still in use */
  g_assert_cmpmem(got, sizeof got, want_old, sizeof want_old);

  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 3);
  acrnn_net_free(old);
  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 2);
  acrnn_net_free(touched);
  acrnn_net_free(again);
  acrnn_net_free(rewritten);
  acrnn_net_free(plain);
  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 0);
  g_free(path);
}

/* A net that writes (a fine-tuning run on a shared load) gets its own copy:
 * the shared block, and the next load, keep the file's values. */
static void test_writer(void) {
  char *path = g_build_filename(tmpdir, "writer.safetensors", NULL);
  save_model(path, 4);
  AcrnnNet *reader = load_shared(path, NULL), *writer = load_shared(path, NULL);
  float want[2 * N_LABELS], got[2 * N_LABELS];
  probabilities(reader, want);
  float *p = acrnn_net_params(writer);
  for (size_t i = 0; i < acrnn_net_n_params(writer); i++)
    p[i] = 0.5f;
  g_assert_false(acrnn_net_shares_weights(writer, reader));
  AcrnnNet *later = load_shared(path, NULL);
  g_assert_true(acrnn_net_shares_weights(later, reader));
  probabilities(later, got);
  g_assert_cmpmem(got, sizeof got, want, sizeof want);
  acrnn_net_free(writer);
  acrnn_net_free(reader);
  acrnn_net_free(later);
  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 0);
  g_free(path);
}

static gpointer free_net(gpointer net) {
  acrnn_net_free(net);
  return NULL;
}

typedef struct {
  const char *path;
  GMutex lock;
  GCond go;
  gboolean started;
  AcrnnNet *nets[N_THREADS];
} Race;

static gpointer race_load(gpointer data) {
  Race *r = data;
  g_mutex_lock(&r->lock);
  while (!r->started)
    g_cond_wait(&r->go, &r->lock);
  g_mutex_unlock(&r->lock);
  GError *error = NULL;
  AcrnnModelInfo info;
  AcrnnNet *net = acrnn_model_load_shared(r->path, &info, &error);
  g_assert_no_error(error);
  g_assert_cmpint(info.n_labels, ==, N_LABELS);
  acrnn_model_info_clear(&info);
  return net;
}

/* Threads loading one file at once (elements starting in their streaming
 * threads) all end up on one block, whichever loaded it. */
static void test_threads(void) {
  char *path = g_build_filename(tmpdir, "threads.safetensors", NULL);
  save_model(path, 5);
  for (int round = 0; round < 3; round++) {
    Race r = {.path = path};
    g_mutex_init(&r.lock);
    g_cond_init(&r.go);
    GThread *th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++)
      th[i] = g_thread_new("load", race_load, &r);
    g_mutex_lock(&r.lock);
    r.started = TRUE;
    g_cond_broadcast(&r.go);
    g_mutex_unlock(&r.lock);
    for (int i = 0; i < N_THREADS; i++)
      r.nets[i] = g_thread_join(th[i]);
    for (int i = 1; i < N_THREADS; i++)
      g_assert_true(acrnn_net_shares_weights(r.nets[i], r.nets[0]));
    g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 1);
    for (int i = 0; i < N_THREADS; i++)
      th[i] = g_thread_new("free", free_net, r.nets[i]);
    for (int i = 0; i < N_THREADS; i++)
      g_thread_join(th[i]);
    g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 0);
    g_mutex_clear(&r.lock);
    g_cond_clear(&r.go);
  }
  g_free(path);
}

/* A missing or corrupt file: the error of acrnn_model_load(), info left
 * cleared, nothing cached. */
static void test_errors(void) {
  char *missing = g_build_filename(tmpdir, "missing.safetensors", NULL);
  char *bad = g_build_filename(tmpdir, "bad.safetensors", NULL);
  g_assert_true(g_file_set_contents(bad, "not a model", -1, NULL));
  const char *paths[] = {missing, bad, tmpdir};
  const int codes[] = {ACRNN_MODEL_ERROR_IO, ACRNN_MODEL_ERROR_FORMAT,
                       ACRNN_MODEL_ERROR_IO};
  for (int i = 0; i < 3; i++) {
    GError *want = NULL, *got = NULL;
    AcrnnModelInfo info;
    g_assert_null(acrnn_model_load(paths[i], NULL, &want));
    g_assert_null(acrnn_model_load_shared(paths[i], &info, &got));
    g_assert_error(got, ACRNN_MODEL_ERROR, codes[i]);
    g_assert_cmpstr(got->message, ==, want->message);
    g_assert_null(info.labels);
    g_clear_error(&want);
    g_clear_error(&got);
  }
  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 0);
  g_unlink(bad);
  g_free(missing);
  g_free(bad);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp("acrnn-cache-XXXXXX", NULL);
  g_test_add_func("/model-cache/shared", test_shared);
  g_test_add_func("/model-cache/changed-file", test_changed_file);
  g_test_add_func("/model-cache/writer", test_writer);
  g_test_add_func("/model-cache/threads", test_threads);
  g_test_add_func("/model-cache/errors", test_errors);
  int rc = g_test_run();
  const char *names[] = {"shared", "changed", "writer", "threads"};
  for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
    char *p = g_strdup_printf("%s/%s.safetensors", tmpdir, names[i]);
    g_unlink(p);
    g_free(p);
  }
  g_rmdir(tmpdir);
  g_free(tmpdir);
  return rc;
}
