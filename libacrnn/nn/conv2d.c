/* conv2d.c: being written in this session. */
