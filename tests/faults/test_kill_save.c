/* test_kill_save.c - a process killed with SIGKILL at a random moment while
 * it saves models never leaves a half file: 200 times a child saves two
 * different networks in turn to the same path (as a plain F32 model, as F16
 * with acrnn_model_save_as() and as a checkpoint with an extra tensor with
 * acrnn_model_save_full()) until it is killed; afterwards the path loads
 * and holds exactly one of the two networks, and the temporary files of
 * killed saves do not pile up: each save removes those of earlier killed
 * ones, so at most the last kill's is there, and none after the next
 * save. A temporary file a live save holds is never removed. */
#include <acrnn/acrnn.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
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

/* The names in dir that look like temporary files of model.safetensors. */
static int count_temporaries(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  int n = 0;
  const char *name;
  while ((name = g_dir_read_name(d)))
    n += g_str_has_prefix(name, "model.safetensors.tmp-");
  g_dir_close(d);
  return n;
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
  /* how long a child takes from fork() to the end of its first save (its
   * copy-on-write faults included, which can take longer than the save
   * itself), to spread the kills over about two of them */
  gint64 save_us = 1000;
  for (int i = 0; i < 3; i++) {
    gint64 t0 = g_get_monotonic_time();
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0)
      _exit(save(path, nets[0], how, NULL) ? 0 : 3);
    int status = 0;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    save_us = MAX(save_us, g_get_monotonic_time() - t0);
  }
  int seen[2] = {0, 0}, left = 0;
  for (int k = 0; k < KILLS; k++) {
    /* no child has finished a save of B yet: the machine is slower than
     * measured (another load came), so the kills come later */
    if (k % 40 == 39 && seen[1] == 0 && save_us < G_USEC_PER_SEC)
      save_us *= 2;
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
    /* the child's saves removed what earlier kills left */
    int n = count_temporaries(dir);
    g_assert_cmpint(n, <=, 1);
    left += n;
  }
  g_test_message("%d kills: the file held network A %d times, B %d times",
                 KILLS, seen[0], seen[1]);
  g_print("# %s: %d kills, 0 corrupt files (A %d, B %d); a temporary file "
          "left after %d kills, removed by the next save\n",
          how == 0   ? "save"
          : how == 1 ? "save_as f16"
                     : "save_full",
          KILLS, seen[0], seen[1], left);
  /* both outcomes happened: the kills did land during saves */
  g_assert_cmpint(seen[0], >, 0);
  g_assert_cmpint(seen[1], >, 0);
  g_rand_free(rand);
  /* the next save, in this process, leaves the file and nothing else */
  g_assert_true(save(path, nets[0], how, &error));
  GDir *d = g_dir_open(dir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name(d)))
    g_assert_cmpstr(name, ==, "model.safetensors");
  g_dir_close(d);
  g_unlink(path);
  g_rmdir(dir);
  g_free(path);
  g_free(dir);
}

static void touch(const char *dir, const char *name) {
  char *p = g_build_filename(dir, name, NULL);
  g_assert_true(g_file_set_contents(p, "part", -1, NULL));
  g_free(p);
}

static gboolean exists(const char *dir, const char *name) {
  char *p = g_build_filename(dir, name, NULL);
  gboolean e = g_file_test(p, G_FILE_TEST_EXISTS);
  g_free(p);
  return e;
}

/* A save removes the leftovers of its own path, exactly: not a temporary
 * file that a live save holds locked, not other files' temporaries, not
 * names that only look similar. */
static void test_stale_scope(void) {
  char *dir = g_dir_make_tmp("acrnn-stale-XXXXXX", NULL);
  g_assert_nonnull(dir);
  char *path = g_build_filename(dir, "model.safetensors", NULL);
  const char *stale[] = {"model.safetensors.tmp-a1B2c3",
                         "model.safetensors.tmp-ZZZZZZ"};
  const char *kept[] = {
      "model.safetensors.tmp-abc",     "model.safetensors.tmp-abcdefg",
      "model.safetensors.tmp-ab.def",  "other.safetensors.tmp-a1B2c3",
      "xmodel.safetensors.tmp-a1B2c3", "model.safetensors.bak"};
  for (size_t i = 0; i < G_N_ELEMENTS(stale); i++)
    touch(dir, stale[i]);
  for (size_t i = 0; i < G_N_ELEMENTS(kept); i++)
    touch(dir, kept[i]);
  /* a save in progress in another process: its file is locked */
  const char *live = "model.safetensors.tmp-L1v3S4";
  touch(dir, live);
  int ready[2];
  g_assert_cmpint(pipe(ready), ==, 0);
  pid_t pid = fork();
  g_assert_cmpint(pid, >=, 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* not outliving a failed test */
    char *p = g_build_filename(dir, live, NULL);
    int fd = open(p, O_RDWR);
    if (fd < 0 || flock(fd, LOCK_EX) != 0 || write(ready[1], "x", 1) != 1)
      _exit(2);
    for (;;)
      pause();
  }
  char c;
  g_assert_cmpint(read(ready[0], &c, 1), ==, 1);
  GError *error = NULL;
  g_assert_true(acrnn_model_save(path, nets[0], &info, &error));
  g_assert_no_error(error);
  for (size_t i = 0; i < G_N_ELEMENTS(stale); i++)
    g_assert_false(exists(dir, stale[i]));
  for (size_t i = 0; i < G_N_ELEMENTS(kept); i++)
    g_assert_true(exists(dir, kept[i]));
  g_assert_true(exists(dir, live));
  /* once that save is dead, its file is a leftover too */
  kill(pid, SIGKILL);
  g_assert_cmpint(waitpid(pid, NULL, 0), ==, pid);
  g_assert_true(acrnn_model_save(path, nets[1], &info, &error));
  g_assert_false(exists(dir, live));
  g_assert_true(exists(dir, kept[0]));
  close(ready[0]);
  close(ready[1]);
  for (size_t i = 0; i < G_N_ELEMENTS(kept); i++) {
    char *p = g_build_filename(dir, kept[i], NULL);
    g_unlink(p);
    g_free(p);
  }
  g_unlink(path);
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
  g_test_add_func("/faults/kill-save/stale-scope", test_stale_scope);
  int rc = g_test_run();
  acrnn_model_info_clear(&info);
  acrnn_net_free(nets[0]);
  acrnn_net_free(nets[1]);
  return rc;
}
