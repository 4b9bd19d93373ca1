/* segments.c: being written in this session. */
