/* sgd_steps.c - the C side of the training-loss parity test: K steps of
 * the trainer's update (training forward with dropout 0, soft-target
 * cross-entropy, backward, SGD with Nesterov momentum and L2) from a model
 * file, one batch per step, printing the loss of every step.
 *
 *   sgd_steps MODEL INPUT.bin TARGETS.bin BATCH STEPS LR
 *     INPUT.bin: float32 [STEPS*BATCH][2][bands][frames]
 *     TARGETS.bin: float32 [STEPS*BATCH][n_classes]
 *   Prints "step K loss L" per step. */
#include <acrnn/model.h>
#include <acrnn/network.h>
#include <acrnn/sgd.h>
#include <stdio.h>
#include <stdlib.h>

static float *read_floats(const char *path, size_t want) {
  gchar *data = NULL;
  gsize len = 0;
  GError *err = NULL;
  if (!g_file_get_contents(path, &data, &len, &err)) {
    fprintf(stderr, "sgd_steps: %s\n", err->message);
    exit(2);
  }
  if (len != want * sizeof(float)) {
    fprintf(stderr, "sgd_steps: %s has %zu bytes, expected %zu\n", path,
            (size_t)len, want * sizeof(float));
    exit(2);
  }
  return (float *)data;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr,
            "usage: sgd_steps MODEL INPUT.bin TARGETS.bin BATCH STEPS LR\n");
    return 2;
  }
  GError *err = NULL;
  AcrnnModelInfo info;
  AcrnnNet *net = acrnn_model_load(argv[1], &info, &err);
  if (!net) {
    fprintf(stderr, "sgd_steps: %s\n", err->message);
    return 2;
  }
  const int batch = atoi(argv[4]), steps = atoi(argv[5]);
  const float lr = (float)g_ascii_strtod(argv[6], NULL);
  const AcrnnNetConfig *cfg = acrnn_net_config(net);
  const size_t seg = (size_t)2 * cfg->bands * cfg->frames;
  float *x = read_floats(argv[2], seg * batch * steps);
  float *y = read_floats(argv[3], (size_t)cfg->n_classes * batch * steps);
  acrnn_net_set_dropout(net, 0.0f);
  AcrnnSgdParams sp;
  acrnn_sgd_params_init(&sp);
  AcrnnSgd *opt = acrnn_sgd_new(&sp, acrnn_net_n_params(net));
  for (int k = 0; k < steps; k++) {
    acrnn_net_zero_grad(net);
    acrnn_net_forward(net, x + seg * batch * k, batch, TRUE, NULL);
    float loss = acrnn_net_loss(net, y + (size_t)cfg->n_classes * batch * k);
    acrnn_net_backward(net);
    acrnn_sgd_step(opt, acrnn_net_params(net), acrnn_net_grads(net), lr);
    printf("step %d loss %.9g\n", k, loss);
  }
  acrnn_sgd_free(opt);
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
  g_free(x);
  g_free(y);
  return 0;
}
