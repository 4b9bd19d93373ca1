/* main.c - acrnn-train: trains, cross-validates, evaluates and exports
 * ACRNN models and precomputes feature caches; dispatches to the
 * subcommands. */
#include "commands.h"
#include "dist.h"
#include "plot.h"
#include <glib.h>
#include <gst/gst.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: acrnn-train COMMAND [OPTION...]\n"
    "\n"
    "Trains the ACRNN environmental sound classifier (Zhang et al.) as the\n"
    "paper does, on an ESC-50 style dataset or one folder per class.\n"
    "\n"
    "Commands:\n"
    "  train     train one model (--data DIR --out model.safetensors)\n"
    "  cv        k-fold cross-validation: one model per held-out fold,\n"
    "            per-fold and mean accuracy +- std\n"
    "  eval      accuracy, per-class precision/recall/F1 and confusion\n"
    "            matrix (CSV, PNG, JSON) of a model on a dataset\n"
    "  features  precompute the feature cache of a dataset\n"
    "  export    rewrite a model or checkpoint as a model file in F32, F16\n"
    "            or BF16 (--model IN --out OUT --dtype f16: half the size)\n"
    "\n"
    "Run 'acrnn-train COMMAND --help' for the options of a command.\n"
    "Under mpirun or srun, train and cv run data-parallel over the ranks\n"
    "(see 'acrnn-train train --help').\n";

/* The commands; parallel: run by every rank under MPI (the others run on
 * rank 0 alone). */
static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  gboolean parallel;
} commands[] = {
    {"train", tr_cmd_train, TRUE},    {"cv", tr_cmd_cv, TRUE},
    {"eval", tr_cmd_eval, FALSE},     {"features", tr_cmd_features, FALSE},
    {"export", tr_cmd_export, FALSE},
};

int main(int argc, char **argv) {
  setlocale(LC_ALL, "");
  setlocale(LC_NUMERIC, "C");
  if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
      strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0 ||
      strcmp(argv[1], "--help-all") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("acrnn-train %s\n", TR_VERSION);
    return 0;
  }
  tr_dist_init(&argc, &argv);
  gst_init(NULL, NULL);
  char *prgname = g_strdup_printf("acrnn-train %s", argv[1]);
  g_set_prgname(prgname);
  g_free(prgname);
  int rc = 2;
  gboolean found = FALSE;
  for (size_t i = 0; i < G_N_ELEMENTS(commands) && !found; i++) {
    if (strcmp(argv[1], commands[i].name) != 0)
      continue;
    found = TRUE;
    if (!commands[i].parallel && tr_dist_rank() != 0)
      rc = 0; /* eval, features and export run once, on rank 0 */
    else
      rc = commands[i].run(argc - 1, argv + 1);
  }
  if (!found)
    fprintf(stderr,
            "acrnn-train: unknown command \"%s\" (expected train, cv, eval, "
            "features or export)\n\n%s",
            argv[1], usage);
  gst_deinit();
  tr_plot_shutdown();
  tr_dist_finalize();
  return rc;
}
