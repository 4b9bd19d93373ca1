/* dropout.c: being written in this session. */
