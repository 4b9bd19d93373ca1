/* test_kill_save.c - a process killed with SIGKILL at a random moment while
 * it saves models never leaves a half file: 200 times a child saves two
 * different networks in turn to the same path (as a plain F32 model, as F16
 * with acrnn_model_save_as() and as a checkpoint with an extra tensor with
 * acrnn_model_save_full()) until it is killed; afterwards the path loads
 * and holds exactly one of the two networks. */
#include <acrnn/acrnn.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define KILLS 200

static AcrnnNet *nets[2];
static AcrnnModelInfo info;

static AcrnnNet *make_net(guint64 seed) {
  AcrnnNetConfig cfg;
  acrnn_net_config_init(&cfg);
  cfg.bands = 32;
  cfg.frames = 32;
  cfg.n_classes = 3;
  GError *error = NULL;
  AcrnnNet *net = acrnn_net_new(&cfg, &error);
  g_assert_no_error(error);
  acrnn_net_init_random(net, seed);
  return net;
}

/* The child: saves nets[0], nets[1], nets[0], ... until killed. */
static gboolean save(const char *path, AcrnnNet *net, int how, GError **error) {
  float extra[64] = {0};
  const AcrnnModelTensor velocity = {"optimizer.velocity", extra,
                                     G_N_ELEMENTS(extra)};
  const AcrnnModelMeta meta = {"acrnn-train", "{\"epoch\": 1}"};
  const AcrnnModelExtras extras = {&velocity, 1, &meta, 1};
  return how == 0   ? acrnn_model_save(path, net, &info, error)
         : how == 1 ? acrnn_model_save_as(path, net, &info,
                                          ACRNN_MODEL_DTYPE_F16, error)
                    : acrnn_model_save_full(path, net, &info, &extras, error);
}

/* The child: saves nets[first], the other, nets[first], ... until
 * killed. */
static G_GNUC_NORETURN void save_forever(const char *path, int how, int first) {
  for (guint64 i = (guint64)first;; i++) {
    GError *error = NULL;
    if (!save(path, nets[i & 1], how, &error)) {
      g_printerr("save failed: %s\n", error->message);
      _exit(3);
    }
  }
}

/* Which of the two networks path holds (F16: within half precision). */
static int which_net(const char *path, int how) {
  AcrnnModelInfo got;
  GError *error = NULL;
  AcrnnNet *net = acrnn_model_load(path, &got, &error);
  g_assert_no_error(error);
  g_assert_cmpint(got.n_labels, ==, info.n_labels);
  int found = -1;
  size_t n = acrnn_net_n_params(net);
  for (int k = 0; k < 2 && found < 0; k++) {
    const float *a = acrnn_net_params(nets[k]), *b = acrnn_net_params(net);
    gboolean same = TRUE;
    for (size_t i = 0; same && i < n; i++)
      same = how == 1 ? fabsf(a[i] - b[i]) <= 1e-3f * fabsf(a[i]) + 1e-7f
                      : a[i] == b[i];
    if (same)
      found = k;
  }
  acrnn_net_free(net);
  acrnn_model_info_clear(&got);
  return found;
}

static void kill_loop(int how) {
  /* in memory when possible: the kills, not the disk, set the pace */
  const char *base = g_file_test("/dev/shm", G_FILE_TEST_IS_DIR)
                         ? "/dev/shm"
                         : g_get_tmp_dir();
  char *dir = g_build_filename(base, "acrnn-kill-save-XXXXXX", NULL);
  g_assert_nonnull(g_mkdtemp(dir));
  char *path = g_build_filename(dir, "model.safetensors", NULL);
  GRand *rand = g_rand_new_with_seed(17 + how);
  /* the first complete file */
  GError *error = NULL;
  g_assert_true(save(path, nets[0], how, &error));
  /* how long one save takes, to spread the kills over two saves */
  gint64 t0 = g_get_monotonic_time();
  g_assert_true(save(path, nets[0], how, &error));
  gint64 save_us = MAX(g_get_monotonic_time() - t0, 1000);
  int seen[2] = {0, 0};
  for (int k = 0; k < KILLS; k++) {
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0)
      save_forever(path, how, k & 1);
    g_usleep((gulong)g_rand_int_range(rand, 0, (gint32)(2 * save_us)));
    kill(pid, SIGKILL);
    int status = 0;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    int w = which_net(path, how);
    g_assert_cmpint(w, >=, 0); /* never a half or a mixed file */
    seen[w]++;
  }
  g_test_message("%d kills: the file held network A %d times, B %d times",
                 KILLS, seen[0], seen[1]);
  g_print("# %s: %d kills, 0 corrupt files (A %d, B %d)\n",
          how == 0   ? "save"
          : how == 1 ? "save_as f16"
                     : "save_full",
          KILLS, seen[0], seen[1]);
  /* both outcomes happened: the kills did land during saves */
  g_assert_cmpint(seen[0], >, 0);
  g_assert_cmpint(seen[1], >, 0);
  g_rand_free(rand);
  /* killed saves leave their temporary files behind; nothing else */
  GDir *d = g_dir_open(dir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name(d))) {
    g_assert_true(strcmp(name, "model.safetensors") == 0 ||
                  g_str_has_prefix(name, "model.safetensors.tmp-"));
    char *p = g_build_filename(dir, name, NULL);
    g_unlink(p);
    g_free(p);
  }
  g_dir_close(d);
  g_rmdir(dir);
  g_free(path);
  g_free(dir);
}

static void test_save(void) {
  kill_loop(0);
}
static void test_save_f16(void) {
  kill_loop(1);
}
static void test_save_full(void) {
  kill_loop(2);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  nets[0] = make_net(1);
  nets[1] = make_net(2);
  acrnn_model_info_init(&info);
  info.n_labels = 3;
  info.labels = g_new0(char *, 4);
  info.labels[0] = g_strdup("a");
  info.labels[1] = g_strdup("b");
  info.labels[2] = g_strdup("c");
  info.features.bands = 32;
  info.segment_frames = 32;
  info.segment_hop = 16;
  g_test_add_func("/faults/kill-save/f32", test_save);
  g_test_add_func("/faults/kill-save/f16", test_save_f16);
  g_test_add_func("/faults/kill-save/checkpoint", test_save_full);
  int rc = g_test_run();
  acrnn_model_info_clear(&info);
  acrnn_net_free(nets[0]);
  acrnn_net_free(nets[1]);
  return rc;
}
