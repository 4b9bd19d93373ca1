/* commands.h - the subcommands of acrnn-train. Each returns the process
 * exit status; their errors go through reporter.h. */
#ifndef TR_COMMANDS_H
#define TR_COMMANDS_H

#include <glib.h>

int tr_cmd_train(int argc, char **argv);
int tr_cmd_cv(int argc, char **argv);
int tr_cmd_eval(int argc, char **argv);
int tr_cmd_features(int argc, char **argv);
int tr_cmd_export(int argc, char **argv);

#endif
