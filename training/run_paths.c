/* run_paths.c - the files of a training run, named after --out unless
 * --checkpoint, --log or --plot say otherwise. */
#include "trainer.h"
#include <string.h>

void tr_run_paths_init(TrRunPaths *p, const char *out, const TrOptions *o) {
  char *stem = g_str_has_suffix(out, ".safetensors")
                   ? g_strndup(out, strlen(out) - strlen(".safetensors"))
                   : g_strdup(out);
  p->model = g_strdup(out);
  p->last = g_strconcat(stem, ".last.safetensors", NULL);
  p->checkpoint = o && o->checkpoint
                      ? g_strdup(o->checkpoint)
                      : g_strconcat(stem, ".ckpt.safetensors", NULL);
  p->log =
      o && o->log ? g_strdup(o->log) : g_strconcat(stem, ".log.jsonl", NULL);
  p->plot =
      o && o->plot ? g_strdup(o->plot) : g_strconcat(stem, ".curves.png", NULL);
  g_free(stem);
}

void tr_run_paths_clear(TrRunPaths *p) {
  g_clear_pointer(&p->model, g_free);
  g_clear_pointer(&p->last, g_free);
  g_clear_pointer(&p->checkpoint, g_free);
  g_clear_pointer(&p->log, g_free);
  g_clear_pointer(&p->plot, g_free);
}
