/* temp_file.c - the temporary files of atomic saves and the removal of
 * those that killed saves left (see temp_file.h). */
#include "temp_file.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEMP_SUFFIX ".tmp-"
#define TEMP_RANDOM 6 /* the XXXXXX of g_mkstemp() */

int acrnn_temp_file_create(const char *path, char **tmp_path) {
  /* A save that removes leftovers may lock a new file between its creation
   * and our lock, and remove it: then the file has no link left and we
   * start again with a new name. */
  for (int attempt = 0; attempt < 8; attempt++) {
    char *tmp = g_strconcat(path, TEMP_SUFFIX "XXXXXX", NULL);
    int fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0666);
    if (fd < 0) {
      int err = errno;
      g_free(tmp);
      errno = err;
      return -1;
    }
    /* without flock() support (some network file systems) nobody can lock
     * and nothing is removed as stale: still correct */
    while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
      ;
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_nlink == 0) {
      close(fd);
      g_free(tmp);
      continue;
    }
    *tmp_path = tmp;
    return fd;
  }
  errno = EEXIST;
  return -1;
}

/* Whether name is base + ".tmp-" + six letters or digits. */
static gboolean is_temp_name(const char *name, const char *base) {
  size_t n = strlen(base);
  if (strncmp(name, base, n) != 0 ||
      strncmp(name + n, TEMP_SUFFIX, strlen(TEMP_SUFFIX)) != 0)
    return FALSE;
  const char *x = name + n + strlen(TEMP_SUFFIX);
  for (int i = 0; i < TEMP_RANDOM; i++)
    if (!g_ascii_isalnum(x[i]))
      return FALSE;
  return x[TEMP_RANDOM] == '\0';
}

/* Removes p when it is a regular file of ours that nobody has locked. */
static gboolean remove_if_stale(const char *p) {
  int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return FALSE;
  gboolean removed = FALSE;
  struct stat st, now;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
      flock(fd, LOCK_EX | LOCK_NB) == 0 && lstat(p, &now) == 0 &&
      now.st_dev == st.st_dev && now.st_ino == st.st_ino)
    removed = unlink(p) == 0;
  close(fd); /* drops the lock */
  return removed;
}

int acrnn_temp_file_remove_stale(const char *path) {
  char *dir = g_path_get_dirname(path);
  char *base = g_path_get_basename(path);
  int removed = 0;
  GDir *d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d))) {
    if (!is_temp_name(name, base))
      continue;
    char *p = g_build_filename(dir, name, NULL);
    removed += remove_if_stale(p);
    g_free(p);
  }
  if (d)
    g_dir_close(d);
  g_free(base);
  g_free(dir);
  return removed;
}
