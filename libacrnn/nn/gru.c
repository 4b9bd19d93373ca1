/* gru.c: being written in this session. */
