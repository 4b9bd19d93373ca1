/* output_path.c - is an output file writable? Checked for every output of a
 * command before it starts, so that a missing folder is reported at once,
 * not after the first epoch or at the first checkpoint. */
#include "output_path.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>

#define OUTPUT_ERROR (g_quark_from_static_string("acrnn-train-output-error"))

/* path (named with option in the error) goes into dir: dir exists, is a
 * folder and is writable. */
static gboolean folder_writable(const char *option, const char *path,
                                const char *dir, GError **error) {
  if (!g_file_test(dir, G_FILE_TEST_EXISTS)) {
    g_set_error(error, OUTPUT_ERROR, 1,
                "%s %s: the folder %s does not exist (create it first)", option,
                path, dir);
    return FALSE;
  }
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
    g_set_error(error, OUTPUT_ERROR, 1,
                "%s %s: %s is not a folder, expected the folder to write "
                "into",
                option, path, dir);
    return FALSE;
  }
  if (access(dir, W_OK | X_OK) != 0) {
    int e = errno;
    g_set_error(error, OUTPUT_ERROR, 1,
                "%s %s: cannot write into the folder %s: %s", option, path, dir,
                g_strerror(e));
    return FALSE;
  }
  return TRUE;
}

gboolean tr_output_path_check(const char *option, const char *path,
                              GError **error) {
  if (path == NULL || path[0] == '\0') {
    g_set_error(error, OUTPUT_ERROR, 1, "%s: empty path, expected a file name",
                option);
    return FALSE;
  }
  if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
    g_set_error(error, OUTPUT_ERROR, 1,
                "%s %s: is a folder, expected a file name", option, path);
    return FALSE;
  }
  char *dir = g_path_get_dirname(path);
  gboolean ok = folder_writable(option, path, dir, error);
  g_free(dir);
  return ok;
}

gboolean tr_output_dir_make(const char *option, const char *dir,
                            GError **error) {
  if (dir == NULL || dir[0] == '\0') {
    g_set_error(error, OUTPUT_ERROR, 1,
                "%s: empty path, expected a folder name", option);
    return FALSE;
  }
  if (g_mkdir_with_parents(dir, 0755) != 0) {
    int e = errno;
    g_set_error(error, OUTPUT_ERROR, 1, "%s %s: cannot create the folder: %s",
                option, dir, g_strerror(e));
    return FALSE;
  }
  return folder_writable(option, dir, dir, error); /* it may be read-only */
}
