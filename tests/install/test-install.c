/* test-install.c - installs the current build into a temporary folder
 * (meson install --destdir) and uses only the installed files: the plugin
 * through GST_PLUGIN_PATH and a fresh registry, the library through the
 * installed RUNPATH alone (no LD_LIBRARY_PATH, no build tree: the folder is a
 * custom prefix moved elsewhere), gst-inspect-1.0 of the three elements (with
 * their documentation), a gst-launch-1.0 pipeline classifying a generated clip
 * with a test model, a small program compiled with the installed pkg-config
 * file and headers, and acrnn-train.
 *
 * Environment (tests/install/meson.build): ACRNN_BUILD_ROOT, ACRNN_MESON,
 * ACRNN_PREFIX, ACRNN_LIBDIR, ACRNN_INCLUDEDIR, ACRNN_BINDIR,
 * ACRNN_DATADIR (meson's options), ACRNN_HAVE_MODEL (1 when the bundled
 * model exists and must be installed), ACRNN_SANITIZE, CC. */
#include "gst-test-util.h"

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <string.h>
#include <sys/wait.h>

static char *tmpdir, *model, *clip;
static char *root; /* destdir + prefix */
static char *libdir, *plugindir, *includedir, *bindir, *datadir;

/* ---- running installed programs ---- */

typedef struct {
  int status;
  char *out, *err;
} Spawned;

static void spawned_free(Spawned *s) {
  g_free(s->out);
  g_free(s->err);
  g_free(s);
}

/* Runs argv (under `timeout`) in an environment that knows only the
 * installed files: no build tree, no acrnn variables, no LD_LIBRARY_PATH
 * (the installed plugin and acrnn-train find libacrnn by their RUNPATH). */
static Spawned *spawn_installed(const char *const *argv) {
  char **envp = g_get_environ();
  const char *drop[] = {
      "GST_PLUGIN_PATH",   "GST_PLUGIN_PATH_1_0", "LD_LIBRARY_PATH",
      "ACRNN_MODEL",       "ACRNN_BUILD_DIR",     "ACRNN_BUILD_ROOT",
      "ACRNN_SOURCE_ROOT", "PKG_CONFIG_PATH",     "GST_REGISTRY"};
  for (size_t i = 0; i < G_N_ELEMENTS(drop); i++)
    envp = g_environ_unsetenv(envp, drop[i]);
  char *registry = g_build_filename(tmpdir, "registry.bin", NULL);
  char *pcdir = g_build_filename(libdir, "pkgconfig", NULL);
  envp = g_environ_setenv(envp, "GST_PLUGIN_PATH", plugindir, TRUE);
  envp = g_environ_setenv(envp, "GST_REGISTRY", registry, TRUE);
  envp = g_environ_setenv(envp, "PKG_CONFIG_PATH", pcdir, TRUE);
  envp = g_environ_setenv(envp, "GST_DEBUG", "*:1", TRUE);
  g_free(registry);
  g_free(pcdir);

  GPtrArray *args = g_ptr_array_new();
  const char *pre[] = {"timeout", "-k", "5", "40"};
  for (size_t i = 0; i < G_N_ELEMENTS(pre); i++)
    g_ptr_array_add(args, (char *)pre[i]);
  for (size_t i = 0; argv[i] != NULL; i++)
    g_ptr_array_add(args, (char *)argv[i]);
  g_ptr_array_add(args, NULL);
  Spawned *s = g_new0(Spawned, 1);
  GError *error = NULL;
  int wait_status = 0;
  gboolean ok =
      g_spawn_sync(tmpdir, (char **)args->pdata, envp, G_SPAWN_SEARCH_PATH,
                   NULL, NULL, &s->out, &s->err, &wait_status, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  g_ptr_array_free(args, TRUE);
  g_strfreev(envp);
  s->status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  char *cmd = g_strjoinv(" ", (char **)argv);
  g_test_message("%s: exit status %d\nstdout:\n%s\nstderr:\n%s", cmd, s->status,
                 s->out, s->err);
  g_free(cmd);
  g_assert_cmpint(s->status, !=, 124); /* timed out */
  return s;
}

static char *under(const char *dir, const char *name) {
  return g_build_filename(dir, name, NULL);
}

/* ---- the tests ---- */

static void assert_file(const char *path) {
  if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
    g_error("not installed: %s", path);
}

/* No RUNPATH/RPATH pointing into the build tree. */
static void assert_no_build_rpath(const char *path) {
  const char *argv[] = {"readelf", "-d", path, NULL};
  Spawned *s = spawn_installed(argv);
  g_assert_cmpint(s->status, ==, 0);
  char **lines = g_strsplit(s->out, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    if (strstr(*l, "PATH)") != NULL)
      g_assert_null(strstr(*l, g_getenv("ACRNN_BUILD_ROOT")));
  g_strfreev(lines);
  spawned_free(s);
}

/* The RUNPATH of an installed binary: relative to the binary ($ORIGIN), so
 * that the destdir copy, like any custom prefix, finds libacrnn. */
static void assert_origin_rpath(const char *path) {
  const char *argv[] = {"readelf", "-d", path, NULL};
  Spawned *s = spawn_installed(argv);
  g_assert_cmpint(s->status, ==, 0);
  g_assert_true(
      g_regex_match_simple("\\((RUNPATH|RPATH)\\).*\\$ORIGIN", s->out, 0, 0));
  spawned_free(s);
}

static void test_files(void) {
  char *lib = under(libdir, "libacrnn.so");
  char *plugin = under(plugindir, "libgstacrnn.so");
  char *pc = g_build_filename(libdir, "pkgconfig", "acrnn.pc", NULL);
  char *train = under(bindir, "acrnn-train");
  assert_file(lib);
  assert_file(plugin);
  assert_file(pc);
  assert_file(train);
  const char *headers[] = {"acrnn.h", "features.h", "network.h", "model.h",
                           "rng.h",   "sgd.h",      "augment.h", "transfer.h"};
  for (size_t i = 0; i < G_N_ELEMENTS(headers); i++) {
    char *h = g_build_filename(includedir, "acrnn", headers[i], NULL);
    assert_file(h);
    g_free(h);
  }
  char *bundled =
      g_build_filename(datadir, "acrnn", "esc50-acrnn.safetensors", NULL);
  if (g_strcmp0(g_getenv("ACRNN_HAVE_MODEL"), "1") == 0)
    assert_file(bundled);
  else
    g_test_message("models/esc50-acrnn.safetensors is not in the source tree "
                   "(yet): not checking that it is installed");
  assert_no_build_rpath(lib);
  assert_no_build_rpath(plugin);
  assert_no_build_rpath(train);
  assert_origin_rpath(plugin);
  assert_origin_rpath(train);
  g_free(bundled);
  g_free(lib);
  g_free(plugin);
  g_free(pc);
  g_free(train);
}

/* gst-inspect-1.0 finds each element in the installed plugin, with a long
 * description that shows an example pipeline and a documented property
 * (blurb, and range/default when it has them) for each property. */
static void test_gst_inspect(void) {
  const char *elements[] = {"gammatonespec", "acrnnclassify", "soundclassifier",
                            "soundanalyzer"};
  char *plugin = under(plugindir, "libgstacrnn.so");
  for (size_t i = 0; i < G_N_ELEMENTS(elements); i++) {
    const char *argv[] = {"gst-inspect-1.0", elements[i], NULL};
    Spawned *s = spawn_installed(argv);
    g_assert_cmpint(s->status, ==, 0);
    char *filename = g_strdup_printf("Filename                 %s", plugin);
    g_assert_nonnull(strstr(s->out, filename));
    g_free(filename);
    char **lines = g_strsplit(s->out, "\n", -1);
    gboolean described = FALSE, in_props = FALSE;
    guint props = 0;
    for (guint l = 0; lines[l] != NULL; l++) {
      const char *line = lines[l];
      if (g_str_has_prefix(line, "  Description ") &&
          strstr(line, "gst-launch-1.0 ") != NULL && strlen(line) > 200)
        described = TRUE;
      if (g_str_has_prefix(line, "Element Properties:")) {
        in_props = TRUE;
        continue;
      }
      if (!in_props || strlen(line) < 24 || line[2] == ' ' || line[22] != ':')
        continue;
      /* "  name                : blurb" */
      char *name = g_strstrip(g_strndup(line + 2, 20));
      if (strcmp(name, "name") != 0 && strcmp(name, "parent") != 0) {
        props++;
        g_assert_cmpuint(strlen(line + 24), >=, 25); /* a real blurb */
        g_assert_nonnull(lines[l + 1]);
        g_assert_nonnull(strstr(lines[l + 1], "flags:"));
        g_assert_nonnull(lines[l + 2]);
        const char *type = lines[l + 2];
        if (strstr(type, "Boxed") == NULL)
          g_assert_nonnull(strstr(type, "Default:"));
        if (strstr(type, "Integer") != NULL || strstr(type, "Double") != NULL)
          g_assert_nonnull(strstr(type, "Range:"));
      }
      g_free(name);
    }
    g_assert_true(described);
    g_assert_cmpuint(props, >=, 6);
    g_strfreev(lines);
    spawned_free(s);
  }
  g_free(plugin);
}

/* gst-launch-1.0 -m with the installed plugin classifies a clip, spelled
 * out (gammatonespec ! acrnnclassify) and through soundclassifier. */
static void test_pipeline(void) {
  const char *variants[] = {
      "audioconvert ! audioresample ! "
      "audio/x-raw,format=F32LE,channels=1,rate=44100 ! gammatonespec "
      "bands=32 ! acrnnclassify batch=4",
      "soundclassifier",
  };
  for (size_t v = 0; v < G_N_ELEMENTS(variants); v++) {
    char *desc = g_strdup_printf(
        "gst-launch-1.0 -m filesrc location=\"%s\" ! decodebin ! %s "
        "model=\"%s\" ! fakesink sync=false",
        clip, variants[v], model);
    char **argv = NULL;
    GError *error = NULL;
    g_shell_parse_argv(desc, NULL, &argv, &error);
    g_assert_no_error(error);
    Spawned *s = spawn_installed((const char *const *)argv);
    g_assert_cmpint(s->status, ==, 0);
    /* 3 s: 4 segments (3 whole, then the last 128 frames) and the final */
    guint segments = 0, finals = 0;
    char **lines = g_strsplit(s->out, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
      if (strstr(*l, "(element): acrnn, ") == NULL)
        continue;
      g_assert_true(g_regex_match_simple(
          "label=\\(string\\)(dog|rain|siren), class-id=\\(int\\)[012], "
          "confidence=\\(double\\)0\\.[0-9]+",
          *l, 0, 0));
      if (strstr(*l, "final=(boolean)true") != NULL)
        finals++;
      else
        segments++;
    }
    g_assert_cmpuint(segments, ==, 4);
    g_assert_cmpuint(finals, ==, 1);
    g_strfreev(lines);
    spawned_free(s);
    g_strfreev(argv);
    g_free(desc);
  }
}

/* A program built with `cc $(pkg-config --cflags --libs acrnn)` against the
 * installed headers and library loads the test model. */
static void test_pkg_config(void) {
  const char *source =
      "/* uses the installed acrnn */\n"
      "#include <acrnn/acrnn.h>\n"
      "#include <stdio.h>\n"
      "int main(int argc, char **argv) {\n"
      "  GError *error = NULL;\n"
      "  AcrnnModelInfo info;\n"
      "  AcrnnNet *net = acrnn_model_load(argv[1], &info, &error);\n"
      "  if (net == NULL) {\n"
      "    fprintf(stderr, \"%s\\n\", error->message);\n"
      "    return 1;\n"
      "  }\n"
      "  printf(\"%d labels, first %s, %d bands\\n\", info.n_labels,\n"
      "         info.labels[0], info.features.bands);\n"
      "  acrnn_net_free(net);\n"
      "  acrnn_model_info_clear(&info);\n"
      "  return argc == 2 ? 0 : 2;\n"
      "}\n";
  char *c = under(tmpdir, "tiny.c"), *exe = under(tmpdir, "tiny");
  GError *error = NULL;
  g_file_set_contents(c, source, -1, &error);
  g_assert_no_error(error);

  /* The installed acrnn.pc names the prefix once (prefix=...), everything
   * else is relative to it: a copy whose prefix is the destdir copy's is
   * what an installation into that folder has. */
  char *pc = g_build_filename(libdir, "pkgconfig", "acrnn.pc", NULL);
  char *text = NULL;
  g_file_get_contents(pc, &text, NULL, &error);
  g_assert_no_error(error);
  char *prefix_line = g_strdup_printf("prefix=%s\n", g_getenv("ACRNN_PREFIX"));
  g_assert_true(g_str_has_prefix(text, prefix_line));
  g_assert_null(strstr(text + strlen(prefix_line), g_getenv("ACRNN_PREFIX")));
  char *moved =
      g_strdup_printf("prefix=%s\n%s", root, text + strlen(prefix_line));
  char *pcdir = under(tmpdir, "pkgconfig");
  char *pc_copy = under(pcdir, "acrnn.pc");
  g_mkdir(pcdir, 0755);
  g_file_set_contents(pc_copy, moved, -1, &error);
  g_assert_no_error(error);

  char *script = g_strdup_printf(
      "export PKG_CONFIG_PATH=\"%s\"; pkg-config --cflags --libs acrnn && "
      "$CC -std=gnu11 -Wall -Wextra -Werror -o \"%s\" \"%s\" "
      "$(pkg-config --cflags --libs acrnn) -Wl,-rpath,\"%s\"",
      pcdir, exe, c, libdir);
  const char *cc_argv[] = {"sh", "-c", script, NULL};
  Spawned *s = spawn_installed(cc_argv);
  g_assert_cmpint(s->status, ==, 0);
  char *inc = g_strdup_printf("-I%s ", includedir);
  g_assert_nonnull(strstr(s->out, inc));
  g_assert_nonnull(strstr(s->out, "-lacrnn"));
  g_free(inc);
  spawned_free(s);

  const char *run_argv[] = {exe, model, NULL};
  s = spawn_installed(run_argv);
  g_assert_cmpint(s->status, ==, 0);
  g_assert_cmpstr(s->out, ==, "3 labels, first dog, 32 bands\n");
  spawned_free(s);

  g_free(script);
  g_free(pc);
  g_free(text);
  g_free(prefix_line);
  g_free(moved);
  g_free(pcdir);
  g_free(pc_copy);
  g_free(c);
  g_free(exe);
}

static void test_trainer(void) {
  char *train = under(bindir, "acrnn-train");
  const char *argv[] = {train, "--help", NULL};
  Spawned *s = spawn_installed(argv);
  g_assert_cmpint(s->status, ==, 0);
  g_assert_nonnull(strstr(s->out, "acrnn-train"));
  spawned_free(s);
  g_free(train);
}

/* ---- setup ---- */

static void skip_sanitized(void) {
  g_test_skip("a sanitized build: the installed plugin cannot be loaded by "
              "the uninstrumented gst-launch-1.0");
}

static void rm_rf(const char *dir) {
  const char *argv[] = {"rm", "-rf", dir, NULL};
  g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
               NULL, NULL, NULL);
}

/* meson install --destdir of the build tree. */
static void install(const char *destdir) {
  const char *argv[] = {g_getenv("ACRNN_MESON"),
                        "install",
                        "-C",
                        g_getenv("ACRNN_BUILD_ROOT"),
                        "--no-rebuild",
                        "--quiet",
                        "--destdir",
                        destdir,
                        NULL};
  char *out = NULL, *err = NULL;
  int wait_status = 0;
  GError *error = NULL;
  g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
               &err, &wait_status, &error);
  g_assert_no_error(error);
  if (!g_spawn_check_wait_status(wait_status, NULL))
    g_error("meson install failed:\n%s\n%s", out, err);
  g_free(out);
  g_free(err);
}

/* <destdir><prefix>/<option>, option relative to the prefix or absolute */
static char *installed_dir(const char *option) {
  const char *v = g_getenv(option);
  g_assert_nonnull(v);
  if (g_path_is_absolute(v))
    return g_build_filename(tmpdir, "destdir", v, NULL);
  return g_build_filename(root, v, NULL);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  const char *sanitize = g_getenv("ACRNN_SANITIZE");
  if (sanitize != NULL && sanitize[0] != '\0' &&
      strcmp(sanitize, "none") != 0) {
    g_test_add_func("/install/all", skip_sanitized);
    g_test_run();
    return 77; /* meson: skipped */
  }
  gst_init(&argc, &argv);
  tmpdir = test_tmpdir();
  char *destdir = under(tmpdir, "destdir");
  install(destdir);
  root = g_build_filename(destdir, g_getenv("ACRNN_PREFIX"), NULL);
  libdir = installed_dir("ACRNN_LIBDIR");
  plugindir = g_build_filename(libdir, "gstreamer-1.0", NULL);
  includedir = installed_dir("ACRNN_INCLUDEDIR");
  bindir = installed_dir("ACRNN_BINDIR");
  datadir = installed_dir("ACRNN_DATADIR");

  model = test_make_model(tmpdir, "model.safetensors", 32, 5);
  clip = under(tmpdir, "clip.wav");
  char *make = g_strdup_printf(
      "audiotestsrc num-buffers=30 samplesperbuffer=4410 wave=pink-noise ! "
      "audio/x-raw,format=S16LE,rate=44100,channels=1 ! wavenc ! "
      "filesink location=\"%s\"",
      clip);
  TestRun *run = test_run_pipeline(make, 30, 0);
  g_assert_no_error(run->error);
  g_assert_true(run->eos);
  test_run_free(run);
  g_free(make);

  g_test_add_func("/install/files", test_files);
  g_test_add_func("/install/gst-inspect", test_gst_inspect);
  g_test_add_func("/install/pipeline", test_pipeline);
  g_test_add_func("/install/pkg-config", test_pkg_config);
  g_test_add_func("/install/acrnn-train", test_trainer);
  int ret = g_test_run();

  rm_rf(tmpdir);
  g_free(destdir);
  g_free(root);
  g_free(libdir);
  g_free(plugindir);
  g_free(includedir);
  g_free(bindir);
  g_free(datadir);
  g_free(model);
  g_free(clip);
  g_free(tmpdir);
  gst_deinit();
  return ret;
}
