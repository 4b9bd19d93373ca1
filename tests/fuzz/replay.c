/* replay.c - runs a fuzz target on files without libFuzzer: every file
 * given, and every file inside each directory given (the seed corpus and
 * the inputs that once crashed). Built with any compiler, so the meson
 * suite 'fuzz' replays the corpora in every build, sanitizers included. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int cmp_str(gconstpointer a, gconstpointer b) {
  return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

static void collect(const char *path, GPtrArray *files) {
  GDir *d = g_dir_open(path, 0, NULL);
  if (!d) {
    g_ptr_array_add(files, g_strdup(path));
    return;
  }
  const char *name;
  while ((name = g_dir_read_name(d)))
    if (name[0] != '.') {
      char *child = g_build_filename(path, name, NULL);
      collect(child, files);
      g_free(child);
    }
  g_dir_close(d);
}

int main(int argc, char **argv) {
  if (LLVMFuzzerInitialize)
    LLVMFuzzerInitialize(&argc, &argv);
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
    return 2;
  }
  GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
  for (int i = 1; i < argc; i++)
    collect(argv[i], files);
  g_ptr_array_sort(files, cmp_str);
  for (guint i = 0; i < files->len; i++) {
    const char *f = g_ptr_array_index(files, i);
    char *data = NULL;
    gsize size = 0;
    GError *error = NULL;
    if (!g_file_get_contents(f, &data, &size, &error)) {
      fprintf(stderr, "%s\n", error->message);
      return 1;
    }
    printf("%s (%zu bytes)\n", f, (size_t)size);
    fflush(stdout);
    LLVMFuzzerTestOneInput((const uint8_t *)data, size);
    g_free(data);
  }
  printf("%u inputs ran\n", files->len);
  int ok = files->len > 0;
  g_ptr_array_unref(files);
  return ok ? 0 : 1;
}
