/* softmax_xent.c: being written in this session. */
