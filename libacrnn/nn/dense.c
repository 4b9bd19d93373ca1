/* dense.c: being written in this session. */
