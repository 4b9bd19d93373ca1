/* network.c: being written in this session. */
