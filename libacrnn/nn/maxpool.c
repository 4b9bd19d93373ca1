/* maxpool.c: being written in this session. */
