/* debug_fault.c - the hidden --debug-fault KIND of the tests (tests/faults,
 * tests/mpi): SIGKILL or a failing step before step --debug-fault-step, or
 * a perturbed weight after its update, on rank --debug-fault-rank. */
#include "dist.h"
#include "train_run.h"
#include <signal.h>

#define FAULT_ERROR (g_quark_from_static_string("acrnn-train-error"))

gboolean tr_run_fault(TrRun *r, TrFaultPoint point, GError **error) {
  const TrFault *f = &r->c->fault;
  /* the step about to run (or just updated) is steps_run + 1 */
  if (f->kind == TR_FAULT_NONE || tr_dist_rank() != f->rank ||
      r->steps_run + 1 != f->step)
    return TRUE;
  if (point == TR_FAULT_BEFORE_STEP && f->kind == TR_FAULT_KILL)
    raise(SIGKILL);
  if (point == TR_FAULT_BEFORE_STEP && f->kind == TR_FAULT_ERROR) {
    g_set_error(error, FAULT_ERROR, 1,
                "epoch %d step %d: simulated failure (--debug-fault error)",
                r->st.epoch + 1, r->st.step + 1);
    return FALSE;
  }
  if (point == TR_FAULT_AFTER_UPDATE && f->kind == TR_FAULT_DESYNC)
    acrnn_net_params(r->net)[0] += 1e-3f;
  return TRUE;
}
