/* train_test_util.h - what the acrnn-train tests share: a test program's
 * setup (the acrnn-train to test, a scratch folder, a synthetic dataset)
 * and teardown, running acrnn-train with the tiny network's options, and
 * reading back what it writes (JSON files, logs, model metadata, weights).
 * A failed step fails the test at once (g_assert). */
#ifndef TRAIN_TEST_UTIL_H
#define TRAIN_TEST_UTIL_H

#include "synth_dataset.h"
#include <acrnn/acrnn.h>
#include <json-glib/json-glib.h>

/* g_test_init, then the acrnn-train to test (synth_train_exe) and a new
 * scratch folder acrnn-NAME-XXXXXX; FALSE (after a usage message naming
 * NAME) when no acrnn-train is given. */
gboolean tt_init(int *argc, char ***argv, const char *name);

/* The acrnn-train to test. */
const char *tt_exe(void);

/* The scratch folder. */
const char *tt_tmp(void);

/* NAME in the scratch folder (g_free). */
char *tt_path(const char *name);

/* Writes synth_folder_dataset into the scratch folder's NAME; returns its
 * path and, when folds_csv is not NULL, its folds.csv (both freed by
 * tt_run_tests). */
const char *tt_folder_dataset(const char *name, int per_class, int n_folds,
                              const char **folds_csv);

/* Writes synth_esc50_dataset into the scratch folder's NAME; returns its
 * path (freed by tt_run_tests). */
const char *tt_esc50_dataset(const char *name, int per_class, int n_folds);

/* g_test_run; then removes the scratch folder if every test passed, and
 * frees what tt_init and the datasets made. Returns g_test_run's status. */
int tt_run_tests(void);

/* Which of synth_fast_options go on a command line. */
typedef enum {
  TT_FAST,        /* all (eval takes only --quiet and --no-cache) */
  TT_FAST_CACHED, /* all but --no-cache */
  TT_NO_FAST,     /* none */
} TtFast;

/* acrnn-train CMD, the fast options, the arguments of a and those of b
 * (NULL-ended lists; either may be NULL). g_strfreev. */
char **tt_argv(const char *cmd, TtFast fast, const char *const *a,
               const char *const *b);

/* Runs tt_argv's command line; returns the exit status, and stdout and
 * stderr when out and err are not NULL (g_free). */
int tt_run(const char *cmd, TtFast fast, const char *const *a,
           const char *const *b, char **out, char **err);

/* tt_run that must succeed: a status other than 0 prints the command's
 * output and fails the test. */
void tt_run_ok(const char *cmd, TtFast fast, const char *const *a,
               const char *const *b, char **out, char **err);

/* Replaces every from in the text file path with to; fails the test when
 * the file cannot be read or written. */
void tt_file_replace(const char *path, const char *from, const char *to);

/* The root object of the JSON file path (json_object_unref); NULL when the
 * file cannot be read or holds no JSON object. */
JsonObject *tt_json_file(const char *path);

/* The lines of the log path (a JSON object a line; g_strfreev); fails the
 * test when the file cannot be read. */
char **tt_log_lines(const char *path);

/* The "acrnn" metadata object of the model file path (json_object_unref);
 * fails the test when the file has none. */
JsonObject *tt_model_acrnn(const char *path);

/* The bytes of the file path; fails the test when it cannot be read. */
GBytes *tt_file_bytes(const char *path);

/* Loads the model file path; fails the test when it cannot. */
AcrnnNet *tt_load(const char *path, AcrnnModelInfo *info);

/* TRUE when the models a and b hold bit-identical parameters, buffers and
 * normalisation. */
gboolean tt_same_weights(const char *a, const char *b);

/* A test's way of running acrnn-train with its own base options, writing
 * to out, plus extra (NULL-ended); returns the exit status and stderr. */
typedef int (*TtRunFn)(const char *out, const char *const *extra, char **err);

/* run with OPTION VALUE added must refuse them: exit 1, message in its
 * stderr, and nothing written where its --out points. */
void tt_expect_refused(TtRunFn run, const char *option, const char *value,
                       const char *message);

#endif
