/* output_path.h - checks, before any work starts, that the files a command
 * will write can be written. */
#ifndef TR_OUTPUT_PATH_H
#define TR_OUTPUT_PATH_H

#include <glib.h>

/* TRUE when path can be created or replaced: its folder exists, is a folder
 * and is writable, and path is not itself a folder. Otherwise an error
 * naming option (e.g. "--out"), path and the problem. */
gboolean tr_output_path_check(const char *option, const char *path,
                              GError **error);

/* Creates the folder dir (and its parents) unless it exists, and checks
 * that files can be written into it; otherwise an error naming option
 * (e.g. "--out-dir"), dir and the problem. */
gboolean tr_output_dir_make(const char *option, const char *dir,
                            GError **error);

#endif
