/* temp_file.h - internal: the temporary files of atomic saves.
 *
 * A save of PATH writes PATH.tmp-XXXXXX (six letters or digits, g_mkstemp)
 * in the same folder and renames it over PATH. The saving process holds an
 * exclusive flock() on its temporary file until it is renamed or removed;
 * the kernel releases the lock when the process ends, however it ends
 * (kill -9 included). A file named PATH.tmp-XXXXXX that nobody holds a lock
 * on is therefore a leftover of a killed save, and the next save of PATH
 * removes it.
 */
#ifndef ACRNN_IO_TEMP_FILE_H
#define ACRNN_IO_TEMP_FILE_H

#include <glib.h>

G_BEGIN_DECLS

/* Creates PATH.tmp-XXXXXX for writing, locked; returns its descriptor and
 * stores its name (g_free) in *tmp_path, or returns -1 with errno set. */
int acrnn_temp_file_create(const char *path, char **tmp_path);

/* Removes the leftovers of killed saves of path: the files in its folder
 * named exactly path's name + ".tmp-" + six letters or digits, regular,
 * owned by this user and not locked by a live save. Best effort: a file
 * that cannot be examined is left alone. Returns how many were removed. */
int acrnn_temp_file_remove_stale(const char *path);

G_END_DECLS

#endif
