/* relu.c: being written in this session. */
