/* gammatone.c: being written in this session. */
